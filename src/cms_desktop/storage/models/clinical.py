"""Clinical content: consultation drafts (editable) and signed consultations (insert-only).

A signed consultation is never updated nor deleted: a correction is a new signed row whose
``amends_id`` points at the one it corrects, and both are shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms_desktop.domain.permissions import DataKind
from cms_desktop.storage.models.base import Base, InsertOnly, Replicated


class _ConsultationFields:
    patient_id: Mapped[str] = mapped_column(String(36), ForeignKey("patients.id"))
    author_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id"))
    seen_at: Mapped[datetime] = mapped_column()
    reason: Mapped[str] = mapped_column(Text, default="")
    examination: Mapped[str] = mapped_column(Text, default="")
    diagnosis: Mapped[str] = mapped_column(Text, default="")
    diagnosis_code: Mapped[str] = mapped_column(String(16), default="")
    treatment: Mapped[str] = mapped_column(Text, default="")
    conclusion: Mapped[str] = mapped_column(Text, default="")
    weight_kg: Mapped[float | None] = mapped_column(Float, nullable=True)
    height_cm: Mapped[float | None] = mapped_column(Float, nullable=True)
    systolic: Mapped[float | None] = mapped_column(Float, nullable=True)
    diastolic: Mapped[float | None] = mapped_column(Float, nullable=True)
    heart_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    temperature_c: Mapped[float | None] = mapped_column(Float, nullable=True)
    glucose_g_l: Mapped[float | None] = mapped_column(Float, nullable=True)
    hba1c_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    spo2_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The measurements above as one encrypted JSON object (#17): notes written under the
    # clinical key keep the REAL columns NULL and hold the vitals here.
    vitals: Mapped[str | None] = mapped_column(Text, nullable=True)


class ConsultationDraft(_ConsultationFields, Replicated, Base):
    __tablename__ = "consultation_drafts"
    __data_kind__: ClassVar[DataKind] = DataKind.CLINICAL
    __table_args__ = (Index("ix_consultation_drafts_patient", "patient_id"),)


class Consultation(_ConsultationFields, InsertOnly, Base):
    __tablename__ = "consultations"
    __data_kind__: ClassVar[DataKind] = DataKind.CLINICAL
    __table_args__ = (
        Index("ix_consultations_patient_seen", "patient_id", "seen_at"),
        # Amendments of the notes shown in the patient file are found through this index.
        Index("ix_consultations_amends", "amends_id"),
        # One signed note per draft, whatever code runs: signing twice is refused by SQLite.
        Index("uq_consultations_draft_id", "draft_id", unique=True),
    )

    signed_at: Mapped[datetime] = mapped_column()
    amends_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("consultations.id"), nullable=True
    )
    # The draft it was signed from (None for amendments and notes signed before 0012).
    draft_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # The author's Ed25519 signature over ``domain.signed_acts.canonical_bytes`` ("format:
    # base64") and the ``signing_keys`` row that verifies it; None for notes signed before 0017.
    signing_key_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    signature: Mapped[str | None] = mapped_column(Text, nullable=True)
