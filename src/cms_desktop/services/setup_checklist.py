"""What a new centre still lacks to work, shown on the administrator's home until done:
rooms, a practitioner with consulting ranges, a printer tested, a second workstation, and
backups to a folder the administrator chose (a USB drive, a network share: the default
folder beside the data directory is on the same disk) with a good one in the last 48 h.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from cms_desktop.domain.paris_time import paris_today
from cms_desktop.domain.permissions import Permission
from cms_desktop.printing.test_page import render_test_page
from cms_desktop.services import backups
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.printing_common import centre_info
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit
from cms_desktop.storage.models import (
    AuditEntry,
    Practitioner,
    PractitionerRange,
    Room,
    SyncStation,
)

PRINTER_TESTED = "printer_tested"


@dataclass(frozen=True)
class ChecklistItem:
    """One step of the set-up; `target` names the screen that does it."""

    key: str
    label: str
    hint: str
    done: bool
    target: str
    available: bool = True


def _count(session: Session, query: Select[str]) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


@requires(Permission.SETTINGS_MANAGE)
def checklist(ws: Workspace, actor: Actor) -> list[ChecklistItem]:
    actor.require(Permission.SETTINGS_MANAGE)
    with ws.store.read() as session:
        rooms = _count(
            session, select(Room.id).where(Room.deleted.is_(False), Room.active.is_(True))
        )
        with_ranges = _count(
            session,
            select(Practitioner.id)
            .join(PractitionerRange, PractitionerRange.practitioner_id == Practitioner.id)
            .where(
                Practitioner.deleted.is_(False),
                Practitioner.active.is_(True),
                PractitionerRange.deleted.is_(False),
            ),
        )
        printed = _count(session, select(AuditEntry.id).where(AuditEntry.action == PRINTER_TESTED))
        stations = _count(
            session,
            select(SyncStation.id).where(
                SyncStation.deleted.is_(False),
                SyncStation.revoked.is_(False),
                SyncStation.id != ws.store.station_id,
            ),
        )
    return [
        ChecklistItem(
            "rooms",
            "Créer les salles",
            "Les rendez-vous au centre se prennent dans une salle.",
            rooms > 0,
            "rooms",
        ),
        ChecklistItem(
            "practitioner",
            "Créer un praticien et ses plages de consultation",
            "Un compte de soignant (avec son RPPS) puis ses plages : l'accueil peut réserver.",
            with_ranges > 0,
            "practitioners",
        ),
        ChecklistItem(
            "printer",
            "Tester l'imprimante",
            "Imprimez une page de test sur l'imprimante des ordonnances.",
            printed > 0,
            "printer",
        ),
        ChecklistItem(
            "station",
            "Appairer un deuxième poste",
            "Les autres postes (accueil, cabinets) reçoivent les données du centre.",
            stations > 0,
            "sync",
        ),
        ChecklistItem(
            "backup",
            "Choisir où sauvegarder",
            "Un dossier sur une clé USB ou un partage réseau, puis une première sauvegarde "
            "vérifiée (Administration › Sauvegardes).",
            _backups_in_place(ws),
            "backups",
        ),
    ]


def _backups_in_place(ws: Workspace) -> bool:
    """A folder other than the default one is chosen, and a good backup under 48 h old was
    written to one of the chosen folders."""
    default = Path(backups.default_target(ws.data_dir)).resolve()
    chosen = {Path(t).resolve() for t in backups.load_schedule(ws).targets} - {default}
    status = backups.last_good_backup(ws)
    if status.last_good_at is None or status.overdue or not status.last_good_file:
        return False
    return Path(status.last_good_file).resolve().parent in chosen


@requires(Permission.SETTINGS_MANAGE)
def printer_test_page(ws: Workspace, actor: Actor, station_name: str) -> bytes:
    """The test page as PDF bytes (in memory only)."""
    actor.require(Permission.SETTINGS_MANAGE)
    with ws.store.read() as session:
        centre = centre_info(session)
    return render_test_page(centre, station_name, paris_today())


@requires(Permission.SETTINGS_MANAGE)
def record_printer_test(ws: Workspace, actor: Actor) -> None:
    """The test page went to a printer: noted in the audit trail (which replicates)."""
    actor.require(Permission.SETTINGS_MANAGE)
    with ws.store.write() as session:
        audit.append(
            session,
            ws.store.station_id,
            PRINTER_TESTED,
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="station",
            target_id=ws.store.station_id,
        )
