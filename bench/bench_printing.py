"""Prints how long the printouts take: one prescription (p50/p95 of 50), a record copy of
300 consultations and 50 documents (25 PNG images, 25 PDF reports of 1–2 pages, all joined),
and the BDPM completion per keystroke over a synthetic
15,000-medicine import. Run: PYTHONPATH=src python bench/bench_printing.py [--quick]
"""

from __future__ import annotations

import io
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from cms_desktop.domain.prescription import Prescription, PrescriptionLine, Zone
from cms_desktop.printing.dto import (
    CentreInfo,
    ConsultationEntry,
    DocumentEntry,
    PatientInfo,
    PrescriberInfo,
    RecordCopyDoc,
    RecordRequestInfo,
)
from cms_desktop.printing.prescription import render_prescription
from cms_desktop.printing.record_copy import render_record_copy

CENTRE = CentreInfo(
    "Centre municipal de santé",
    ("1 place de la Mairie", "99000 Villebourg"),
    "01 23 45 67 89",
    "990001234",
)
PRESCRIBER = PrescriberInfo("Dr Zoé Essai", "Médecin", "10000000001", "Médecine générale")
PATIENT = PatientInfo("Fictif", ("Jean",), "M", date(1970, 1, 1), weight_kg=80, has_ald=True)


def percentiles(timings: list[float]) -> tuple[float, float]:
    """(p50, p95) in milliseconds."""
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def bench_prescription(runs: int = 50) -> tuple[float, float]:
    lines = tuple(
        PrescriptionLine(
            dci=f"médicament {i}",
            strength="500 mg",
            form="comprimé",
            dosage="1 matin et soir",
            route="orale",
            duration="1 mois",
            renewals=2,
            zone=Zone.ALD if i % 2 else Zone.OTHER,
        )
        for i in range(4)
    )
    prescription = Prescription(lines, date(2026, 11, 23), bizone=True)
    render_prescription(CENTRE, PRESCRIBER, PATIENT, prescription)  # fonts loaded once
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        render_prescription(CENTRE, PRESCRIBER, PATIENT, prescription)
        timings.append(time.perf_counter() - started)
    return percentiles(timings)


