"""Signing clinical acts with the author's own key, and checking every signature (#17).

An act is signed over ``domain.signed_acts.canonical_bytes`` of the values stored in its
row, before the row is inserted (insert-only rows cannot be updated afterwards). Checking
rebuilds those bytes from the row as stored now: any change to a signed field, to the
signature or to the key it names shows as « contenu modifié après signature ».
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms_desktop.domain.paris_time import paris_text
from cms_desktop.domain.signed_acts import (
    CONSULTATION,
    FIELDS,
    FIELDS_BY_FORMAT,
    FORMAT_1,
    PRESCRIPTION,
    SignatureStatus,
)
from cms_desktop.services.access import internal, no_actor
from cms_desktop.services.actor import Actor
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import clinical_crypto, signing
from cms_desktop.storage.clinical_crypto import ClinicalKey, ClinicalKeyMissing, TamperedField
from cms_desktop.storage.models import Consultation, PrescriptionRecord, SigningKey, User

NO_SIGNING_KEY = (
    "Votre clé de signature n'est pas disponible dans cette session. Fermez la session et "
    "reconnectez-vous avec votre propre mot de passe : la clé est créée ou déverrouillée à "
    "la connexion. Si le problème persiste, prévenez l'administrateur du centre."
)

KIND_LABELS = {CONSULTATION: "consultation", PRESCRIPTION: "ordonnance"}

# (user id, public key) by key id.
KeyRing = Mapping[str, tuple[str, str]]


def _values(kind: str, row: object) -> dict[str, object]:
    return {name: getattr(row, name) for name in FIELDS[kind]}


@internal("signing, amending and prescribing sign their own row after their own checks")
def sign_row(
    ws: Workspace, actor: Actor, kind: str, row: Consultation | PrescriptionRecord
) -> None:
    """Fill ``row.signing_key_id`` and ``row.signature`` (before it is inserted); the row's
    id and every signed field must already be set. Only one's own key signs."""
    if ws.signing_key is None or ws.signing_key_id is None or ws.signer_id != actor.user_id:
        raise ValidationFailed(NO_SIGNING_KEY)
    row.signing_key_id = ws.signing_key_id
    row.signature = signing.sign(ws.signing_key, kind, _values(kind, row))


def key_ring(session: Session) -> dict[str, tuple[str, str]]:
    """Every known public key (a centre has a few dozen)."""
    return {
        key_id: (user_id, public)
        for key_id, user_id, public in session.execute(
            select(SigningKey.id, SigningKey.user_id, SigningKey.public_key)
        )
    }


def status_of(
    kind: str,
    row: Consultation | PrescriptionRecord,
    keys: KeyRing,
    clinical_keys: Mapping[str, ClinicalKey] | None = None,
) -> SignatureStatus:
    """The act's signature checked against the row as stored. An act signed in clear
    (cms-act-1) and sealed since (legacy sealing, #17) is checked on its opened values when
    ``clinical_keys`` open them, else SEALED (never a false « modifié »)."""
    if row.signature is None and row.signing_key_id is None:
        return SignatureStatus.UNVERIFIABLE  # signed before 0017: nothing to check against
    key = keys.get(row.signing_key_id or "")
    if row.signature is None or key is None or key[0] != row.author_id:
        return SignatureStatus.ALTERED  # half a signature, an unknown key, another's key
    values = _values(kind, row)
    if row.signature.startswith(FORMAT_1 + ":") and _sealed_since(values):
        if clinical_keys is None:
            return SignatureStatus.SEALED
        try:
            values = _opened(kind, row.__tablename__, row.id, values, clinical_keys)
        except ClinicalKeyMissing:
            return SignatureStatus.SEALED
        except TamperedField:
            return SignatureStatus.ALTERED
    ok = signing.verify(key[1], kind, values, row.signature)
    return SignatureStatus.VERIFIED if ok else SignatureStatus.ALTERED


def _sealed_since(values: Mapping[str, object]) -> bool:
    return any(
        clinical_crypto.is_sealed(value)
        or (isinstance(value, bytes) and clinical_crypto.is_sealed_bytes(value))
        for value in values.values()
    )


