"""Clinical fields encrypted under the clinical key (#17), for the clinical services.

Writers seal each clinical text field (and the vitals, as one JSON object) of a row before
it is stored; readers open them in memory into the frozen DTOs they return, never into the
ORM rows (a plaintext written back to a row would be stored). Rows written before the
clinical key are plaintext and read as they are. Empty texts stay empty: they say nothing
a ciphertext's length would not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cms_desktop.domain.permissions import Permission
from cms_desktop.services.access import internal, requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import clinical_crypto, clinical_grants
from cms_desktop.storage.clinical_crypto import ClinicalKey, ClinicalKeyMissing, TamperedField

ASK_FOR_KEY = (
    "le médecin directeur ou un soignant qui la détient vous la transmet à votre poste "
    "(bouton « Recevoir la clé du dossier médical » en haut de votre fenêtre)"
)
NO_CLINICAL_KEY = (
    "La clé du dossier médical n'a pas encore été transmise à votre compte : " + ASK_FOR_KEY + "."
)
TAMPERED_TEXT = (
    "[texte illisible : il a été modifié en dehors du logiciel ; prévenez le médecin directeur]"
)


TAMPERED_DOCUMENT = (
    "Ce document chiffré a été modifié en dehors du logiciel et ne peut pas être ouvert ; "
    "prévenez le médecin directeur."
)


class ClinicalKeyUnavailable(ValidationFailed):
    """This session holds no clinical key able to read or write the content (French)."""

    def __init__(self, epoch: int | None = None) -> None:
        if epoch is None:
            super().__init__(NO_CLINICAL_KEY)
        else:
            super().__init__(
                f"Ce contenu est chiffré avec une clé du dossier médical (génération {epoch}) "
                f"que votre compte n'a pas encore reçue : {ASK_FOR_KEY}."
            )


@internal("writers of clinical content seal their own rows after their own checks")
def writing_key(ws: Workspace) -> ClinicalKey:
    """The key new clinical content is written under, or the French refusal."""
    key = ws.clinical_writing_key
    if key is None:
        raise ClinicalKeyUnavailable()
    return key


def seal_text(key: ClinicalKey, table: str, row_id: str, field: str, text: str) -> str:
    return clinical_crypto.encrypt_field(key, table, row_id, field, text) if text else text


def seal_json(key: ClinicalKey, table: str, row_id: str, field: str, value: object) -> str:
    return clinical_crypto.encrypt_json(key, table, row_id, field, value)


def open_text(
    keys: Mapping[str, ClinicalKey], table: str, row_id: str, field: str, stored: str | None
) -> str:
    """The plaintext; ClinicalKeyUnavailable if the key is not held; a French placeholder
    for a ciphertext altered outside the application (the record still opens)."""
    if not stored:
        return ""
    try:
        return clinical_crypto.decrypt_field(keys, table, row_id, field, stored)
    except ClinicalKeyMissing as exc:
        raise ClinicalKeyUnavailable(exc.epoch) from None
    except TamperedField:
        return TAMPERED_TEXT


def open_json(
    keys: Mapping[str, ClinicalKey], table: str, row_id: str, field: str, stored: str | None
) -> Any:
    """The decoded JSON value, None if empty or altered (see ``open_text``)."""
    if not stored:
        return None
    try:
        return clinical_crypto.decrypt_json(keys, table, row_id, field, stored)
    except ClinicalKeyMissing as exc:
        raise ClinicalKeyUnavailable(exc.epoch) from None
    except TamperedField:
        return None


def open_bytes(
    keys: Mapping[str, ClinicalKey], table: str, row_id: str, field: str, stored: bytes
) -> bytes:
    """Stored bytes (a prescription's PDF) in clear; ClinicalKeyUnavailable, or
    ValidationFailed naming the alteration (a PDF cannot carry a placeholder text)."""
    try:
        return clinical_crypto.decrypt_bytes(keys, table, row_id, field, stored)
    except ClinicalKeyMissing as exc:
        raise ClinicalKeyUnavailable(exc.epoch) from None
    except TamperedField:
        raise ValidationFailed(TAMPERED_DOCUMENT) from None


# Tables whose change (a sync merge, an account made here) may mean an account now waits
# for the clinical key, or a grant arrived for the session: the main window then calls
# ``refresh_clinical_access``.
CLINICAL_ACCESS_TABLES = frozenset({"agreement_keys", "clinical_key_grants", "users"})


@dataclass(frozen=True)
class AccessRefresh:
    gained: bool  # this session now holds a key it did not (granted meanwhile)
    granted_to: tuple[str, ...]  # logins this session has just granted the key to

    @property
    def message(self) -> str:
        """The status-bar sentence (French), empty when nothing happened."""
        parts = []
        if self.gained:
            parts.append("La clé du dossier médical a été transmise à votre compte.")
        if self.granted_to:
            who = ", ".join(f"« {login} »" for login in self.granted_to)
            parts.append(f"Clé du dossier médical transmise à : {who}.")
        return " ".join(parts)


@requires(Permission.CLINICAL_READ)
def refresh_clinical_access(ws: Workspace, actor: Actor) -> AccessRefresh:
    """After a sync brought accounts or grants: open the grants that arrived for this
    session, and grant the held keys to clinical accounts still waiting (as at login)."""
    actor.require(Permission.CLINICAL_READ)
    sender = ws.clinical_sender
    if sender is None:
        return AccessRefresh(False, ())
    with ws.store.write() as session:
        access = clinical_grants.open_grants(
            session, actor.login, sender.key_id, sender.private, ws.clinical_trust
        )
        for key_id in ws.clinical_trusted:  # an epoch made by this session is held already
            access.take(ws.clinical_keys[key_id], True)
        gained = bool(access.trusted - ws.clinical_trusted)
        epoch, granted = clinical_grants.take_keys(
            session, ws.store.station_id, access, sender, actor.login, actor.user_id
        )
    ws.take_access(access, epoch)
    return AccessRefresh(gained, tuple(granted))
