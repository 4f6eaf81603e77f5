"""The command line, run in-process: exit codes, one-line errors, passwords from stdin only."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from cms_desktop.cli import main


def run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    stdin: str = "",
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_init_user_and_audit_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    d = str(tmp_path / "c")
    code, out, _ = run(
        monkeypatch,
        capsys,
        [
            "--data-dir",
            d,
            "init",
            "--centre-name",
            "CMS CLI",
            "--admin",
            "chef",
            "--password-stdin",
        ],
        "Grand-Secret-42\n",
    )
    assert code == 0 and "Code de récupération" in out
    code, out, err = run(
        monkeypatch,
        capsys,
        [
            "--data-dir",
            d,
            "user",
            "add",
            "dr.cli",
            "--name",
            "Dr Cli",
            "--role",
            "doctor",
            "--as",
            "chef",
            "--password-stdin",
        ],
        "Grand-Secret-42\nDocteur-Secret-1\n",
    )
    assert code == 0, err
    code, out, _ = run(
        monkeypatch,
        capsys,
        ["--data-dir", d, "user", "list", "--as", "chef", "--password-stdin"],
        "Grand-Secret-42\n",
    )
    assert code == 0 and "dr.cli" in out and "doctor" in out
    code, out, _ = run(
        monkeypatch,
        capsys,
        ["--data-dir", d, "audit", "verify", "--as", "dr.cli", "--password-stdin"],
        "Docteur-Secret-1\n",
    )
    assert code == 0 and "intact" in out
    code, out, _ = run(
        monkeypatch,
        capsys,
        ["--data-dir", d, "check", "--as", "chef", "--password-stdin"],
        "Grand-Secret-42\n",
    )
    assert code == 0 and "intègre" in out


def test_errors_are_one_line_and_non_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    d = str(tmp_path / "c")
    code, _, err = run(
        monkeypatch,
        capsys,
        ["--data-dir", d, "init", "--centre-name", "X", "--admin", "chef", "--password-stdin"],
        "court\n",
    )
    assert code == 1 and err.count("\n") == 1 and err.startswith("erreur : ")
    assert not (tmp_path / "c" / "keyslots.json").exists()
    run(
        monkeypatch,
        capsys,
        ["--data-dir", d, "init", "--centre-name", "X", "--admin", "chef", "--password-stdin"],
        "Grand-Secret-42\n",
    )
    code, _, err = run(
        monkeypatch,
        capsys,
        ["--data-dir", d, "user", "list", "--as", "chef", "--password-stdin"],
        "mauvais\n",
    )
    assert code == 1 and "mot de passe incorrect" in err and "Traceback" not in err
    code, _, err = run(monkeypatch, capsys, ["--data-dir", d, "user", "list", "--as", "chef"], "")
    assert code == 1 and "--password-stdin" in err


def test_demo_creates_a_centre_and_prints_one_login_per_role(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cms_desktop.domain.permissions import ROLE_LABELS

    d = str(tmp_path / "demo")
    code, out, _ = run(monkeypatch, capsys, ["--data-dir", d, "demo", "--patients", "50"])
    assert code == 0
    for label in ROLE_LABELS.values():
        assert label in out
    code, out, _ = run(
        monkeypatch,
        capsys,
        ["--data-dir", d, "demo", "--patients", "20", "--as", "accueil", "--password-stdin"],
        "Demo-Cms-2026\n",
    )
    assert code == 0 and "20 patients" in out
    from cms_desktop.services.workspace import login
    from cms_desktop.storage import repositories
    from cms_desktop.storage.datadir import DataDir

    ws, _ = login(DataDir(Path(d)), "dr.moreau", "Demo-Cms-2026")
    with ws.store.read() as session:
        assert repositories.patient_count(session) == 70
    ws.close()


def test_user_add_bizone_gives_the_right_to_a_prescriber_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cms_desktop.services import users
    from cms_desktop.services.workspace import login
    from cms_desktop.storage.datadir import DataDir

    d = str(tmp_path / "c")
    init = ["--data-dir", d, "init", "--centre-name", "CMS CLI", "--admin", "chef"]
    assert run(monkeypatch, capsys, [*init, "--password-stdin"], "Grand-Secret-42\n")[0] == 0

    def add(login_name: str, role: str) -> tuple[int, str, str]:
        return run(
            monkeypatch, capsys,
            ["--data-dir", d, "user", "add", login_name, "--name", f"Compte {login_name}",
             "--role", role, "--bizone", "--as", "chef", "--password-stdin"],
            "Grand-Secret-42\nDocteur-Secret-1\n",
        )  # fmt: skip

    code, _, err = add("inf.cli", "nurse")
    assert code == 1 and err.count("\n") == 1
    assert "Seul un compte qui rédige des ordonnances" in err
    assert add("dr.cli", "doctor")[0] == 0
    ws, chef = login(DataDir(Path(d)), "chef", "Grand-Secret-42")
    try:
        listed = {u.login: u for u in users.list_users(ws, chef)}
    finally:
        ws.close()
    assert "inf.cli" not in listed and listed["dr.cli"].may_prescribe_bizone