def _opened(
    kind: str,
    table: str,
    row_id: str,
    values: dict[str, object],
    clinical_keys: Mapping[str, ClinicalKey],
) -> dict[str, object]:
    """The values of a cms-act-1 act as it was signed: its sealed fields opened, its
    measurements back in their REAL columns."""
    opened = dict(values)
    for name in FIELDS_BY_FORMAT[FORMAT_1][kind]:
        value = opened.get(name)
        if clinical_crypto.is_sealed(value):
            opened[name] = clinical_crypto.decrypt_field(
                clinical_keys, table, row_id, name, str(value)
            )
        elif isinstance(value, bytes) and clinical_crypto.is_sealed_bytes(value):
            opened[name] = clinical_crypto.decrypt_bytes(clinical_keys, table, row_id, name, value)
    vitals = opened.get("vitals")
    if kind == CONSULTATION and clinical_crypto.is_sealed(vitals):
        measured = clinical_crypto.decrypt_json(clinical_keys, table, row_id, "vitals", str(vitals))
        if isinstance(measured, dict):
            opened.update(measured)
    return opened


@dataclass(frozen=True)
class AlteredAct:
    kind: str
    act_id: str
    signed_at: datetime
    author_login: str

    @property
    def line(self) -> str:
        """No clinical content: kind, id, date and author only."""
        when = paris_text(self.signed_at)
        return f"{KIND_LABELS[self.kind]} {self.act_id} du {when}, auteur « {self.author_login} »"


@dataclass(frozen=True)
class SignatureReport:
    verified: int
    unverifiable: int
    altered: tuple[AlteredAct, ...]
    sealed: int = 0  # signed in clear, sealed since: checked by a holder's session only

    @property
    def ok(self) -> bool:
        return not self.altered

    @property
    def message(self) -> str:
        head = (
            f"Signatures des actes cliniques : {self.verified} vérifiée(s), "
            f"{self.unverifiable} non vérifiable(s) (actes signés avant la mise à jour 0017)"
        )
        if self.sealed:
            head += (
                f", {self.sealed} vérifiable(s) par un soignant seulement (actes chiffrés "
                "après leur signature)"
            )
        if self.ok:
            return head + ", aucune altération."
        lines = [f"{head}, {len(self.altered)} acte(s) modifié(s) après signature :"]
        lines.extend(f"  - {act.line}" for act in self.altered)
        return "\n".join(lines)


def _rows(session: Session, kind: str) -> Iterable[Consultation | PrescriptionRecord]:
    # Streamed in chunks: a large centre holds hundreds of thousands of notes.
    if kind == CONSULTATION:
        return session.scalars(
            select(Consultation).order_by(Consultation.id).execution_options(yield_per=2000)
        )
    return session.scalars(
        select(PrescriptionRecord).order_by(PrescriptionRecord.id).execution_options(yield_per=500)
    )


@no_actor("ids, dates and logins of altered acts, no clinical content: check and the CLI")
def verify_all(ws: Workspace) -> SignatureReport:
    """Check the signature of every consultation, amendment and prescription."""
    verified = unverifiable = sealed = 0
    altered: list[AlteredAct] = []
    opening = ws.clinical_keys or None  # a holder's check also verifies acts sealed since
    with ws.store.read() as session:
        keys = key_ring(session)
        logins = {uid: login for uid, login in session.execute(select(User.id, User.login))}
        for kind in (CONSULTATION, PRESCRIPTION):
            for row in _rows(session, kind):
                status = status_of(kind, row, keys, opening)
                if status is SignatureStatus.VERIFIED:
                    verified += 1
                elif status is SignatureStatus.UNVERIFIABLE:
                    unverifiable += 1
                elif status is SignatureStatus.SEALED:
                    sealed += 1
                else:
                    when = row.signed_at if isinstance(row, Consultation) else row.issued_at
                    altered.append(AlteredAct(kind, row.id, when, logins.get(row.author_id, "?")))
    return SignatureReport(verified, unverifiable, tuple(altered), sealed)
