"""Prints how long the printouts take: one prescription (median of 50) and a record copy of
300 consultations and 50 documents. Run: PYTHONPATH=src python bench/bench_printing.py
"""

from __future__ import annotations

import statistics
import time
from datetime import date

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


def bench_prescription() -> float:
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
    for _ in range(50):
        started = time.perf_counter()
        render_prescription(CENTRE, PRESCRIBER, PATIENT, prescription)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


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
    documents = tuple(
        DocumentEntry(f"Document {i}", date(2024, 1, 1), "Compte rendu") for i in range(50)
    )
    request = RecordRequestInfo(
        "DA-BENCH", "Le patient lui-même", date(2026, 11, 20), date(2026, 11, 23)
    )
    record = RecordCopyDoc(request, PATIENT, (("Antécédents", ("HTA",)),), consultations, documents)
    started = time.perf_counter()
    pdf = render_record_copy(CENTRE, record)
    return time.perf_counter() - started, len(pdf)


if __name__ == "__main__":
    print(f"prescription PDF (bizone, 4 lines, A5): {bench_prescription():.1f} ms (median of 50)")
    seconds, size = bench_record_copy()
    print(f"record copy, 300 consultations + 50 documents: {seconds:.2f} s ({size // 1024} KiB)")
