"""Prescriptions kept exactly as printed, prescription templates, the local BDPM drug
reference and the register of requests to access a record (law of 4 March 2002).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cms_desktop.domain.permissions import DataKind
from cms_desktop.storage.models.base import Base, InsertOnly, Replicated


class PrescriptionRecord(InsertOnly, Base):
    """A printed prescription: its lines and the PDF bytes exactly as printed (reprints
    are identical). Never updated: a renewal is a new row pointing at the one it renews.
    """

    __tablename__ = "prescriptions"
    __data_kind__: ClassVar[DataKind] = DataKind.CLINICAL
    __table_args__ = (
        Index("ix_prescriptions_patient_issued", "patient_id", "issued_at"),
        Index("ix_prescriptions_author_issued", "author_id", "issued_at"),
    )

    patient_id: Mapped[str] = mapped_column(String(36), ForeignKey("patients.id"))
    consultation_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    author_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column()
    issued_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))  # "ordonnance" | "bizone"
    lines_json: Mapped[str] = mapped_column(Text)
    renews_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("prescriptions.id"), nullable=True
    )
    page_size: Mapped[str] = mapped_column(String(4), default="A5")
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    # As on consultations: the prescriber's signature (None before 0017).
    signing_key_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    signature: Mapped[str | None] = mapped_column(Text, nullable=True)


class PrescriptionTemplate(Replicated, Base):
    """A doctor's own reusable set of prescription lines."""

    __tablename__ = "prescription_templates"
    __data_kind__: ClassVar[DataKind] = DataKind.PRESCRIBING
    __table_args__ = (Index("ix_prescription_templates_owner", "owner_id"),)

    owner_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(120))
    bizone: Mapped[bool] = mapped_column(Boolean, default=False)
    lines_json: Mapped[str] = mapped_column(Text, default="[]")


# --- BDPM: a local reference each station imports; never replicated through the op-log ---


class BdpmMedicine(Base):
    """One row of CIS_bdpm.txt; ``name_key`` is the accent-free lower-case name (indexed)."""

    __tablename__ = "bdpm_medicines"

    cis: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(400))
    name_key: Mapped[str] = mapped_column(String(400), index=True)
    form: Mapped[str] = mapped_column(String(200), default="")
    routes: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(100), default="")
    marketed: Mapped[str] = mapped_column(String(100), default="")


class BdpmComposition(Base):
    """One active substance (the DCI) of a medicine with its strength (CIS_COMPO_bdpm.txt)."""

    __tablename__ = "bdpm_compositions"
    __table_args__ = (Index("ix_bdpm_compositions_cis", "cis"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cis: Mapped[str] = mapped_column(String(8))
    substance: Mapped[str] = mapped_column(String(300))
    substance_key: Mapped[str] = mapped_column(String(300), index=True)
    strength: Mapped[str] = mapped_column(String(200), default="")
    nature: Mapped[str] = mapped_column(String(2), default="SA")  # SA or FT
    link: Mapped[str] = mapped_column(String(8), default="")


class BdpmPresentation(Base):
    """A presentation (box) of a medicine (CIS_CIP_bdpm.txt, optional)."""

    __tablename__ = "bdpm_presentations"
    __table_args__ = (Index("ix_bdpm_presentations_cis", "cis"),)

    cip13: Mapped[str] = mapped_column(String(13), primary_key=True)
    cis: Mapped[str] = mapped_column(String(8))
    label: Mapped[str] = mapped_column(String(400), default="")


class BdpmImport(Base):
    """When the reference was last imported on this station, and from how many rows."""

    __tablename__ = "bdpm_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    imported_at: Mapped[datetime] = mapped_column()
    medicines: Mapped[int] = mapped_column(Integer, default=0)
    compositions: Mapped[int] = mapped_column(Integer, default=0)
    presentations: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)


class RecordAccessRequest(Replicated, Base):
    """A request for the record (art. L.1111-7 CSP) with what was checked and delivered."""

    __tablename__ = "record_access_requests"
    __data_kind__: ClassVar[DataKind] = DataKind.RECORD_ACCESS
    __table_args__ = (
        Index("ix_record_access_requests_patient", "patient_id"),
        Index("ix_record_access_requests_reference", "reference"),
    )

    reference: Mapped[str] = mapped_column(String(20))  # DA-2026-K7P3-0001 (station code)
    patient_id: Mapped[str] = mapped_column(String(36), ForeignKey("patients.id"))
    requester_kind: Mapped[str] = mapped_column(String(32))
    heir_reason: Mapped[str] = mapped_column(String(32), default="")
    requester_name: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column()
    identity_document_checked: Mapped[bool] = mapped_column(Boolean, default=False)
    identity_document: Mapped[str] = mapped_column(String(100), default="")
    quality_proof_checked: Mapped[bool] = mapped_column(Boolean, default=False)
    patient_deceased: Mapped[bool] = mapped_column(Boolean, default=False)
    scope: Mapped[str] = mapped_column(String(32), default="all")
    period_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    period_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    scope_details: Mapped[str] = mapped_column(Text, default="")
    delivery_mode: Mapped[str] = mapped_column(String(32), default="hand_over")
    oldest_information_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    not_before: Mapped[datetime] = mapped_column()
    deadline: Mapped[datetime] = mapped_column()
    delivered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    fee_cents: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="received")
    created_by: Mapped[str] = mapped_column(String(36), default="")
