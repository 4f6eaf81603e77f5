"""The director's journal: the whole audit trail in French, searched by patient, user,
action and period, page by page, and exported as CSV or PDF (bytes in memory, saved only
where the director chooses).

« Who opened this record? » is the patient filter: entries whose target is the patient (or
a record merged into it), or whose details name it (prints, synthesis entries…). The
director may see who the patient is; the trail itself keeps ids only.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cms_desktop.domain.audit_labels import ACTION_LABELS, action_label, target_label
from cms_desktop.domain.identity import agreed
from cms_desktop.domain.paris_time import PARIS, in_paris, paris_text
from cms_desktop.domain.permissions import Permission
from cms_desktop.printing.dto import PrintingError
from cms_desktop.printing.journal import JournalDoc, JournalRow, render_journal
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.services.printing_common import centre_info
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit
from cms_desktop.storage.models import Appointment, AuditEntry, Consultation, Patient, User
from cms_desktop.storage.patient_links import patient_group_ids

__all__ = [
    "PAGE_SIZE",
    "JournalLine",
    "JournalPage",
    "JournalQuery",
    "action_choices",
    "export_csv",
    "export_pdf",
    "search",
    "user_choices",
]

PAGE_SIZE = 100


@dataclass(frozen=True)
class JournalQuery:
    patient_id: str | None = None
    user_login: str | None = None
    action: str | None = None
    since: date | None = None  # Paris days, both included
    until: date | None = None


@dataclass(frozen=True)
class JournalLine:
    at: datetime
    user_login: str
    user_name: str
    action: str
    action_label: str
    target: str  # « DUPONT Jean (né le 05/03/1980) », « Ordonnance 01a2b3c4 »…
    patient_id: str | None


@dataclass(frozen=True)
class JournalPage:
    lines: tuple[JournalLine, ...]
    total: int
    offset: int


def _paris_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=PARIS)


def _filtered(session: Session, query: JournalQuery):  # type: ignore[no-untyped-def]
    statement = select(AuditEntry)
    if query.patient_id:
        ids = patient_group_ids(session, query.patient_id)
        # Entries about the patient, naming it in their details, or aimed at one of its
        # notes or appointments (those entries carry the note's id only).
        owned = [
            *session.scalars(select(Consultation.id).where(Consultation.patient_id.in_(ids))),
            *session.scalars(select(Appointment.id).where(Appointment.patient_id.in_(ids))),
        ]
        statement = statement.where(
            or_(
                AuditEntry.target_id.in_([*ids, *owned]),
                *(AuditEntry.details.contains(f'"{pid}"') for pid in ids),
            )
        )
    if query.user_login:
        statement = statement.where(AuditEntry.user_login == query.user_login)
    if query.action:
        statement = statement.where(AuditEntry.action == query.action)
    if query.since:
        statement = statement.where(AuditEntry.at >= _paris_start(query.since))
    if query.until:
        statement = statement.where(AuditEntry.at < _paris_start(query.until + timedelta(days=1)))
    return statement


def _patient_of(entry: AuditEntry, owners: dict[str, str]) -> str | None:
    if entry.target_type == "patient":
        return entry.target_id
    if entry.target_id in owners:
        return owners[entry.target_id]
    try:
        details = json.loads(entry.details or "{}")
    except ValueError:
        return None
    value = details.get("patient_id") if isinstance(details, dict) else None
    return str(value) if value else None


def _born(patient: Patient) -> str:
    word = agreed(patient.sex, "né", "née", "né·e")
    return f"{word} le {patient.birth_date:%d/%m/%Y}"


def _lines(session: Session, entries: list[AuditEntry]) -> tuple[JournalLine, ...]:
    users = session.execute(select(User.id, User.login, User.full_name)).all()
    names = {login: name for _, login, name in users}
    accounts = {user_id: f"{name} ({login})" for user_id, login, name in users}
    targets = {e.target_id for e in entries if e.target_type in ("consultation", "appointment")}
    owners = {
        row_id: patient_id
        for model in (Consultation, Appointment)
        for row_id, patient_id in session.execute(
            select(model.id, model.patient_id).where(model.id.in_(targets))
        )
        if patient_id
    }
    patient_ids = {pid for e in entries if (pid := _patient_of(e, owners))}
    patients = {
        p.id: p for p in session.scalars(select(Patient).where(Patient.id.in_(patient_ids)))
    }
    lines = []
    for entry in entries:
        pid = _patient_of(entry, owners)
        patient = patients.get(pid) if pid else None
        if patient is not None:
            target = _patient_text(patient)
            if entry.target_type and entry.target_type != "patient":
                target = f"{target_label(entry.target_type)} — {target}"
        elif entry.target_type == "user" and entry.target_id in accounts:
            target = f"{target_label('user')} {accounts[entry.target_id]}"
        elif entry.target_type:
            # Ids are time-ordered (UUIDv7): their first characters are the same for
            # everything made the same day, the last ones tell the objects apart.
            target = f"{target_label(entry.target_type)} {entry.target_id[-8:]}".strip()
        else:
            target = ""
        lines.append(
            JournalLine(
                entry.at,
                entry.user_login,
                names.get(entry.user_login, ""),
                entry.action,
                action_label(entry.action),
                target,
                pid,
            )
        )
    return tuple(lines)


@requires(Permission.AUDIT_READ)
def search(
    ws: Workspace, actor: Actor, query: JournalQuery, offset: int = 0, limit: int = PAGE_SIZE
) -> JournalPage:
    """One page of the matching entries, newest first, and how many match in all."""
    actor.require(Permission.AUDIT_READ)
    with ws.store.read() as session:
        statement = _filtered(session, query)
        total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        entries = list(
            session.scalars(
                statement.order_by(AuditEntry.at.desc(), AuditEntry.seq.desc())
                .offset(max(0, offset))
                .limit(limit)
            )
        )
        return JournalPage(_lines(session, entries), int(total), max(0, offset))


@requires(Permission.AUDIT_READ)
def user_choices(ws: Workspace, actor: Actor) -> list[tuple[str, str]]:
    """(login, « Nom (login) ») of everyone in the trail or with an account."""
    actor.require(Permission.AUDIT_READ)
    with ws.store.read() as session:
        names = {login: name for login, name in session.execute(select(User.login, User.full_name))}
        logins = set(session.scalars(select(AuditEntry.user_login).distinct())) | set(names)
    return sorted(
        (
            (login, f"{names[login]} ({login})" if login in names else login)
            for login in logins
            if login
        ),
        key=lambda c: c[1].lower(),
    )


def action_choices() -> list[tuple[str, str]]:
    """(code, French label) of the known actions, by label."""
    return sorted(ACTION_LABELS.items(), key=lambda c: c[1].lower())


def _patient_text(patient: Patient) -> str:
    given = patient.used_given_name or patient.first_given_name
    return f"{(patient.used_name or patient.birth_name).upper()} {given} ({_born(patient)})"


def _filter_texts(session: Session, query: JournalQuery) -> tuple[str, ...]:
    """The filters as the director set them on screen, in words."""
    texts = []
    if query.patient_id:
        patient = session.get(Patient, query.patient_id)
        texts.append(f"Patient : {_patient_text(patient) if patient else query.patient_id[:8]}")
    if query.user_login:
        name = session.scalar(select(User.full_name).where(User.login == query.user_login))
        texts.append(
            f"Utilisateur : {name} ({query.user_login})"
            if name
            else f"Utilisateur : {query.user_login}"
        )
    if query.action:
        texts.append(f"Action : {action_label(query.action)}")
    return tuple(texts)


def _period_text(query: JournalQuery) -> str:
    if query.since and query.until:
        return f"du {query.since:%d/%m/%Y} au {query.until:%d/%m/%Y}"
    if query.since:
        return f"depuis le {query.since:%d/%m/%Y}"
    if query.until:
        return f"jusqu'au {query.until:%d/%m/%Y}"
    return "toute la période"


def _export(
    ws: Workspace, actor: Actor, query: JournalQuery, kind: str
) -> tuple[tuple[JournalLine, ...], tuple[str, ...]]:
    """Every matching line and the filters in words; the export itself is audited."""
    with ws.store.write() as session:
        entries = list(
            session.scalars(
                _filtered(session, query).order_by(AuditEntry.at.desc(), AuditEntry.seq.desc())
            )
        )
        lines = _lines(session, entries)
        filters = _filter_texts(session, query)
        audit.append(
            session,
            ws.store.station_id,
            "audit_exported",
            user_id=actor.user_id,
            user_login=actor.login,
            target_type="patient" if query.patient_id else "",
            target_id=query.patient_id or "",
            details={"count": len(lines), "format": kind},
        )
    return lines, filters


@requires(Permission.AUDIT_READ)
def export_csv(ws: Workspace, actor: Actor, query: JournalQuery) -> str:
    """Every matching line as CSV (semicolons, for a French spreadsheet); audited."""
    actor.require(Permission.AUDIT_READ)
    lines, _filters = _export(ws, actor, query, "csv")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Date", "Utilisateur", "Identifiant", "Action", "Objet"])
    for line in lines:
        writer.writerow(
            [paris_text(line.at), line.user_name, line.user_login, line.action_label, line.target]
        )
    return out.getvalue()


@requires(Permission.AUDIT_READ)
def export_pdf(ws: Workspace, actor: Actor, query: JournalQuery) -> bytes:
    """Every matching line as a paged PDF (bytes in memory: never a temporary file); audited.

    The header of every page names the centre, the period, the filters and when it was made.
    """
    actor.require(Permission.AUDIT_READ)
    with ws.store.read() as session:
        centre = centre_info(session)
    lines, filters = _export(ws, actor, query, "pdf")
    rows = tuple(
        JournalRow(
            paris_text(line.at),
            f"{line.user_name} ({line.user_login})" if line.user_name else line.user_login,
            line.action_label,
            line.target,
        )
        for line in lines
    )
    made_at = in_paris(datetime.now(PARIS))
    try:
        return render_journal(centre, JournalDoc(_period_text(query), filters, made_at, rows))
    except PrintingError as exc:
        raise ValidationFailed(str(exc)) from exc