def _png(seed: int) -> bytes:
    """A small scan-like PNG (a page of grey lines on a tinted background)."""
    rng = random.Random(seed)
    image = Image.new("RGB", (620, 877), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    for y in range(60, 840, 18):
        draw.line([(50, y), (50 + rng.randint(200, 520), y)], fill=(90, 90, 90), width=3)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _pdf(seed: int, pages: int) -> bytes:
    """A 1–2 page text report, as a hospital letter would be."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, invariant=1)
    for page in range(pages):
        text = canvas.beginText(60, 780)
        text.setFont("Helvetica", 10)
        for line in range(50):
            text.textLine(f"Compte rendu fictif {seed}, page {page + 1}, ligne {line + 1}.")
        canvas.drawText(text)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def synthetic_documents(count: int) -> tuple[DocumentEntry, ...]:
    """Half PNG images, half PDF reports of 1 or 2 pages."""
    return tuple(
        DocumentEntry(
            f"Image {i}", date(2024, 1, 1 + i % 28), "Résultat d'examen", "image/png", _png(i)
        )
        if i % 2
        else DocumentEntry(
            f"Compte rendu {i}",
            date(2024, 1, 1 + i % 28),
            "Courrier hospitalier",
            "application/pdf",
            _pdf(i, 1 + i % 4 // 2),
        )
        for i in range(count)
    )


def bench_record_copy() -> tuple[float, int]:
    consultations = tuple(
        ConsultationEntry(
            date(2015 + i % 10, 1 + i % 12, 1 + i % 28),
            "Dr Zoé Essai",
            "Motif fictif",
            "Examen clinique sans particularité, tension 130/80.",
            "Diagnostic fictif",
            "Traitement fictif",
            "Revoir dans trois mois.",
        )
        for i in range(300)
    )
    documents = synthetic_documents(50)
    request = RecordRequestInfo(
        "DA-BENCH", "Le patient lui-même", date(2026, 11, 20), date(2026, 11, 23)
    )
    record = RecordCopyDoc(request, PATIENT, (("Antécédents", ("HTA",)),), consultations, documents)
    started = time.perf_counter()
    pdf = render_record_copy(CENTRE, record)
    return time.perf_counter() - started, len(pdf)


_SUBSTANCES = [
    "PARACÉTAMOL",
    "AMOXICILLINE",
    "IBUPROFÈNE",
    "AMLODIPINE",
    "LÉVOTHYROXINE",
    "METFORMINE",
    "RAMIPRIL",
    "ATORVASTATINE",
    "OMÉPRAZOLE",
    "ESOMÉPRAZOLE",
    "SERTRALINE",
    "PAROXÉTINE",
    "BISOPROLOL",
    "FUROSÉMIDE",
    "PRÉDNISOLONE",
    "SALBUTAMOL",
    "TRAMADOL",
    "CODÉINE",
    "DIAZÉPAM",
    "ZOLPIDEM",
    "LOSARTAN",
    "VALSARTAN",
    "INDAPAMIDE",
    "CÉTIRIZINE",
    "DESLORATADINE",
    "MONTÉLUKAST",
    "WARFARINE",
    "APIXABAN",
    "RIVAROXABAN",
]
_FORMS = ("comprimé", "gélule", "comprimé pelliculé", "solution buvable", "suppositoire")


def write_synthetic_bdpm(folder: Path, count: int) -> None:
    """``count`` medicines in the official format (cp1252 TSV), names made up."""
    rng = random.Random(2026)
    with (
        (folder / "CIS_bdpm.txt").open("wb") as meds,
        (folder / "CIS_COMPO_bdpm.txt").open("wb") as compo,
    ):
        for i in range(count):
            cis = f"{60_000_000 + i}"
            substance = rng.choice(_SUBSTANCES)
            strength = f"{rng.choice((5, 10, 20, 50, 100, 200, 500))} mg"
            form = rng.choice(_FORMS)
            brand = f"{substance[:4]}{chr(65 + i % 26)}{i % 997} LABO{i % 53}"
            row = [
                cis,
                f"{brand} {strength}, {form}",
                form,
                "orale",
                "Autorisation active",
                "Procédure nationale",
                "Commercialisée",
                "01/01/2010",
                "",
                "",
                "LABO",
                "Non",
            ]
            meds.write(("\t".join(row) + "\r\n").encode("cp1252"))
            line = [cis, form, "00001", substance, strength, f"un {form}", "SA", "1", ""]
            compo.write(("\t".join(line) + "\r\n").encode("cp1252"))


def bench_bdpm_search(count: int, words: int) -> tuple[float, float, float, int]:
    """Import ``count`` medicines, then time each keystroke of ``words`` typed names."""
    from cms_desktop.domain.permissions import Role
    from cms_desktop.services import medicines, users
    from cms_desktop.services.setup import CentreDraft, initialise_centre
    from cms_desktop.services.workspace import login
    from cms_desktop.storage import keyslots
    from cms_desktop.storage.datadir import DataDir

    kdf = {"time_cost": 1, "memory_cost": 8192, "parallelism": 1}
    keyslots.DEFAULT_KDF = kdf
    password = "Bench-Secret-2026"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "bdpm"
        folder.mkdir()
        write_synthetic_bdpm(folder, count)
        data_dir = DataDir(Path(tmp) / "centre")
        initialise_centre(data_dir, CentreDraft("Bench"), "admin", "Admin", password, kdf=kdf)
        ws, admin = login(data_dir, "admin", password)
        users.create_user(ws, admin, users.NewUser("dr.b", "Dr Bench", Role.DOCTOR, password))
        ws.close()
        ws, actor = login(data_dir, "dr.b", password)
        try:
            started = time.perf_counter()
            medicines.import_bdpm(ws, actor, folder)
            import_s = time.perf_counter() - started
            rng = random.Random(7)
            timings: list[float] = []
            for _ in range(words):
                word = rng.choice(_SUBSTANCES).lower()
                for end in range(2, min(len(word), 8) + 1):
                    started = time.perf_counter()
                    medicines.search_medicines(ws, actor, word[:end])
                    timings.append(time.perf_counter() - started)
        finally:
            ws.close()
    p50, p95 = percentiles(timings)
    return import_s, p50, p95, len(timings)


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    p50, p95 = bench_prescription(10 if quick else 50)
    print(
        f"prescription PDF (bizone, 4 lines, A5): p50 {p50:.1f} ms, p95 {p95:.1f} ms (target 50 ms)"
    )
    if not quick:
        seconds, size = bench_record_copy()
        print(
            f"record copy, 300 consultations + 50 documents (25 PNG, 25 PDF): {seconds:.2f} s "
            f"({size // 1024} KiB)"
            " (target 3 s)"
        )
    count = 1_500 if quick else 15_000
    import_s, s50, s95, n = bench_bdpm_search(count, 5 if quick else 40)
    print(f"BDPM import of {count} medicines: {import_s:.2f} s")
    print(
        f"BDPM completion per keystroke ({n} keystrokes): p50 {s50:.1f} ms, p95 {s95:.1f} ms "
        "(target 20 ms)"
    )
