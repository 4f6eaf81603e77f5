"""``cms-desktop backup …`` run in-process: exit codes, one-line French errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cms_desktop.services import setup
from cms_desktop.storage.datadir import DataDir
from tests.conftest import ADMIN_PASSWORD, FAST_KDF, Centre
from tests.integration.backup_helpers import add_patient_with_note, assert_no_clear_patient_data
from tests.integration.test_cli import run

Ctx = tuple[pytest.MonkeyPatch, pytest.CaptureFixture[str]]


@pytest.fixture
def ctx(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Ctx:
    return monkeypatch, capsys


def admin(ctx: Ctx, centre: Centre, *args: str) -> tuple[int, str, str]:
    return run(
        *ctx,
        [
            "--data-dir",
            str(centre.data_dir.path),
            "backup",
            *args,
            "--as",
            "admin",
            "--password-stdin",
        ],
        ADMIN_PASSWORD + "\n",
    )


def test_now_list_verify(centre: Centre, ctx: Ctx, tmp_path: Path) -> None:
    add_patient_with_note(centre)
    usb = tmp_path / "usb"
    usb.mkdir()
    code, out, err = admin(ctx, centre, "schedule", "--add-target", str(usb), "--at", "19:30")
    assert code == 0, err
    assert "Sauvegarde quotidienne à 19:30" in out and f"Dossier : {usb}" in out
    code, out, err = admin(ctx, centre, "now")
    assert code == 0, err
    written = [line.split(" : ", 1)[1] for line in out.splitlines() if "écrite" in line]
    assert len(written) == 2  # the default folder beside the data, and the USB drive
    usb_file = next(Path(w) for w in written if Path(w).parent == usb)
    assert_no_clear_patient_data(usb_file)

    code, out, _ = admin(ctx, centre, "list")
    assert code == 0 and out.splitlines()[0].startswith("Dernière sauvegarde : ")
    assert str(usb_file) in out

    code, out, err = admin(ctx, centre, "verify", str(usb_file))
    assert (code, err) == (0, "") and "intacte" in out

    truncated = tmp_path / "t.cmsbak"
    truncated.write_bytes(usb_file.read_bytes()[:30_000])
    code, out, err = admin(ctx, centre, "verify", str(truncated))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("erreur : ") and "tronquée" in err


def test_verify_another_centres_file(centre: Centre, ctx: Ctx, tmp_path: Path) -> None:
    other = DataDir(tmp_path / "autre")
    setup.initialise_centre(
        other, setup.CentreDraft(name="CMS Voisin"), "admin", "A", ADMIN_PASSWORD, kdf=FAST_KDF
    )
    usb = tmp_path / "usb"
    usb.mkdir()
    code, _out, err = admin(ctx, Centre(other, ""), "now", "--to", str(usb))
    assert code == 0, err
    file = next(usb.iterdir())
    code, _, err = admin(ctx, centre, "verify", str(file))
    assert code == 1 and "autre centre (CMS Voisin)" in err and err.count("\n") == 1


def test_restore_commands(centre: Centre, ctx: Ctx, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    assert admin(ctx, centre, "now", "--to", str(usb))[0] == 0
    file = str(next(usb.iterdir()))
    dest = tmp_path / "nouveau"
    base = ["backup", "restore", file, "--target", str(dest)]
    code, _, err = run(*ctx, [*base, "--as", "admin", "--password-stdin"], "faux\n")
    assert code == 1 and "incorrect" in err and not dest.exists()
    code, out, err = run(
        *ctx, [*base, "--recovery-code", "--password-stdin"], centre.recovery_code + "\n"
    )
    assert code == 0, err
    assert "restaurée" in out and "nouvelle identité de synchronisation" in out
    marker = json.loads((dest / "restored.json").read_text())
    assert marker["sync_identity"] == "renew_before_sync"
    # The restored centre opens with the passwords of the backup and checks clean.
    code, out, err = run(
        *ctx,
        ["--data-dir", str(dest), "check", "--as", "admin", "--password-stdin"],
        ADMIN_PASSWORD + "\n",
    )
    assert code == 0 and "intègre" in out, err
    with pytest.raises(SystemExit) as usage:
        run(*ctx, ["backup", "restore", file, "--as", "admin"], "")
    assert usage.value.code == 2 and "--target" in ctx[1].readouterr().err


def test_schedule_rejects_bad_values(centre: Centre, ctx: Ctx) -> None:
    code, out, err = admin(ctx, centre, "schedule", "--at", "25:99")
    assert code == 1 and out == "" and "HH:MM" in err and err.count("\n") == 1
    code, _, err = admin(
        ctx, centre, "schedule", "--keep-daily", "0", "--keep-weekly", "0", "--keep-monthly", "0"
    )
    assert code == 1 and err.count("\n") == 1
    code, _, err = admin(ctx, centre, "schedule", "--add-target", str(centre.data_dir.path / "x"))
    assert code == 1 and "dossier des données" in err


def test_reception_may_not_back_up(centre: Centre, ctx: Ctx) -> None:
    code, _, err = run(
        *ctx,
        [
            "--data-dir",
            str(centre.data_dir.path),
            "backup",
            "now",
            "--as",
            "accueil",
            "--password-stdin",
        ],
        "Staff-Secret-42\n",
    )
    assert code == 1 and "gérer les sauvegardes" in err


_HOLD_OPEN = """
import sys
from pathlib import Path
from cms_desktop.services import workspace
from cms_desktop.storage.datadir import DataDir
ws, _actor = workspace.login(DataDir(Path(sys.argv[1])), "admin", sys.stdin.readline().strip())
print("open", flush=True)
sys.stdin.readline()
ws.close()
"""


def test_in_place_restore_is_refused_while_another_process_has_the_centre_open(
    centre: Centre, ctx: Ctx, tmp_path: Path
) -> None:
    import subprocess
    import sys

    usb = tmp_path / "usb"
    usb.mkdir()
    assert admin(ctx, centre, "now", "--to", str(usb))[0] == 0
    file = str(next(usb.iterdir()))
    app = subprocess.Popen(  # the application, as another process, with the centre open
        [sys.executable, "-c", _HOLD_OPEN, str(centre.data_dir.path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert app.stdin is not None and app.stdout is not None
    app.stdin.write(ADMIN_PASSWORD + "\n")
    app.stdin.flush()
    assert app.stdout.readline().strip() == "open"
    before = sorted(p.name for p in centre.data_dir.path.iterdir())
    try:
        code, out, err = admin(ctx, centre, "restore", file, "--in-place")
        assert code == 1 and out == "" and err.count("\n") == 1
        assert "est ouvert sur ce poste" in err and "fermez-le" in err
        # Nothing moved: no folder set aside, no unpacked copy left beside it.
        assert sorted(p.name for p in centre.data_dir.path.iterdir()) == before
        assert [p.name for p in tmp_path.iterdir() if "restauration" in p.name] == []
    finally:
        app.stdin.write("\n")
        app.stdin.close()
        app.wait(timeout=60)
    code, out, err = admin(ctx, centre, "restore", file, "--in-place")
    assert code == 0, err
    assert "conservées dans" in out
