"""Agenda tables: centre hours, closures, practitioners and their ranges, absences,
appointment types, appointments (with the waiting-room times) and the médecin-traitant
waiting list. Times of day are stored as "HH:MM" text (Europe/Paris wall clock); instants
are UTC datetimes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms_desktop.domain.permissions import DataKind
from cms_desktop.storage.models.base import Base, Replicated


class AgendaSettings(Replicated, Base):
    """The centre's opening hours (one row, with a fixed id so stations agree on it)."""

    __tablename__ = "agenda_settings"
    __data_kind__: ClassVar[DataKind] = DataKind.SETTINGS

    # {"0": [["09:00", "12:40"], ["13:40", "19:00"]], …} keyed by weekday (Monday = 0).
    hours_json: Mapped[str] = mapped_column(Text, default="{}")
    # Ranks of the Saturdays of the month the centre opens, e.g. "1,2,3"; "" = every one.
    saturday_ranks: Mapped[str] = mapped_column(String(20), default="")
    # "metropole", "alsace-moselle" or an overseas department number ("971"…"976").
    holiday_zone: Mapped[str] = mapped_column(String(20), default="metropole")
    slot_step_minutes: Mapped[int] = mapped_column(Integer, default=5)


class AgendaClosure(Replicated, Base):
    __tablename__ = "agenda_closures"
    __data_kind__: ClassVar[DataKind] = DataKind.SETTINGS

    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(200))


class Practitioner(Replicated, Base):
    """Someone who can be booked: a staff account, or a visiting practitioner without one."""

    __tablename__ = "practitioners"
    __data_kind__: ClassVar[DataKind] = DataKind.AGENDA

    user_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id"), nullable=True)
    full_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(20), default="")
    profession: Mapped[str] = mapped_column(String(100), default="")
    specialty: Mapped[str] = mapped_column(String(100), default="")
    rpps: Mapped[str] = mapped_column(String(11), default="")
    colour: Mapped[str] = mapped_column(String(7), default="#4f81bd")
    visiting: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class PractitionerRange(Replicated, Base):
    """A consulting range: weekday, hours, room, validity and the day pattern."""

    __tablename__ = "practitioner_ranges"
    __data_kind__: ClassVar[DataKind] = DataKind.AGENDA
    __table_args__ = (Index("ix_practitioner_ranges_practitioner", "practitioner_id"),)

    practitioner_id: Mapped[str] = mapped_column(String(36), ForeignKey("practitioners.id"))
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[str] = mapped_column(String(5))
    end_time: Mapped[str] = mapped_column(String(5))
    room_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("rooms.id"), nullable=True)
    # "weekly", "nth_of_month" (with nth: 1..5 or -1) or "every_n_weeks" (interval + anchor).
    pattern: Mapped[str] = mapped_column(String(20), default="weekly")
    nth: Mapped[int | None] = mapped_column(Integer, nullable=True)
    interval_weeks: Mapped[int | None] = mapped_column(Integer, nullable=True)
    anchor: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    own_hours: Mapped[bool] = mapped_column(Boolean, default=False)


class PractitionerAbsence(Replicated, Base):
    __tablename__ = "practitioner_absences"
    __data_kind__: ClassVar[DataKind] = DataKind.AGENDA
    __table_args__ = (Index("ix_practitioner_absences_practitioner", "practitioner_id"),)

    practitioner_id: Mapped[str] = mapped_column(String(36), ForeignKey("practitioners.id"))
    start_at: Mapped[datetime] = mapped_column()
    end_at: Mapped[datetime] = mapped_column()
    reason: Mapped[str] = mapped_column(String(200), default="")


class AppointmentTypeRow(Replicated, Base):
    """An appointment type: a built-in one (`code` is the domain's stable code, its rules are
    fixed by it) or one the centre added (a generated code; its rules are these columns)."""

    __tablename__ = "appointment_types"
    __data_kind__: ClassVar[DataKind] = DataKind.SETTINGS

    code: Mapped[str] = mapped_column(String(32), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    default_minutes: Mapped[int] = mapped_column(Integer)
    colour: Mapped[str] = mapped_column(String(7))
    released_same_day: Mapped[bool] = mapped_column(Boolean, default=False)
    home_visit: Mapped[bool] = mapped_column(Boolean, default=False)
    blocks_time: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    needs_room: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    in_centre_hours: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    in_practitioner_ranges: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    reception_books: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")


class Appointment(Replicated, Base):
    """A booking; the note is administrative only (reception reads it): no clinical content."""

    __tablename__ = "appointments"
    __data_kind__: ClassVar[DataKind] = DataKind.AGENDA
    __table_args__ = (
        Index("ix_appointments_practitioner_start", "practitioner_id", "start_at"),
        Index("ix_appointments_room_start", "room_id", "start_at"),
        Index("ix_appointments_patient_start", "patient_id", "start_at"),
        Index("ix_appointments_start", "start_at"),
    )

    practitioner_id: Mapped[str] = mapped_column(String(36), ForeignKey("practitioners.id"))
    room_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("rooms.id"), nullable=True)
    patient_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("patients.id"), nullable=True
    )
    type_code: Mapped[str] = mapped_column(String(32))
    start_at: Mapped[datetime] = mapped_column()
    end_at: Mapped[datetime] = mapped_column()
    reason: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="booked")
    booked_at: Mapped[datetime] = mapped_column()
    booked_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    arrived_at: Mapped[datetime | None] = mapped_column(nullable=True)
    called_at: Mapped[datetime | None] = mapped_column(nullable=True)
    seen_at: Mapped[datetime | None] = mapped_column(nullable=True)
    no_show_at: Mapped[datetime | None] = mapped_column(nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    cancel_reason: Mapped[str] = mapped_column(String(200), default="")
    # Booked while this station was cut off from the others: checked again after the merge.
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    series_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)


class WaitingListEntry(Replicated, Base):
    """A resident looking for a médecin traitant, until converted into a patient."""

    __tablename__ = "waiting_list"
    __data_kind__: ClassVar[DataKind] = DataKind.AGENDA
    __table_args__ = (Index("ix_waiting_list_status", "status", "priority"),)

    family_name: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    phone: Mapped[str] = mapped_column(String(20), default="")
    registered_on: Mapped[date] = mapped_column(Date)
    # 1 = most urgent (ALD, pregnancy, newborn, elderly without GP), 3 = ordinary.
    priority: Mapped[int] = mapped_column(Integer, default=3)
    status: Mapped[str] = mapped_column(String(20), default="waiting")
    note: Mapped[str] = mapped_column(String(300), default="")
    converted_patient_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("patients.id"), nullable=True
    )
    # Already a patient of the centre (seen for other care), registered from the file;
    # no foreign key so that the column could be added without rebuilding the table.
    patient_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # Calls or letters to offer a médecin traitant, and the day of the last one.
    contact_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_contact_on: Mapped[date | None] = mapped_column(Date, nullable=True)
