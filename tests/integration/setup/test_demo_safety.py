"""`demo` and `--demo` never open a centre that was not created as the demo centre."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from cms_desktop.cli import main
from cms_desktop.services.demo import create_demo_centre
from cms_desktop.services.demo_guard import NotADemoCentre, ensure_demo_centre, is_demo_centre
from cms_desktop.storage.datadir import DataDir
from tests.conftest import Centre


def test_the_demo_command_refuses_a_real_centre_and_changes_nothing(
    centre: Centre, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = centre.data_dir.database.read_bytes()
    monkeypatch.setattr(sys, "stdin", io.StringIO("Demo-Cms-2026\n"))
    args = ["--data-dir", str(centre.data_dir.path), "demo", "--patients", "5"]
    code = main([*args, "--as", "admin", "--password-stdin"])
    _, err = capsys.readouterr()
    assert code == 1
    assert err.count("\n") == 1
    assert "n'a pas été créé en démonstration" in err
    assert centre.data_dir.database.read_bytes() == before


def test_demo_mode_refuses_a_real_centre(centre: Centre) -> None:
    assert not is_demo_centre(centre.data_dir)
    with pytest.raises(NotADemoCentre, match="le mode démonstration ne l'ouvre pas"):
        ensure_demo_centre(centre.data_dir)


def test_the_demo_centre_is_marked_in_its_database(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path / "demo")
    ensure_demo_centre(data_dir)  # an empty directory: the demo may be created there
    create_demo_centre(data_dir, patients=5)
    assert is_demo_centre(data_dir)
    ensure_demo_centre(data_dir)
