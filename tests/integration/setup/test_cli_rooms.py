"""`room add|list|rename|disable` on a centre made with `init`."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from cms_desktop.cli import main

PASSWORD = "Valbourg-Cms-2026!"


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], d: str, *args: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    code = main(["--data-dir", d, *args, "--as", "admin", "--password-stdin"])
    out, err = capsys.readouterr()
    return code, out, err


def test_room_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    d = str(tmp_path / "c")
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    init = ["--data-dir", d, "init", "--centre-name", "CMS", "--admin", "admin", "--no-rooms"]
    assert main([*init, "--password-stdin"]) == 0
    capsys.readouterr()
    assert run(monkeypatch, capsys, d, "room", "list")[1] == ""
    code, out, _ = run(monkeypatch, capsys, d, "room", "add", "Cabinet 1")
    assert (code, out) == (0, "Salle « Cabinet 1 » ajoutée (cabinet médical).\n")
    code, _, err = run(monkeypatch, capsys, d, "room", "add", "CABINET 1", "--kind", "dental")
    assert (code, err) == (1, "erreur : Une salle « Cabinet 1 » existe déjà.\n")
    code, out, _ = run(monkeypatch, capsys, d, "room", "rename", "cabinet 1", "Cabinet dentaire")
    assert (code, out) == (0, "Salle « Cabinet 1 » renommée « Cabinet dentaire ».\n")
    code, _, err = run(monkeypatch, capsys, d, "room", "disable", "Cabinet 9")
    assert (code, err) == (1, "erreur : aucune salle « Cabinet 9 »\n")
    assert run(monkeypatch, capsys, d, "room", "disable", "Cabinet dentaire")[0] == 0
    _, out, _ = run(monkeypatch, capsys, d, "room", "list")
    assert out.split() == [
        "1",
        "Cabinet",
        "dentaire",
        "Cabinet",
        "médical",
        "désactivée",
        "0",
        "rendez-vous",
        "à",
        "venir",
    ]
