"""Synthetic clinical records for the demo centre: history, allergies, treatments, vaccines,
signed consultations with trending vitals, one draft, small PDF results and a PNG.

Rows are written directly in a few transactions (the op-log capture still runs): going through
the services one entry at a time would take minutes for a few hundred patients.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from cms_desktop.domain.documents import DocumentKind
from cms_desktop.domain.signed_acts import CONSULTATION, FIELDS
from cms_desktop.services.access import internal, no_actor
from cms_desktop.services.clinical_fields import seal_text
from cms_desktop.services.documents import SEALED_FIELDS as SEALED_DOCUMENT_FIELDS
from cms_desktop.services.documents import seal_content
from cms_desktop.services.records import note_content, seal_note
from cms_desktop.services.synthesis import SEALED_FIELDS, SYNTHESIS_ROWS
from cms_desktop.services.workspace import Workspace, set_slot
from cms_desktop.storage import (
    audit,
    blobs,
    clinical_crypto,
    clinical_grants,
    keyslot_sync,
    keyslots,
    repositories,
    signing,
)
from cms_desktop.storage.clinical_crypto import ClinicalKey
from cms_desktop.storage.models import (
    AllergyRow,
    Consultation,
    ConsultationDraft,
    Document,
    HistoryRow,
    Patient,
    ProblemRow,
    RiskFactorRow,
    ScreeningRow,
    TreatmentRow,
    VaccinationRow,
    new_id,
)

CLINICIANS = ("dr.moreau", "dr.benali", "dr.lefort", "inf.roux")
_HISTORY = [
    ("medical", "Asthme dans l'enfance", "R96"),
    ("medical", "Pneumopathie", "R81"),
    ("surgical", "Appendicectomie", "D88"),
    ("surgical", "Cholécystectomie", ""),
    ("surgical", "Prothèse totale de hanche droite", ""),
    ("family", "Père : infarctus du myocarde à 58 ans", "K75"),
    ("family", "Mère : cancer du sein", "X76"),
    ("family", "Diabète de type 2 chez la mère", "T90"),
]
_ALLERGIES = [
    ("Pénicilline", "allergy", "Urticaire généralisée", "severe"),
    ("Amoxicilline", "allergy", "Éruption cutanée", "moderate"),
    ("Aspirine", "intolerance", "Épigastralgies", "mild"),
    ("Iode (produits de contraste)", "allergy", "Œdème de Quincke", "life_threatening"),
    ("Latex", "allergy", "Eczéma de contact", "moderate"),
    ("Codéine", "intolerance", "Nausées, vomissements", "mild"),
]
_REASONS = [
    ("Rhinopharyngite", "Rhinorrhée, pharynx inflammatoire", "Rhinopharyngite virale", "R74"),
    (
        "Lombalgie",
        "Contracture paravertébrale, pas de signe neurologique",
        "Lombalgie commune",
        "L03",
    ),
    ("Renouvellement", "Examen sans particularité", "Suivi", ""),
    ("Certificat de sport", "Examen cardio-pulmonaire normal", "Apte", ""),
    ("Toux", "Auscultation : quelques sibilants", "Bronchite aiguë", "R78"),
]


def _png(width: int = 420, height: int = 300) -> bytes:
    """A small valid PNG (a gradient) built with zlib: no imaging library needed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(
        b"\x00" + b"".join(bytes((235 - y // 20, 235 - y // 20, 225)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _lab_pdf(title: str, lines: list[tuple[str, str, str]], day: date) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=True)
    pdf.setTitle(title)
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(60, 780, "Laboratoire d'analyses de Valbourg (démonstration)")
    pdf.setFont("Helvetica", 11)
    pdf.drawString(60, 755, f"{title} — prélèvement du {day:%d/%m/%Y}")
    y = 720
    for name, value, ref in lines:
        pdf.drawString(60, y, name)
        pdf.drawString(300, y, value)
        pdf.drawString(420, y, ref)
        y -= 20
    pdf.drawString(60, y - 20, "Document synthétique : aucune donnée réelle.")
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def _user_ids(ws: Workspace) -> dict[str, str]:
    ids: dict[str, str] = {}
    with ws.store.read() as session:
        for login in CLINICIANS:
            user = repositories.user_by_login(session, login)
            if user is not None:
                ids[login] = user.id
    return ids


def _demo_signers(ws: Workspace, users: dict[str, str]) -> dict[str, tuple[str, bytes]]:
    """Author id → (key id, private key) of the demo clinicians, from their own slots (the
    demo password is published): the demo's notes are signed as real ones are (#17)."""
    from cms_desktop.services.demo_accounts import DEMO_PASSWORD

    signers: dict[str, tuple[str, bytes]] = {}
    try:
        slots = keyslots.load(ws.data_dir.key_slots)
    except keyslots.KeySlotError:
        return signers
    for login, user_id in users.items():
        try:
            opened = keyslots.unwrap_all(slots, login, DEMO_PASSWORD)
        except keyslots.BadCredentials:
            continue  # not a demo password any more: its notes stay unsigned
        if opened.signing_key_id is not None and opened.signing_key is not None:
            signers[user_id] = (opened.signing_key_id, opened.signing_key)
    return signers


def _demo_clinical_key(ws: Workspace, users: dict[str, str]) -> ClinicalKey | None:
    """The clinical key the demo's notes are written under (#17). The demo's clinicians
    trust one another as if the director had approved each of them: every one's slot gets
    the same trust list (their public keys and the recovery slot's), then the first one's
    session makes epoch 1 and grants it to all, as a real login would."""
    from cms_desktop.services.demo_accounts import DEMO_ACCOUNTS, DEMO_PASSWORD

    try:
        slots = keyslots.load(ws.data_dir.key_slots)
    except keyslots.KeySlotError:
        return None
    opened: dict[str, keyslots.Unwrapped] = {}
    holders = [
        *users,
        *(a.login for a in DEMO_ACCOUNTS if clinical_grants.holds_clinical_key(a.role)),
    ]
    for login in dict.fromkeys(holders):  # the note writers first: the first makes the key
        if login not in slots.slots:
            continue
        try:
            unwrapped = keyslots.unwrap_all(slots, login, DEMO_PASSWORD)
        except keyslots.BadCredentials:
            continue
        if unwrapped.agreement_key_id is not None and unwrapped.agreement_key is not None:
            opened[login] = unwrapped
    if not opened:
        return None
    pins = {
        o.agreement_key_id: clinical_grants.Pin(login, clinical_crypto.public_of(o.agreement_key))
        for login, o in opened.items()
        if o.agreement_key_id is not None and o.agreement_key is not None
    }
    first_login, first = next(iter(opened.items()))
    assert first.agreement_key_id is not None and first.agreement_key is not None
    written: dict[str, keyslots.Slot] = {}
    with ws.store.write() as session:
        access = clinical_grants.open_grants(
            session,
            first_login,
            first.agreement_key_id,
            first.agreement_key,
            clinical_grants.Trust(pins, founder=True),
        )
        first_user = repositories.user_by_login(session, first_login)
        epoch, _ = clinical_grants.take_keys(
            session,
            ws.store.station_id,
            access,
            clinical_crypto.Sender(first.agreement_key_id, first.agreement_key),
            first_login,
            first_user.id if first_user is not None else None,
        )
        listed = access.trust.to_json()
        for login, unwrapped in opened.items():
            written[login] = keyslots.with_keys(
                ws.centre_id, slots.slots[login], DEMO_PASSWORD, trust=listed, kek=unwrapped.kek
            )
            keyslot_sync.record_slot(session, written[login], password_set=False)
    for login, slot in written.items():
        set_slot(ws, login, slot)
    return clinical_grants.writing_key(access.held, access.trusted, epoch)


@internal("the demo builder only: it takes the key as a demo clinician's login does")
def demo_clinical_key(ws: Workspace) -> ClinicalKey | None:
    """The demo's clinical key (see ``_demo_clinical_key``), None on a centre whose
    clinicians do not use the demo password."""
    users = _user_ids(ws)
    return _demo_clinical_key(ws, users) if users else None


def _seal_demo_note(note: Consultation | ConsultationDraft, key: ClinicalKey | None) -> None:
    """The demo's notes are written as real ones are: sealed under the clinical key."""
    if key is None:
        return
    note.id = note.id or new_id()
    seal_note(key, note, note_content({}, note))


_SECTION_OF_ROW = {model: section for section, model in SYNTHESIS_ROWS.items()}


def _seal_demo_entry(row: object, key: ClinicalKey | None) -> None:
    """A synthesis entry's free texts sealed as ``services.synthesis`` seals them."""
    section = _SECTION_OF_ROW.get(type(row))
    if key is None or section is None:
        return
    row.id = row.id or new_id()  # type: ignore[attr-defined]
    table = row.__tablename__  # type: ignore[attr-defined]
    for name in SEALED_FIELDS[section]:
        value = getattr(row, name) or ""
        setattr(row, name, seal_text(key, table, row.id, name, value))  # type: ignore[attr-defined]


def _sign_demo_note(note: Consultation, signers: dict[str, tuple[str, bytes]]) -> None:
    signer = signers.get(note.author_id)
    if signer is None or note.signature is not None:
        return
    note.id = note.id or new_id()
    note.signing_key_id = signer[0]
    note.signature = signing.sign(
        signer[1], CONSULTATION, {name: getattr(note, name) for name in FIELDS[CONSULTATION]}
    )


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(7, 17), rng.choice((0, 15, 30, 45))), UTC)


@no_actor("builds the demo centre only")
def add_demo_clinical(ws: Workspace, seed: int = 2026, patients: int = 300) -> None:
    """Rich synthetic clinical records for ``patients`` adults of the demo centre."""
    rng = random.Random(seed)
    users = _user_ids(ws)
    if not users:
        return
    authors = list(users.values())
    doctors = [users[u] for u in CLINICIANS[:3] if u in users] or authors
    today = date.today()
    with ws.store.read() as session:
        chosen = session.execute(
            select(Patient.id, Patient.sex, Patient.birth_date)
            .where(
                Patient.deleted.is_(False), Patient.birth_date <= today - timedelta(days=18 * 365)
            )
            .order_by(Patient.id)
            .limit(patients)
        ).all()
    png = _png()
    signers = _demo_signers(ws, users)
    clinical_key = _demo_clinical_key(ws, users)
    for start in range(0, len(chosen), 100):
        with ws.store.write() as session:
            for index, (pid, sex, birth) in enumerate(chosen[start : start + 100], start):
                _patient_record(
                    session,
                    rng,
                    pid,
                    sex,
                    birth,
                    today,
                    authors,
                    doctors,
                    index,
                    png,
                    signers,
                    clinical_key,
                )
            audit.append(
                session,
                ws.store.station_id,
                "demo_clinical_added",
                details={"count": len(chosen[start : start + 100])},
            )
    # One draft left by the first demo doctor, as after an interrupted consultation.
    if chosen and "dr.moreau" in users:
        with ws.store.write() as session:
            draft = ConsultationDraft(
                patient_id=chosen[0][0],
                author_id=users["dr.moreau"],
                seen_at=datetime.now(UTC) - timedelta(hours=1),
                reason="Essoufflement à l'effort",
                examination="Auscultation en cours…",
            )
            _seal_demo_note(draft, clinical_key)
            session.add(draft)


def _patient_record(
    session: object,
    rng: random.Random,
    pid: str,
    sex: str,
    birth: date,
    today: date,
    authors: list[str],
    doctors: list[str],
    index: int,
    png: bytes,
    signers: dict[str, tuple[str, bytes]],
    clinical_key: ClinicalKey | None,
) -> None:
    def add(row: object) -> None:
        if isinstance(row, Consultation):
            _seal_demo_note(row, clinical_key)
            _sign_demo_note(row, signers)
        else:
            _seal_demo_entry(row, clinical_key)  # complete when added: signed as it is stored
        session.add(row)  # type: ignore[attr-defined]

    age = (today - birth).days // 365
    gp = doctors[index % len(doctors)]
    for kind, label, code in rng.sample(_HISTORY, rng.randint(0, 3)):
        add(
            HistoryRow(
                patient_id=pid,
                author_id=gp,
                kind=kind,
                label=label,
                code=code,
                year=rng.randint(max(birth.year + 5, 1950), today.year - 1),
            )
        )
    if rng.random() < 0.25:
        substance, kind, reaction, severity = rng.choice(_ALLERGIES)
        add(
            AllergyRow(
                patient_id=pid,
                author_id=gp,
                substance=substance,
                kind=kind,
                reaction=reaction,
                severity=severity,
            )
        )
    smoker = rng.random() < 0.3
    add(
        RiskFactorRow(
            patient_id=pid,
            author_id=gp,
            kind="tobacco",
            status="current" if smoker else rng.choice(("never", "former")),
            pack_years=float(rng.randint(5, 40)) if smoker else None,
        )
    )
    if rng.random() < 0.2:
        add(
            RiskFactorRow(
                patient_id=pid,
                author_id=gp,
                kind="alcohol",
                units_per_week=float(rng.randint(8, 30)),
            )
        )
    for year_offset in range(rng.randint(0, 2)):
        add(
            VaccinationRow(
                patient_id=pid,
                author_id=gp,
                vaccine=rng.choice(
                    ("DTCaP (rappel)", "Grippe saisonnière", "Pneumocoque", "COVID-19")
                ),
                given_on=today - timedelta(days=300 + 365 * year_offset + rng.randint(0, 200)),
                lot=f"L{rng.randint(10000, 99999)}",
                dose="Rappel",
                given_by="Julien Roux",
            )
        )
    if 50 <= age < 75 and rng.random() < 0.5:
        add(
            ScreeningRow(
                patient_id=pid,
                author_id=gp,
                programme="colorectal",
                done_on=today - timedelta(days=rng.randint(100, 1000)),
                result="Négatif",
            )
        )
    hypertensive = age > 45 and rng.random() < 0.35
    diabetic = age > 40 and rng.random() < 0.2
    if hypertensive:
        add(
            ProblemRow(
                patient_id=pid,
                author_id=gp,
                label="Hypertension artérielle",
                code="K86",
                since=today - timedelta(days=365 * rng.randint(2, 10)),
            )
        )
        add(
            TreatmentRow(
                patient_id=pid,
                author_id=gp,
                medicine="amlodipine",
                dosage="5 mg le matin",
                started_on=today - timedelta(days=365 * 2),
                prescriber="Dr Moreau",
            )
        )
    if diabetic:
        add(
            ProblemRow(
                patient_id=pid,
                author_id=gp,
                label="Diabète de type 2",
                code="T90",
                since=today - timedelta(days=365 * rng.randint(2, 10)),
            )
        )
        add(
            TreatmentRow(
                patient_id=pid,
                author_id=gp,
                medicine="metformine",
                dosage="1000 mg matin et soir",
                started_on=today - timedelta(days=365 * 3),
                prescriber="Dr Benali",
            )
        )
    _consultations(add, rng, pid, today, authors, gp, hypertensive, diabetic)
    if index % 25 == 0:
        day = today - timedelta(days=rng.randint(10, 200))
        hba1c = f"{rng.uniform(6.0, 8.5):.1f} %".replace(".", ",")
        data = _lab_pdf(
            "Bilan biologique",
            [
                ("Glycémie à jeun", "1,08 g/L", "0,70 - 1,10"),
                ("HbA1c", hba1c, "< 6,5 %"),
                ("Créatinine", "9,1 mg/L", "6 - 12"),
            ],
            day,
        )
        _demo_document(
            session,
            clinical_key,
            Document(
                patient_id=pid,
                kind=DocumentKind.EXAM_RESULT.value,
                title="Bilan biologique",
                document_date=day,
                author_id=gp,
                mime_type="application/pdf",
                original_filename="bilan_biologique.pdf",
            ),
            data,
        )
    if index % 40 == 0:
        _demo_document(
            session,
            clinical_key,
            Document(
                patient_id=pid,
                kind=DocumentKind.SCANNED_RECORD.value,
                title="Ancien dossier papier (page 1)",
                document_date=None,
                author_id=gp,
                mime_type="image/png",
                original_filename="scan_page1.png",
            ),
            png,
        )


def _demo_document(session: object, key: ClinicalKey | None, doc: Document, data: bytes) -> None:
    """A clinical document stored as ``services.documents`` stores it: content, title and
    file name sealed under the clinical key, the blob addressed by the ciphertext's hash."""
    doc.id = new_id()
    doc.size = len(data)
    if key is not None:
        data = seal_content(key, doc.id, data)
        for name in SEALED_DOCUMENT_FIELDS:
            setattr(doc, name, seal_text(key, "documents", doc.id, name, getattr(doc, name)))
    doc.sha256 = blobs.put_blob(session, data)  # type: ignore[arg-type]
    session.add(doc)  # type: ignore[attr-defined]


def _consultations(
    add: object,
    rng: random.Random,
    pid: str,
    today: date,
    authors: list[str],
    gp: str,
    hypertensive: bool,
    diabetic: bool,
) -> None:
    visits = rng.randint(2, 4) + (4 if hypertensive or diabetic else 0)
    weight = rng.uniform(55, 95)
    height = rng.uniform(155, 190)
    systolic = rng.uniform(150, 170) if hypertensive else rng.uniform(110, 130)
    hba1c = rng.uniform(7.8, 9.0) if diabetic else None
    day = today - timedelta(days=rng.randint(900, 1800))
    step = max(30, (today - day).days // (visits + 1))
    for visit in range(visits):
        day += timedelta(days=step + rng.randint(-10, 10))
        if day >= today:
            break
        weight += rng.uniform(-1.2, 0.8)
        if hypertensive:
            systolic -= rng.uniform(0, 4)  # treatment takes effect
            reason, exam, diag, code = (
                "Suivi HTA",
                "Pas d'œdème, auscultation normale",
                "HTA en cours d'équilibration",
                "K86",
            )
        elif diabetic:
            reason, exam, diag, code = (
                "Suivi diabète",
                "Pieds sans lésion",
                "Diabète de type 2",
                "T90",
            )
        else:
            reason, exam, diag, code = rng.choice(_REASONS)
        if hba1c is not None:
            hba1c = max(6.2, hba1c - rng.uniform(0, 0.4))
        seen = _at(day, rng)
        add(
            Consultation(  # type: ignore[operator]
                patient_id=pid,
                author_id=gp if visit % 3 else rng.choice(authors),
                seen_at=seen,
                signed_at=seen + timedelta(minutes=20),
                reason=reason,
                examination=exam,
                diagnosis=diag,
                diagnosis_code=code,
                treatment="",
                conclusion=diag,
                weight_kg=round(weight, 1),
                height_cm=round(height) if visit == 0 else None,
                systolic=float(round(systolic + rng.uniform(-6, 6))),
                diastolic=float(round(systolic * 0.6 + rng.uniform(-4, 4))),
                heart_rate=float(rng.randint(58, 88)),
                hba1c_pct=round(hba1c, 1) if hba1c is not None else None,
                glucose_g_l=round(rng.uniform(1.1, 1.6), 2) if diabetic else None,
            )
        )
