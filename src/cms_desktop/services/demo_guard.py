"""Demo safety: `--demo`, `scripts/demo` and the `demo` command only ever open a centre
that was created as the demo centre, whatever the data directory points at.

The mark is in the encrypted database (``centre.is_demo``). Reading it needs the key: the
demo administrator's slot opens with the published demo password, which a real centre's
slots do not (and if one did, its database still says it is not a demo).
"""

from __future__ import annotations

from sqlalchemy import select

from cms_desktop.services.demo_accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.services.key_rotation import candidate_keys
from cms_desktop.services.workspace import load_slots, open_store
from cms_desktop.storage import keyslots
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.engine import opens_with
from cms_desktop.storage.models import Centre


class NotADemoCentre(ValidationFailed):
    """The data directory holds a centre that was not created as the demo."""


def _refusal(data_dir: DataDir) -> NotADemoCentre:
    return NotADemoCentre(
        f"Le dossier {data_dir.path} contient un centre qui n'a pas été créé en démonstration : "
        "le mode démonstration ne l'ouvre pas. Lancez la démonstration avec un autre dossier "
        "(--data-dir ou CMS_DATA_DIR), ou ouvrez ce centre sans --demo."
    )


def is_demo_centre(data_dir: DataDir) -> bool:
    """True when the directory's centre was created as the demo centre (marked so in its
    database); False for any other centre, or an unreadable one."""
    try:
        slots = load_slots(data_dir)
        keys = candidate_keys(slots, DEMO_ACCOUNTS[0].login, DEMO_PASSWORD)
    except (ValidationFailed, keyslots.BadCredentials):
        return False
    except Exception:
        return False
    # After a disabling in the demo, the file may be under an older or the newest key.
    key = next((k for k in keys if opens_with(data_dir.database, k)), keys[0])
    store = open_store(data_dir, key, slots.centre_id)
    try:
        with store.read() as session:
            return bool(session.scalars(select(Centre.is_demo)).first())
    finally:
        store.close()


def ensure_demo_centre(data_dir: DataDir) -> None:
    """Raise NotADemoCentre (French message) unless the directory is empty or a demo."""
    if data_dir.initialised and not is_demo_centre(data_dir):
        raise _refusal(data_dir)
