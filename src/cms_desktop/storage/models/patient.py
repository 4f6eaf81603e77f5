"""The patient's administrative identity (INS traits, contact).

Clinical content lives in other tables so that access rules stay simple to enforce.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_desktop.storage.models.base import Base, Replicated


class Patient(Replicated, Base):
    __tablename__ = "patients"
    __table_args__ = (
        Index("ix_patients_birth_date", "birth_date"),
        Index("ix_patients_nir", "nir"),
    )

    birth_name: Mapped[str] = mapped_column(String(100))
    used_name: Mapped[str] = mapped_column(String(100), default="")
    first_given_name: Mapped[str] = mapped_column(String(100))
    given_names: Mapped[str] = mapped_column(String(200), default="")
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    birth_place_code: Mapped[str] = mapped_column(String(5), default="")
    birth_country: Mapped[str] = mapped_column(String(100), default="")
    identity_status: Mapped[str] = mapped_column(String(16), default="provisional")
    identity_document: Mapped[str] = mapped_column(String(32), default="")
    nir: Mapped[str] = mapped_column(String(15), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    phone_mobile: Mapped[str] = mapped_column(String(20), default="")
    phone_home: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
