"""BDPM import of the official format (cp1252 TSV) and the completion by name or DCI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cms_desktop.domain.permissions import PermissionDenied
from cms_desktop.services import medicines
from cms_desktop.services.errors import ValidationFailed
from tests.conftest import ADMIN_PASSWORD, Centre
from tests.integration.printing.helpers import audit_actions

SAMPLE = Path(__file__).parents[2] / "fixtures" / "bdpm"


@pytest.fixture
def doctor(centre: Centre):
    ws, actor = centre.login("dr.test")
    yield ws, actor
    ws.close()


def test_import_reads_the_sample_and_reports_the_malformed_line(doctor) -> None:
    ws, actor = doctor
    assert not medicines.reference_loaded(ws)
    report = medicines.import_bdpm(ws, actor, SAMPLE)
    assert (report.medicines, report.compositions, report.presentations) == (9, 14, 2)
    assert [(p.file, p.line) for p in report.problems] == [("CIS_bdpm.txt", 10)]
    assert "colonne" in str(report.problems[0]) and "ligne 10" in str(report.problems[0])
    assert "1 ligne(s) ignorée(s)" in report.summary
    assert medicines.reference_loaded(ws)
    assert len(audit_actions(ws, "bdpm_import")) == 1


def test_search_by_dci_prefix_proposes_the_dci_wording(doctor) -> None:
    ws, actor = doctor
    medicines.import_bdpm(ws, actor, SAMPLE)
    hits = medicines.search_medicines(ws, actor, "paracetam")  # no accent typed
    labels = [h.label for h in hits]
    assert labels == [
        "PARACÉTAMOL 500 mg, comprimé",
        "PARACÉTAMOL 1 g, comprimé",
        "PARACÉTAMOL 1000 mg, suppositoire",
    ]
    assert all(h.dci == "PARACÉTAMOL" for h in hits)
    # The therapeutic fraction (FT) is the DCI, not the salt; combinations are joined.
    amlo = medicines.search_medicines(ws, actor, "AMLO")
    assert [(h.dci, h.strength, h.form) for h in amlo] == [("AMLODIPINE", "5 mg", "gélule")]
    amox = medicines.search_medicines(ws, actor, "amox")
    assert amox[0].label.startswith("AMOXICILLINE 1 g + ACIDE CLAVULANIQUE 125 mg, poudre")


def test_search_by_brand_name_still_proposes_the_dci(doctor) -> None:
    ws, actor = doctor
    medicines.import_bdpm(ws, actor, SAMPLE)
    hits = medicines.search_medicines(ws, actor, "Doliprane")
    assert {h.label for h in hits} == {
        "PARACÉTAMOL 500 mg, comprimé",
        "PARACÉTAMOL 1000 mg, suppositoire",
    }
    assert hits[0].name.startswith("DOLIPRANE")
    oe = medicines.search_medicines(ws, actor, "oestro")
    assert [h.dci for h in oe] == ["ESTRADIOL HÉMIHYDRATÉ"] and oe[0].routes == "cutanée"
    assert medicines.search_medicines(ws, actor, "p") == []
    assert medicines.search_medicines(ws, actor, "zzz") == []
    assert len(medicines.search_medicines(ws, actor, "pa", limit=1)) == 1


def test_a_new_import_replaces_the_previous_one_and_a_bad_folder_keeps_it(doctor, tmp_path) -> None:
    ws, actor = doctor
    medicines.import_bdpm(ws, actor, SAMPLE)
    smaller = tmp_path / "bdpm"
    smaller.mkdir()
    lines = (SAMPLE / "CIS_bdpm.txt").read_bytes().split(b"\r\n")
    (smaller / "CIS_bdpm.txt").write_bytes(b"\r\n".join(lines[:1]) + b"\r\n")
    compo = [ln for ln in (SAMPLE / "CIS_COMPO_bdpm.txt").read_bytes().split(b"\r\n") if ln]
    (smaller / "cis_compo_bdpm.txt").write_bytes(b"\r\n".join(compo) + b"\r\n")
    report = medicines.import_bdpm(ws, actor, smaller)
    assert report.medicines == 1 and report.compositions == 1
    assert len(report.problems) == len(compo) - 1  # compositions of medicines not imported
    assert medicines.search_medicines(ws, actor, "amlo") == []
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValidationFailed, match=r"CIS_bdpm\.txt"):
        medicines.import_bdpm(ws, actor, empty)
    (empty / "CIS_bdpm.txt").write_bytes(b"\x81\x81\tnot cp1252\r\n")
    shutil.copy(SAMPLE / "CIS_COMPO_bdpm.txt", empty)
    with pytest.raises(ValidationFailed, match="Aucun médicament"):
        medicines.import_bdpm(ws, actor, empty)
    assert [h.label for h in medicines.search_medicines(ws, actor, "paracetamol")] == [
        "PARACÉTAMOL 500 mg, comprimé"
    ]


def test_reception_may_neither_import_nor_search(centre: Centre) -> None:
    ws, actor = centre.login("accueil")
    with pytest.raises(PermissionDenied):
        medicines.import_bdpm(ws, actor, SAMPLE)
    with pytest.raises(PermissionDenied):
        medicines.search_medicines(ws, actor, "para")
    ws.close()
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    assert medicines.import_bdpm(ws, admin, SAMPLE).medicines == 9
    ws.close()


def test_cli_imports_the_sample(centre: Centre, monkeypatch, capsys) -> None:
    import io
    import sys

    from cms_desktop.cli import main

    monkeypatch.setattr(sys, "stdin", io.StringIO("Staff-Secret-42\n"))
    code = main(
        [
            "--data-dir",
            str(centre.data_dir.path),
            "import",
            "bdpm",
            str(SAMPLE),
            "--as",
            "dr.test",
            "--password-stdin",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0 and "9 médicaments" in out
    assert "CIS_bdpm.txt, ligne 10" in err
    monkeypatch.setattr(sys, "stdin", io.StringIO("Staff-Secret-42\n"))
    code = main(
        [
            "--data-dir",
            str(centre.data_dir.path),
            "import",
            "bdpm",
            str(SAMPLE),
            "--as",
            "accueil",
            "--password-stdin",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1 and err.startswith("erreur : Action non autorisée") and err.count("\n") == 1
