"""Local search index of patients (derived, never replicated): one row per search key.

Filled by SQLite triggers on ``patients`` (see ``storage/patient_index.py``), so it stays
right whatever writes a patient: the services, a merge, the sync applying a remote change.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_desktop.storage.models.base import Base


class PatientSearchKey(Base):
    __tablename__ = "patient_search"
    __table_args__ = (
        Index("ix_patient_search_patient", "patient_id", "key"),
        {"sqlite_with_rowid": False},
    )

    # The primary key order serves the scan: a key prefix range, already sorted for display.
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    sort_key: Mapped[str] = mapped_column(String(220), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(36), ForeignKey("patients.id"), primary_key=True)
