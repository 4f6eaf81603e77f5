"""Reading and verifying the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cms_desktop.domain.permissions import Permission
from cms_desktop.services.access import any_role, no_actor, requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit, repositories
from cms_desktop.sync import audit_heads


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    user_login: str
    action: str
    target_type: str
    target_id: str


@dataclass(frozen=True)
class AuditReport:
    ok: bool
    message: str


@requires(Permission.AUDIT_READ)
def recent(ws: Workspace, actor: Actor, limit: int = 200) -> list[AuditLine]:
    actor.require(Permission.AUDIT_READ)
    with ws.store.read() as session:
        return [
            AuditLine(e.at, e.user_login, e.action, e.target_type, e.target_id)
            for e in repositories.audit_entries(session, limit)
        ]


@no_actor("the chain's integrity, no entry content: check and the CLI")
def verify(ws: Workspace) -> AuditReport:
    """Check every chain; the message names the first bad entry (station, number, id)."""
    with ws.store.read() as session:
        problem = audit.verify(session)
        witnessed = audit_heads.check(session) if problem is None else None
    if witnessed is not None:
        return AuditReport(False, _witness_message(witnessed))
    if problem is None:
        return AuditReport(True, "Journal d'audit intact.")
    reasons = {
        "altered": "a été modifiée",
        "missing": "est manquante",
        "broken_chain": "ne suit pas l'entrée précédente (chaîne rompue)",
    }
    ident = f" (id {problem.entry_id})" if problem.entry_id else ""
    number = f"n° {problem.seq} " if problem.seq else ""
    return AuditReport(
        False,
        f"Journal d'audit altéré : l'entrée {number}du poste {problem.station_id}{ident} "
        f"{reasons.get(problem.reason, problem.reason)}.",
    )


def _witness_message(found: audit_heads.HeadMismatch) -> str:
    """A rewrite the local chain hides but a peer's signed head shows (ids only)."""
    if found.reason == "forged_head":
        return (
            f"Journal d'audit altéré : la tête de chaîne n° {found.seq} du poste {found.origin} "
            f"attribuée au poste « {found.witness_name} » porte une signature invalide."
        )
    ident = f" (id {found.entry_id})" if found.entry_id else ""
    bound = (
        f" (au plus tard la n° {found.latest_possible})"
        if found.seq != found.latest_possible
        else ""
    )
    return (
        f"Journal d'audit altéré : l'entrée n° {found.seq} du poste {found.origin}{ident}{bound} "
        f"diffère de celle que le poste « {found.witness_name} » a reçue et signée : le journal "
        "a été réécrit sur l'un des deux postes."
    )


@any_role("an account records its own action (screen locked, print cancelled)")
def record(
    ws: Workspace,
    actor: Actor,
    action: str,
    target_type: str = "",
    target_id: str = "",
    details: dict[str, str] | None = None,
) -> None:
    with ws.store.write() as session:
        audit.append(
            session,
            ws.store.station_id,
            action,
            user_id=actor.user_id,
            user_login=actor.login,
            target_type=target_type,
            target_id=target_id,
            details=details,
        )
