"""What a clinician's signature covers: the one canonical byte form of a clinical act (#17).

A signed consultation, an amendment and a prescription are signed over these bytes, built
from the stored values only, so any station can rebuild them and check the signature:
a version tag, the kind of act, then ``[name, value]`` pairs in a fixed order, as compact
UTF-8 JSON. Times are UTC ISO 8601 with microseconds, dates ISO, bytes (a prescription's
PDF) their SHA-256. A later format gets a new tag; acts keep the tag they were signed with.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import StrEnum

FORMAT = "cms-act-2"
# Acts signed before the clinical key (#17) keep their tag and are checked with its fields.
FORMAT_1 = "cms-act-1"

CONSULTATION = "consultation"
PRESCRIPTION = "prescription"

# Field order is part of the format: never reorder, only add under a new FORMAT.
CONSULTATION_FIELDS = (
    "id",
    "patient_id",
    "author_id",
    "seen_at",
    "signed_at",
    "amends_id",
    "draft_id",
    "reason",
    "examination",
    "diagnosis",
    "diagnosis_code",
    "treatment",
    "conclusion",
    "weight_kg",
    "height_cm",
    "systolic",
    "diastolic",
    "heart_rate",
    "temperature_c",
    "glucose_g_l",
    "hba1c_pct",
    "spo2_pct",
)
PRESCRIPTION_FIELDS = (
    "id",
    "patient_id",
    "consultation_id",
    "author_id",
    "issued_at",
    "issued_on",
    "kind",
    "lines_json",
    "renews_id",
    "page_size",
    "pdf",
)
# cms-act-2 adds the encrypted vitals. Signatures cover the values *as stored*: under the
# clinical key that is ciphertext (bound to its row and field by the AEAD's associated
# data), so ``check`` verifies every act without holding the clinical key.
CONSULTATION_FIELDS_2 = (*CONSULTATION_FIELDS, "vitals")
FIELDS_BY_FORMAT = {
    FORMAT_1: {CONSULTATION: CONSULTATION_FIELDS, PRESCRIPTION: PRESCRIPTION_FIELDS},
    FORMAT: {CONSULTATION: CONSULTATION_FIELDS_2, PRESCRIPTION: PRESCRIPTION_FIELDS},
}
# Every field any format signs (what a checker reads from a row).
FIELDS = FIELDS_BY_FORMAT[FORMAT]


class SignatureStatus(StrEnum):
    VERIFIED = "verified"
    ALTERED = "altered"  # the content (or its signature) changed after signing
    UNVERIFIABLE = "unverifiable"  # signed before signatures existed (no signature stored)
    # Signed in clear (cms-act-1), sealed since (#17): checked only by a session that can
    # open it, since the signature covers the plaintext.
    SEALED = "sealed"


STATUS_LABELS = {
    SignatureStatus.VERIFIED: "signature vérifiée",
    SignatureStatus.ALTERED: "contenu modifié après signature",
    SignatureStatus.UNVERIFIABLE: "signature non vérifiable (acte signé avant la version 0017)",
    SignatureStatus.SEALED: "signature vérifiable par un soignant (acte chiffré après sa signature)",
}


class UnknownFormat(ValueError):
    """A signature made with a canonical form this version does not know."""


def _value(value: object) -> object:
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, (int, float)):
        return float(value)  # a REAL column gives 72.0 back for the 72 that was signed
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
    raise TypeError(f"no canonical form for {type(value).__name__}")


def canonical_bytes(kind: str, values: Mapping[str, object], fmt: str = FORMAT) -> bytes:
    """The bytes signed for an act of ``kind`` whose stored values are ``values``."""
    if fmt not in FIELDS_BY_FORMAT:
        raise UnknownFormat(fmt)
    pairs = [[name, _value(values[name])] for name in FIELDS_BY_FORMAT[fmt][kind]]
    text = json.dumps(
        [fmt, kind, pairs], ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )
    return text.encode("utf-8")
