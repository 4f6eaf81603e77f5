"""The patient's administrative identity (INS traits, contact), coverage and ALD conditions.

Clinical content lives in other tables so that access rules stay simple to enforce:
everything in this module is readable by reception.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_desktop.domain.permissions import DataKind
from cms_desktop.storage.models.base import Base, Replicated


class Patient(Replicated, Base):
    __tablename__ = "patients"
    __data_kind__: ClassVar[DataKind] = DataKind.IDENTITY
    # Sync: who may settle a conflict on these fields (sync.tables).
    __table_args__ = (
        Index("ix_patients_birth_date", "birth_date"),
        Index("ix_patients_nir", "nir"),
        # Every opening of a file looks for records merged into it.
        Index("ix_patients_merged_into", "merged_into_id"),
    )

    # INS strict traits (RNIV): birth name, given names of birth, birth date, sex, birth place.
    birth_name: Mapped[str] = mapped_column(String(100))
    used_name: Mapped[str] = mapped_column(String(100), default="")
    first_given_name: Mapped[str] = mapped_column(String(100))
    given_names: Mapped[str] = mapped_column(String(200), default="")
    used_given_name: Mapped[str] = mapped_column(String(100), default="")
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    # INSEE commune code for people born in France, or the INSEE country code (99xxx) plus
    # the country's name for people born abroad.
    birth_place_code: Mapped[str] = mapped_column(String(5), default="")
    birth_place_label: Mapped[str] = mapped_column(String(100), default="")
    birth_country: Mapped[str] = mapped_column(String(100), default="")
    identity_status: Mapped[str] = mapped_column(String(16), default="provisional")
    identity_document: Mapped[str] = mapped_column(String(32), default="")
    identity_checked_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Contact.
    address: Mapped[str] = mapped_column(String(300), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    phone_mobile: Mapped[str] = mapped_column(String(20), default="")
    phone_home: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_relation: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    # Médecin traitant: a practitioner of the centre (user) or an outside doctor (free text).
    gp_user_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id"), nullable=True
    )
    gp_outside_name: Mapped[str] = mapped_column(String(200), default="")
    # Coverage: NIR of the insured person (key checked by domain.nir), scheme, C2S/AME.
    nir: Mapped[str] = mapped_column(String(15), default="")
    scheme: Mapped[str] = mapped_column(String(32), default="")
    c2s_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    ame_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    complementary_insurer: Mapped[str] = mapped_column(String(200), default="")
    complementary_number: Mapped[str] = mapped_column(String(50), default="")
    complementary_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    # A merged record points at the record it was merged into; it is tombstoned, never erased.
    merged_into_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("patients.id"), nullable=True
    )


class PatientAld(Replicated, Base):
    """A recognised long-term condition (affection de longue durée) with its period.

    It is coverage (exoneration), not a diagnosis: reception manages it from the
    paperwork of the Assurance Maladie; its label decides the bizone prescription.
    """

    __tablename__ = "patient_ald"
    __data_kind__: ClassVar[DataKind] = DataKind.COVERAGE
    __table_args__ = (Index("ix_patient_ald_patient", "patient_id"),)

    patient_id: Mapped[str] = mapped_column(String(36), ForeignKey("patients.id"))
    label: Mapped[str] = mapped_column(String(200))
    # ALD list number (1-30, "31" hors liste, "32" polypathologie) when known.
    code: Mapped[str] = mapped_column(String(8), default="")
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)

    def active_on(self, day: date) -> bool:
        if self.deleted:
            return False
        if self.start_date is not None and day < self.start_date:
            return False
        return self.end_date is None or day <= self.end_date
