"""CSV import of a patient list: encodings, separators, bad rows, duplicates, the CLI."""

from __future__ import annotations

import io
import sys
from datetime import date

import pytest
from sqlalchemy import func, select

from cms_desktop.cli import main
from cms_desktop.services.patient_import import ImportUnreadable, import_patients_csv
from cms_desktop.storage.models import Patient
from tests.conftest import STAFF_PASSWORD
from tests.patient_helpers import make_nir

NIR = make_nir("M", date(1980, 3, 5))
ROWS = [
    "Nom de naissance;nom_usage;Prénom;date_naissance;sexe;tel_portable;nir;couleur",
    f"DUPONT;;Jean;05/03/1980;M;06 12 34 56 78;{NIR};bleu",
    "LE BIHAN;MARTIN;Hélène;23/11/1975;F;+33 7 81 22 33 44;;",
    "ZOLA;;Émile;31/02/1990;M;;;",
    f"ROUX;;Paul;01/01/1990;M;;{NIR[:13]}00;",
    ";;;;;;;",
    "DUPOND;;Jean;05/03/1980;M;;;",
]


@pytest.fixture
def clerk(centre):
    ws, actor = centre.login("accueil")
    yield ws, actor
    ws.close()


def _count(ws) -> int:
    with ws.store.read() as session:
        return session.scalar(select(func.count()).select_from(Patient))


@pytest.mark.parametrize(
    ("encoding", "separator"),
    [("utf-8", ";"), ("utf-8-sig", ","), ("cp1252", ";"), ("cp1252", ",")],
)
def test_rows_are_imported_or_reported_with_their_line(clerk, encoding, separator) -> None:
    ws, actor = clerk
    text = "\r\n".join(r.replace(";", separator) for r in ROWS) + "\r\n"
    report = import_patients_csv(ws, actor, text.encode(encoding))
    assert report.imported == 2
    assert report.delimiter == separator
    assert report.encoding == ("Windows-1252" if encoding == "cp1252" else "UTF-8")
    assert report.ignored_columns == ("couleur",)
    invalid = {p.line: p.message for p in report.invalid}
    assert set(invalid) == {4, 5}
    assert "31/02/1990" in invalid[4] and "n'existe pas" in invalid[4]
    assert "clé du NIR ne correspond pas" in invalid[5]
    assert [(p.line, "DUPONT Jean" in p.message) for p in report.duplicates] == [(7, True)]
    assert report.summary == (
        "2 patient(s) importé(s), 1 doublon(s) non importé(s), 2 ligne(s) invalide(s)."
    )
    again = import_patients_csv(ws, actor, text.encode(encoding))
    assert again.imported == 0 and len(again.duplicates) == 3
    assert _count(ws) == 2


def test_quoted_fields_and_accents(clerk) -> None:
    ws, actor = clerk
    data = 'nom_naissance,prenom,date_naissance,sexe,adresse\n"Lefèvre",Zoé,01/02/2003,F,"3, rue des Lilas"\n'
    report = import_patients_csv(ws, actor, data.encode("cp1252"))
    assert report.imported == 1
    with ws.store.read() as session:
        patient = session.scalars(select(Patient)).one()
    assert (patient.birth_name, patient.address) == ("Lefèvre", "3, rue des Lilas")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "vide"),
        (b"nom;prenom\nA;B\n", "nom_naissance"),
        (b"\x00\x01\x02binary", "pas un fichier texte"),
    ],
)
def test_unreadable_files_import_nothing(clerk, data, message) -> None:
    ws, actor = clerk
    with pytest.raises(ImportUnreadable, match=message):
        import_patients_csv(ws, actor, data)
    assert _count(ws) == 0


def test_cli_import(centre, tmp_path, monkeypatch, capsys) -> None:
    path = tmp_path / "liste.csv"
    path.write_bytes(("\n".join(ROWS) + "\n").encode("cp1252"))
    args = [
        "--data-dir",
        str(centre.data_dir.path),
        "import",
        "patients",
        str(path),
        "--as",
        "accueil",
        "--password-stdin",
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO(STAFF_PASSWORD + "\n"))
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "ligne 4 :" in out and "ligne 5 :" in out and "ligne 7 : doublon" in out
    assert out.strip().endswith(
        "2 patient(s) importé(s), 1 doublon(s) non importé(s), 2 ligne(s) invalide(s)."
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO(STAFF_PASSWORD + "\n"))
    assert main(args) == 0
    assert "0 patient(s) importé(s)" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.StringIO(STAFF_PASSWORD + "\n"))
    assert main([*args[:4], str(tmp_path / "absent.csv"), *args[5:]]) == 1
    assert capsys.readouterr().err.startswith("erreur : impossible de lire")


def test_a_field_over_the_csv_limit_is_a_french_error_and_imports_nothing(
    centre, tmp_path, monkeypatch, capsys
) -> None:
    huge = "x" * (128 * 1024 + 1)
    text = "\n".join([ROWS[0], ROWS[1], f"MARTIN;;Luc;01/02/1970;M;;;{huge}", ROWS[2]]) + "\n"
    path = tmp_path / "liste.csv"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.StringIO(STAFF_PASSWORD + "\n"))
    code = main(
        [
            "--data-dir",
            str(centre.data_dir.path),
            "import",
            "patients",
            str(path),
            "--as",
            "accueil",
            "--password-stdin",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert err.strip() == (
        "erreur : Ligne 3 illisible : un champ dépasse 128 Ko ou un guillemet n'est pas "
        "refermé. Rien n'a été importé : corrigez le fichier et recommencez."
    )
    ws, _ = centre.login("accueil")
    assert _count(ws) == 0  # not even the good line before it
    ws.close()
