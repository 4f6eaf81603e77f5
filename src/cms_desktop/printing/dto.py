"""Frozen data handed to the printing layer: what each printout shows, nothing more.

Services build these from the database; printing never sees ORM objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from cms_desktop.domain.prescription import age_in_months, age_in_years


class PrintingError(ValueError):
    """A document that cannot be printed; ``str()`` is the French reason."""


@dataclass(frozen=True)
class CentreInfo:
    name: str
    address_lines: tuple[str, ...]
    phone: str
    finess: str
    logo_png: bytes | None = None


@dataclass(frozen=True)
class PrescriberInfo:
    full_name: str  # « Dr Anne Durand »
    profession: str  # « Médecin généraliste », « Infirmière »
    rpps: str
    specialty: str | None = None
    signature_png: bytes | None = None


SEX_LABELS = {"F": "Féminin", "M": "Masculin"}


@dataclass(frozen=True)
class PatientInfo:
    birth_name: str
    given_names: tuple[str, ...]
    sex: str  # "F" or "M"; other values are printed as given
    birth_date: date
    used_name: str | None = None
    weight_kg: float | None = None
    height_cm: float | None = None
    has_ald: bool = False  # a recognised long-term condition (ALD), for the bizone form

    @property
    def display_name(self) -> str:
        """Birth name in capitals then given names; the used name apart (identity vigilance)."""
        name = f"{self.birth_name.upper()} {' '.join(self.given_names)}".strip()
        if self.used_name and self.used_name.upper() != self.birth_name.upper():
            name += f" (nom d'usage : {self.used_name.upper()})"
        return name

    @property
    def sex_label(self) -> str:
        return SEX_LABELS.get(self.sex, self.sex)

    def age_label(self, on: date) -> str:
        """« 45 ans », or months under 2 years where doses depend on them."""
        years = age_in_years(self.birth_date, on)
        if years >= 2:
            return f"{years} ans"
        months = age_in_months(self.birth_date, on)
        if months >= 1:
            return f"{months} mois"
        days = (on - self.birth_date).days
        return f"{days} jour" + ("s" if days > 1 else "")


@dataclass(frozen=True)
class CertificateDoc:
    issued_on: date
    place: str  # « Alençon »
    body: str
    title: str = "Certificat médical"
    delivered_in_hand: bool = True  # « établi à la demande de l'intéressé(e)… »


@dataclass(frozen=True)
class ReferralLetterDoc:
    issued_on: date
    place: str
    addressee: tuple[str, ...]  # « Dr Paul Martin », « Cardiologie », « CH d'Alençon »
    reason: str
    body: str
    sections: tuple[tuple[str, tuple[str, ...]], ...] = ()  # selected synthesis sections


@dataclass(frozen=True)
class DayListRow:
    """Administrative only: no clinical content ever reaches the day list."""

    starts_at: time
    ends_at: time
    patient_name: str
    kind: str  # « Consultation », « Visite à domicile »…
    reason: str
    status: str  # « Prévu », « Arrivé », « Absent »…


@dataclass(frozen=True)
class DayListDoc:
    day: date
    subject: str  # practitioner or room
    rows: tuple[DayListRow, ...]


@dataclass(frozen=True)
class AppointmentCardDoc:
    patient_name: str
    practitioner_name: str
    starts_at: datetime
    place_note: str | None = None  # « 2e étage, salle 4 »


@dataclass(frozen=True)
class RecordRequestInfo:
    reference: str
    requester: str  # « Le patient lui-même », « Mme X, représentante légale »
    requested_on: date
    # The day the copy is handed over; None for a draft made during the 48-hour delay.
    produced_on: date | None
    # « 27/03/2027 à 23:30 » for a draft: every page says not to hand it over before then.
    not_before_text: str = ""

    @property
    def is_draft(self) -> bool:
        return self.produced_on is None


@dataclass(frozen=True)
class AmendmentEntry:
    made_on: date
    author: str
    text: str


@dataclass(frozen=True)
class ConsultationEntry:
    held_on: date
    practitioner: str
    reason: str = ""
    exam: str = ""
    diagnosis: str = ""
    treatment: str = ""
    conclusion: str = ""
    amendments: tuple[AmendmentEntry, ...] = ()
    vitals: str = ""  # « Poids 61,5 kg · TA 135/85 mmHg … »


@dataclass(frozen=True)
class DocumentEntry:
    title: str
    dated: date
    kind: str  # « Compte rendu d'hospitalisation », « Résultat de laboratoire »…
    mime_type: str = ""  # application/pdf, image/jpeg, image/png
    # The file itself, or None when this workstation does not hold it (not yet fetched by
    # sync) or holds it damaged: the copy then shows a page saying so.
    content: bytes | None = field(default=None, repr=False)
    damaged: bool = False


@dataclass(frozen=True)
class PrescriptionCopy:
    """A printed prescription joined to the copy exactly as printed (its stored PDF)."""

    issued_on: date
    label: str  # « Ordonnance bizone — Dr Moreau »
    pdf: bytes = field(repr=False)


@dataclass(frozen=True)
class RecordCopyDoc:
    request: RecordRequestInfo
    patient: PatientInfo
    synthesis: tuple[tuple[str, tuple[str, ...]], ...] = ()
    consultations: tuple[ConsultationEntry, ...] = ()
    documents: tuple[DocumentEntry, ...] = field(default=())
    alds: tuple[str, ...] = ()  # « Diabète de type 2 (ALD 8) depuis le 01/01/2020 »
    prescriptions: tuple[PrescriptionCopy, ...] = ()
