"""``cms-desktop agenda export-ical`` writes the practitioner's .ics, without patient data."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from cms_desktop.cli import main
from cms_desktop.services.agenda import booking
from cms_desktop.services.agenda.booking import BookingRequest
from tests.conftest import STAFF_PASSWORD
from tests.integration.agenda.conftest import MONDAY, NOW, Agenda, at


def test_export_ical_by_login(
    agenda: Agenda,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    booking.book(
        agenda.ws,
        agenda.reception,
        BookingRequest(agenda.doctor_id, at(MONDAY, 9), patient_id=agenda.patient_a),
        now=NOW,
    )
    out = tmp_path / "agenda.ics"
    args = [
        "--data-dir",
        str(agenda.centre.data_dir.path),
        "agenda",
        "export-ical",
        "--practitioner",
        "dr.test",
        "--from",
        "04/03/2030",
        "--to",
        "10/03/2030",
        "--output",
        str(out),
        "--as",
        "dr.test",
        "--password-stdin",
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO(STAFF_PASSWORD + "\n"))
    assert main(args) == 0, capsys.readouterr().err
    text = out.read_text(encoding="utf-8")
    assert text.count("BEGIN:VEVENT") == 1 and "MARTINEAU" not in text
    monkeypatch.setattr(sys, "stdin", io.StringIO(STAFF_PASSWORD + "\n"))
    bad = [*args[:7], "31/02/2030", *args[8:]]
    assert main(bad) == 1
    err = capsys.readouterr().err
    assert err.startswith("erreur : date invalide") and err.count("\n") == 1
