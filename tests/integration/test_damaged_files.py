"""Issue #18: a damaged, empty or missing database is reported in French with the ways back,
never a traceback, and never replaced by a new empty centre."""

from __future__ import annotations

import io
import sys

import pytest

from cms_desktop.cli import main
from cms_desktop.services.errors import StoreUnavailable
from cms_desktop.services.workspace import login
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD, Centre

PAGE = 4096  # SQLCipher 4's page size


def _check(
    centre: Centre, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(ADMIN_PASSWORD + "\n"))
    code = main(
        ["--data-dir", str(centre.data_dir.path), "check", "--as", "admin", "--password-stdin"]
    )
    out, err = capsys.readouterr()
    return code, out, err


def _flip(centre: Centre, page: int) -> bytes:
    """Overwrite 8 bytes in the middle of a page (numbered from 1); returns the original."""
    data = centre.data_dir.database.read_bytes()
    where = (page - 1) * PAGE + 1000
    centre.data_dir.database.write_bytes(data[:where] + b"\xff" * 8 + data[where + 8 :])
    return data


@pytest.mark.parametrize("where", ["second", "third", "middle", "last"])
def test_check_names_the_damage_in_french_and_how_to_restore(
    centre: Centre,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    where: str,
) -> None:
    assert _check(centre, monkeypatch, capsys)[0] == 0
    pages = centre.data_dir.database.stat().st_size // PAGE
    page = {"second": 2, "third": 3, "middle": pages // 2, "last": pages}[where]
    original = _flip(centre, page)

    code, out, err = _check(centre, monkeypatch, capsys)

    assert code == 1 and out == "" and "Traceback" not in err
    [line] = err.strip().splitlines()
    assert line.startswith("erreur : La base de données")
    assert "endommagée" in line and "estaurez" in line and "sauvegarde" in line
    assert "intact" not in line
    if "(centre.db) est endommagée" in line:  # the file opened: the damaged page is named
        assert f"pages n° {page} illisibles" in line
    centre.data_dir.database.write_bytes(original)
    assert _check(centre, monkeypatch, capsys)[0] == 0


def test_a_damaged_page_read_at_login_gives_the_french_report(centre: Centre) -> None:
    _flip(centre, 2)
    with pytest.raises(StoreUnavailable, match=r"endommagée.*restaurez centre\.db"):
        login(centre.data_dir, "accueil", STAFF_PASSWORD)


def test_an_empty_database_is_reported_and_never_replaced(centre: Centre) -> None:
    centre.data_dir.database.write_bytes(b"")
    for _ in range(2):
        with pytest.raises(StoreUnavailable, match=r"vide \(0 octet\).*rattachez le poste"):
            login(centre.data_dir, "accueil", STAFF_PASSWORD)
    assert centre.data_dir.database.stat().st_size == 0


def test_a_missing_database_is_reported_and_never_created(centre: Centre) -> None:
    centre.data_dir.database.unlink()
    with pytest.raises(StoreUnavailable, match=r"introuvable.*restaurez centre\.db.*rattachez"):
        login(centre.data_dir, "accueil", STAFF_PASSWORD)
    assert not centre.data_dir.database.exists()
