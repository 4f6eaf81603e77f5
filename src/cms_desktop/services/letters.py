"""Medical certificates and referral letters: PDF bytes for the preview, audited when they
are printed or exported (``record_output``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cms_desktop.domain.paris_time import paris_today
from cms_desktop.domain.permissions import Permission
from cms_desktop.printing.dto import CertificateDoc, PrintingError, ReferralLetterDoc
from cms_desktop.printing.letters import render_certificate, render_referral_letter
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.services.printing_common import (
    DOCUMENT_LABELS,
    Output,
    audit_output,
    centre_info,
    get_patient,
    patient_info,
    prescriber_info,
)
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import repositories

MAX_BODY = 20_000

Sections = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class CertificateDraft:
    patient_id: str
    body: str
    title: str = "Certificat médical"
    delivered_in_hand: bool = True
    place: str = ""  # the centre's town when empty
    issued_on: date | None = None


@dataclass(frozen=True)
class ReferralDraft:
    """``sections``: the parts of the synthesis the doctor ticked, as (title, lines)."""

    patient_id: str
    addressee: tuple[str, ...]
    reason: str
    body: str
    sections: Sections = ()
    place: str = ""
    issued_on: date | None = None


def _text(value: str, label: str, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise ValidationFailed(f"Le champ « {label} » est obligatoire.")
    if len(value) > MAX_BODY:
        raise ValidationFailed(
            f"Le champ « {label} » est trop long ({MAX_BODY} caractères au plus)."
        )
    return value


def _place(session: object, place: str) -> str:
    if place.strip():
        return place.strip()
    centre = repositories.centre(session)  # type: ignore[arg-type]
    return centre.city if centre is not None and centre.city else "—"


@requires(Permission.PRINT_CLINICAL, Permission.CLINICAL_WRITE)
def certificate_pdf(ws: Workspace, actor: Actor, draft: CertificateDraft) -> bytes:
    actor.require(Permission.PRINT_CLINICAL)
    actor.require(Permission.CLINICAL_WRITE)
    body = _text(draft.body, "Texte du certificat")
    title = _text(draft.title, "Titre")
    issued_on = draft.issued_on or paris_today()
    with ws.store.read() as session:
        patient = get_patient(session, draft.patient_id)
        doc = CertificateDoc(
            issued_on, _place(session, draft.place), body, title, draft.delivered_in_hand
        )
        try:
            return render_certificate(
                centre_info(session),
                prescriber_info(session, actor),
                patient_info(session, patient, issued_on),
                doc,
            )
        except PrintingError as exc:
            raise ValidationFailed(str(exc)) from None


@requires(Permission.PRINT_CLINICAL, Permission.CLINICAL_WRITE)
def referral_letter_pdf(ws: Workspace, actor: Actor, draft: ReferralDraft) -> bytes:
    actor.require(Permission.PRINT_CLINICAL)
    actor.require(Permission.CLINICAL_WRITE)
    addressee = tuple(line.strip() for line in draft.addressee if line.strip())
    if not addressee:
        raise ValidationFailed("Indiquez le destinataire de la lettre.")
    reason = _text(draft.reason, "Objet")
    body = _text(draft.body, "Texte de la lettre")
    issued_on = draft.issued_on or paris_today()
    with ws.store.read() as session:
        patient = get_patient(session, draft.patient_id)
        doc = ReferralLetterDoc(
            issued_on, _place(session, draft.place), addressee, reason, body, draft.sections
        )
        try:
            return render_referral_letter(
                centre_info(session),
                prescriber_info(session, actor),
                patient_info(session, patient, issued_on),
                doc,
            )
        except PrintingError as exc:
            raise ValidationFailed(str(exc)) from None


@requires(Permission.PRINT_CLINICAL)
def record_output(
    ws: Workspace, actor: Actor, document: str, patient_id: str, how: Output | str = Output.PRINT
) -> None:
    """Audit a certificate or letter printed or saved as PDF (ids only, never the text)."""
    actor.require(Permission.PRINT_CLINICAL)
    if document not in DOCUMENT_LABELS:
        raise ValidationFailed("Type de document inconnu.")
    with ws.store.write() as session:
        get_patient(session, patient_id)
        audit_output(session, ws, actor, how, document, "patient", patient_id, patient_id)
