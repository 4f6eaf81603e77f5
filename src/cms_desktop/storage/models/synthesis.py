"""The fiche de synthèse: one row per entry, replicated per field.

Two workstations editing different entries never touch the same row, so they never
conflict; ending an entry is a status change or a tombstone, never a physical delete.
Column names are the field names of the matching ``domain.synthesis`` dataclass.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms_desktop.domain.permissions import DataKind
from cms_desktop.storage.models.base import Base, Replicated


class _PatientEntry:
    patient_id: Mapped[str] = mapped_column(String(36), ForeignKey("patients.id"))
    author_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id"), nullable=True)


class HistoryRow(_PatientEntry, Replicated, Base):
    __tablename__ = "synthesis_history"
    __data_kind__: ClassVar[DataKind] = DataKind.CLINICAL
    __table_args__ = (Index("ix_synthesis_history_patient", "patient_id"),)

    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(16), default="")
    on_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class AllergyRow(_PatientEntry, Replicated, Base):
    __tablename__ = "synthesis_allergies"
    __data_kind__: ClassVar[DataKind] = DataKind.CLINICAL
    __table_args__ = (Index("ix_synthesis_allergies_patient", "patient_id"),)

    substance: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    reaction: Mapped[str] = mapped_column(String(200), default="")
    severity: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16), default="active")
    note: Mapped[str] = mapped_column(Text, default="")


class AllergyStatementRow(_PatientEntry, Replicated, Base):
    """A clinician stated « Aucune allergie connue » for the patient (``author_id``, on
    ``stated_on``); withdrawn by a tombstone. Without one, allergies are « non renseignées »."""

    __tablename__ = "synthesis_allergy_statements"
    __data_kind__: ClassVar[DataKind] = DataKind.CLINICAL
    __table_args__ = (Index("ix_synthesis_allergy_statements_patient", "patient_id"),)

    stated_on: Mapped[date] = mapped_column(Date)


class TreatmentRow(_PatientEntry, Replicated, Base):
    __tablename__ = "synthesis_treatments"
    __data_kind__: ClassVar[DataKind] = DataKind.CLINICAL
    __table_args__ = (Index("ix_synthesis_treatments_patient", "patient_id"),)

    medicine: Mapped[str] = mapped_column(String(200))
    dosage: Mapped[str] = mapped_column(String(200), default="")
    started_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    prescriber: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class VaccinationRow(_PatientEntry, Replicated, Base):
    __tablename__ = "synthesis_vaccinations"
    __data_kind__: ClassVar[DataKind] = DataKind.CLINICAL
    __table_args__ = (Index("ix_synthesis_vaccinations_patient", "patient_id"),)

    vaccine: Mapped[str] = mapped_column(String(200))
    given_on: Mapped[date] = mapped_column(Date)
    lot: Mapped[str] = mapped_column(String(50), default="")
    dose: Mapped[str] = mapped_column(String(50), default="")
    given_by: Mapped[str] = mapped_column(String(200), default="")


class RiskFactorRow(_PatientEntry, Replicated, Base):
    __tablename__ = "synthesis_risk_factors"
    __data_kind__: ClassVar[DataKind] = DataKind.CLINICAL
    __table_args__ = (Index("ix_synthesis_risk_factors_patient", "patient_id"),)

    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(50), default="")
    pack_years: Mapped[float | None] = mapped_column(Float, nullable=True)
    units_per_week: Mapped[float | None] = mapped_column(Float, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class ScreeningRow(_PatientEntry, Replicated, Base):
    __tablename__ = "synthesis_screenings"
    __data_kind__: ClassVar[DataKind] = DataKind.CLINICAL
    __table_args__ = (Index("ix_synthesis_screenings_patient", "patient_id"),)

    programme: Mapped[str] = mapped_column(String(16))
    done_on: Mapped[date] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String(200), default="")


class ProblemRow(_PatientEntry, Replicated, Base):
    __tablename__ = "synthesis_problems"
    __data_kind__: ClassVar[DataKind] = DataKind.CLINICAL
    __table_args__ = (Index("ix_synthesis_problems_patient", "patient_id"),)

    label: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(16), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    since: Mapped[date | None] = mapped_column(Date, nullable=True)
