"""The appointments of the day and week views read as views in one columns-only query, the
patients' names joined: building ORM objects cost more than the query for hundreds of rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from cms_desktop.domain.agenda.waiting_room import VisitStatus
from cms_desktop.services.agenda.common import (
    AppointmentView,
    TypeInfo,
    core,
    practitioner_names,
    room_names,
    to_local,
    type_infos,
)
from cms_desktop.storage.models import Appointment, Patient

# The columns of an AppointmentView, with the patient's name columns (outer join).
_VIEW_COLUMNS = (
    Appointment.id,
    Appointment.practitioner_id,
    Appointment.room_id,
    Appointment.patient_id,
    Appointment.type_code,
    Appointment.start_at,
    Appointment.end_at,
    Appointment.reason,
    Appointment.note,
    Appointment.status,
    Appointment.arrived_at,
    Appointment.called_at,
    Appointment.seen_at,
    Appointment.cancel_reason,
    Appointment.provisional,
    Appointment.series_id,
    Patient.birth_name,
    Patient.used_name,
    Patient.first_given_name,
    Patient.used_given_name,
)


def _views_statement(by: str) -> Select[*tuple[Any, ...]]:
    column = Appointment.practitioner_id if by == "practitioner" else Appointment.room_id
    return (
        select(*_VIEW_COLUMNS)
        .outerjoin(Patient, Patient.id == Appointment.patient_id)
        .where(
            Appointment.deleted.is_(False),
            Appointment.start_at >= bindparam("start"),
            Appointment.start_at < bindparam("end"),
            column.in_(bindparam("ids", expanding=True)),
        )
        .order_by(Appointment.start_at)
    )


_VIEWS = {by: _views_statement(by) for by in ("practitioner", "room")}


def appointment_views(
    session: Session,
    start_utc: datetime,
    end_utc: datetime,
    *,
    practitioner_ids: Sequence[str] | None = None,
    room_ids: Sequence[str] | None = None,
) -> list[AppointmentView]:
    """Views of the non-deleted appointments starting in [start, end) of these practitioners
    or rooms, by start time (cancelled ones included).

    One columns-only query with the patients' names joined: the screens that show hundreds
    of appointments spend most of their time building ORM objects otherwise.
    """
    if practitioner_ids is not None:
        by, ids = "practitioner", list(practitioner_ids)
        if room_ids is not None:
            wanted_rooms = set(room_ids)
    elif room_ids is not None:
        by, ids = "room", list(room_ids)
    else:
        raise ValueError("practitioner_ids or room_ids is needed")
    rows = core(session, _VIEWS[by], {"start": start_utc, "end": end_utc, "ids": ids})
    practitioners_ = practitioner_names(session)
    rooms = room_names(session)
    types = type_infos(session)
    views: list[AppointmentView] = []
    for (
        aid,
        pid,
        rid,
        patient_id,
        type_code,
        start_at,
        end_at,
        reason,
        note,
        status,
        arrived_at,
        called_at,
        seen_at,
        cancel_reason,
        provisional,
        series_id,
        birth,
        used,
        first,
        used_given,
    ) in rows:
        if practitioner_ids is not None and room_ids is not None and rid not in wanted_rooms:
            continue
        info = types.get(type_code) or TypeInfo(type_code, type_code, 15, "#999999")
        views.append(
            AppointmentView(
                id=aid,
                practitioner_id=pid,
                practitioner_name=practitioners_.get(pid, ""),
                room_id=rid,
                room_name=rooms.get(rid or "", ""),
                patient_id=patient_id,
                patient_name=(
                    f"{(used or birth).upper()} {used_given or first}".strip()
                    if patient_id and birth is not None
                    else ""
                ),
                type_code=type_code,
                type_label=info.label,
                colour=info.colour,
                start=to_local(start_at),
                end=to_local(end_at),
                reason=reason,
                note=note,
                status=VisitStatus(status),
                arrived_at=_local_or_none(arrived_at),
                called_at=_local_or_none(called_at),
                seen_at=_local_or_none(seen_at),
                cancel_reason=cancel_reason,
                provisional=provisional,
                series_id=series_id,
            )
        )
    return views


def _local_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else to_local(moment)
