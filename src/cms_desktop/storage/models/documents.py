"""Documents of the patient file: replicated metadata and content addressed by SHA-256.

Metadata rows are insert-only: a correction or a withdrawal is a new row whose
``supersedes_id`` points at the one it replaces. Content is NOT replicated through the
op-log: stations fetch a missing file by its hash, chunk by chunk (``storage.blobs``).
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_desktop.domain.permissions import DataKind
from cms_desktop.storage.models.base import Base, InsertOnly


class Document(InsertOnly, Base):
    __tablename__ = "documents"
    __data_kind__: ClassVar[DataKind] = DataKind.CLINICAL
    __table_args__ = (
        Index("ix_documents_patient", "patient_id"),
        Index("ix_documents_sha256", "sha256"),
        Index("ix_documents_supersedes", "supersedes_id"),
    )

    patient_id: Mapped[str] = mapped_column(String(36), ForeignKey("patients.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    document_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    author_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id"))
    mime_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    original_filename: Mapped[str] = mapped_column(String(255), default="")
    supersedes_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("documents.id"), nullable=True
    )
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)


class Blob(Base):
    """One stored file: complete only once every chunk is there and the hash checks."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer, default=0)
    total_chunks: Mapped[int] = mapped_column(Integer)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)


class BlobChunk(Base):
    __tablename__ = "blob_chunks"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
