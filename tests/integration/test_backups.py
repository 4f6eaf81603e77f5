"""Backups on real SQLCipher files: online copy while writes go on, verification, restore."""

from __future__ import annotations

import json
import tarfile
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest

from cms_desktop.services import audit_trail, backup_restore, backups, patients
from cms_desktop.services.backups import BackupFailed
from cms_desktop.storage import backup_archive
from cms_desktop.storage.datadir import DataDir
from tests.conftest import ADMIN_PASSWORD, Centre
from tests.integration.backup_helpers import (
    add_patient_with_note,
    assert_no_clear_patient_data,
    bulk_patients,
    table_counts,
)
from tests.patient_helpers import form


@pytest.fixture
def target(tmp_path: Path) -> Path:
    folder = tmp_path / "usb"
    folder.mkdir()
    return folder


def _letters(n: int) -> str:
    return "".join(chr(ord("a") + int(d)) for d in str(n))


def _backup(centre: Centre, target: Path) -> Path:
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        result = backups.create_backup(ws, admin, [str(target)])
    finally:
        ws.close()
    assert len(result.written) == 1
    return Path(result.written[0])


def test_backup_taken_while_writes_continue_restores_intact(
    centre: Centre, target: Path, tmp_path: Path
) -> None:
    add_patient_with_note(centre)
    bulk_patients(centre, 30_000)  # a copy of several steps: saves land between them
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    writer_ws, reception = centre.login("accueil")
    stop = threading.Event()
    written: list[str] = []
    errors: list[BaseException] = []
    saved = threading.Condition()

    def keep_saving() -> None:
        n = 0
        try:
            while not stop.is_set():
                n += 1
                pid = patients.create_patient(
                    writer_ws,
                    reception,
                    form(
                        birth_name=f"Martin{_letters(n)}",
                        birth_date=f"{date(1950, 1, 1) + timedelta(days=(37 * n) % 20_000):%d/%m/%Y}",
                    ),
                )
                with saved:
                    written.append(pid)
                    saved.notify_all()
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)

    copying: list[int] = []
    steps: list[float] = []

    def progress(fraction: float, phase: str) -> None:
        # Between two steps of the copy (its read transaction open), saves must go through.
        if phase == "Copie":
            steps.append(fraction)
        if phase == "Copie" and not copying:
            with saved:
                copying.append(len(written))
                assert saved.wait_for(lambda: len(written) >= copying[0] + 3, timeout=30)

    writer = threading.Thread(target=keep_saving)
    writer.start()
    try:
        result = backups.create_backup(ws, admin, [str(target)], progress)
    finally:
        stop.set()
        writer.join(60)
    assert not errors
    assert copying and len(written) >= copying[0] + 3
    assert len(steps) >= 3 and steps[0] < 0.5  # the first pause was mid-copy
    live_counts = table_counts(ws)
    ws.close()
    writer_ws.close()

    path = Path(result.written[0])
    manifest = backup_archive.read_manifest(path)
    assert manifest["row_counts"]["patients"] < live_counts["patients"]
    restored = DataDir(tmp_path / "restored")
    out = backup_restore.restore(path, restored, "admin", ADMIN_PASSWORD)
    assert out.row_counts == manifest["row_counts"]
    rws, _ = Centre(restored, "").login("admin", ADMIN_PASSWORD)
    try:
        assert rws.store.integrity_check() == []
        assert audit_trail.verify(rws).ok
        counts = table_counts(rws)
        # The login just made adds audit/op-log rows; every other table is as in the manifest.
        for table, count in manifest["row_counts"].items():
            if table not in {"audit_log", "op_log", "local_state"}:
                assert counts[table] == count, table
    finally:
        rws.close()
    marker = json.loads((restored.path / "restored.json").read_text())
    assert marker["sync_identity"] == "renew_before_sync"
    assert marker["station_id"] == manifest["station_id"]


def test_backup_file_holds_no_clear_patient_data(centre: Centre, target: Path) -> None:
    add_patient_with_note(centre)
    path = _backup(centre, target)
    assert_no_clear_patient_data(path)
    # Nor anything left beside it, nor in the data directory's work folder.
    assert [p.name for p in target.iterdir()] == [path.name]
    assert not (centre.data_dir.path / ".backup-work").exists()


def test_manifest_describes_the_copy(centre: Centre, target: Path) -> None:
    add_patient_with_note(centre)
    path = _backup(centre, target)
    manifest = backup_archive.read_manifest(path)
    ws, _admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        assert manifest["centre_id"] == ws.centre_id
        assert manifest["station_id"] == ws.store.station_id
        assert manifest["centre_name"] == "CMS des Tests"
        own = manifest["high_water"][ws.store.station_id]
        assert own["seq"] >= 1 and own["hlc"]
        assert manifest["version_vector"] == {ws.store.station_id: own["seq"]}
        assert manifest["schema_revision"] and manifest["schema_version"] >= 1
        assert backup_archive.mac_ok(manifest, ws.key)
        assert not backup_archive.mac_ok(manifest, b"\1" * 32)
    finally:
        ws.close()
    with tarfile.open(path) as tar:
        names = tar.getnames()
        sizes = {m.name: m.size for m in tar.getmembers()}
    assert names == ["manifest.json", "keyslots.json", "centre.db"]
    for member in manifest["members"]:
        assert sizes[member["name"]] == member["size"]


def _verify(centre: Centre, path: Path) -> backups.VerifyReport:
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        return backups.verify_backup_file(ws, admin, path)
    finally:
        ws.close()


def test_verify_accepts_a_good_file_and_names_what_is_wrong(
    centre: Centre, target: Path, tmp_path: Path
) -> None:
    add_patient_with_note(centre)
    path = _backup(centre, target)
    assert "intacte" in _verify(centre, path).message

    truncated = tmp_path / "tronquee.cmsbak"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(BackupFailed, match="tronquée"):
        _verify(centre, truncated)

    altered = tmp_path / "alteree.cmsbak"
    data = bytearray(path.read_bytes())
    data[-20_000] ^= 0xFF  # a byte of the database copy, near the end of the file
    altered.write_bytes(bytes(data))
    with pytest.raises(BackupFailed, match="altérée"):
        _verify(centre, altered)

    not_a_backup = tmp_path / "texte.cmsbak"
    not_a_backup.write_text("bonjour")
    with pytest.raises(BackupFailed, match="n'est pas une sauvegarde"):
        _verify(centre, not_a_backup)


def test_verify_refuses_another_centres_backup(
    centre: Centre, target: Path, tmp_path: Path
) -> None:
    from cms_desktop.services import setup
    from tests.conftest import FAST_KDF

    other = DataDir(tmp_path / "autre")
    setup.initialise_centre(
        other, setup.CentreDraft(name="CMS Voisin"), "admin", "A", ADMIN_PASSWORD, kdf=FAST_KDF
    )
    other_backup = _backup(Centre(other, ""), target)
    with pytest.raises(BackupFailed, match="autre centre"):
        _verify(centre, other_backup)


def test_a_forged_manifest_is_refused(centre: Centre, target: Path, tmp_path: Path) -> None:
    path = _backup(centre, target)
    manifest = backup_archive.read_manifest(path)
    manifest["row_counts"]["users"] += 1
    forged = tmp_path / "forged.cmsbak"
    with tarfile.open(path) as src, tarfile.open(forged, "w", format=tarfile.PAX_FORMAT) as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "manifest.json":
                data = json.dumps(manifest).encode()
                member.size = len(data)
            import io

            dst.addfile(member, io.BytesIO(data))
    with pytest.raises(BackupFailed, match="manifeste"):
        _verify(centre, forged)


def test_restore_needs_an_administrator_of_that_backup_or_the_recovery_code(
    centre: Centre, target: Path, tmp_path: Path
) -> None:
    path = _backup(centre, target)
    dest = DataDir(tmp_path / "neuf")
    with pytest.raises(BackupFailed, match="mot de passe incorrect"):
        backup_restore.restore(path, dest, "admin", "faux")
    with pytest.raises(BackupFailed, match="Seul un administrateur"):
        backup_restore.restore(path, dest, "dr.test", "Staff-Secret-42")
    with pytest.raises(BackupFailed, match="Code de récupération incorrect"):
        backup_restore.restore(path, dest, "", "AAAA-BBBB-CCCC-DDDD-EEEE", recovery=True)
    assert not dest.path.exists()
    assert [p.name for p in tmp_path.iterdir() if "restauration" in p.name] == []
    backup_restore.restore(path, dest, "", centre.recovery_code.lower(), recovery=True)
    assert dest.database.exists() and dest.key_slots.exists()


def test_restore_in_place_keeps_the_current_data_aside(
    centre: Centre, target: Path, tmp_path: Path
) -> None:
    path = _backup(centre, target)
    add_patient_with_note(centre)  # after the backup: kept in the set-aside folder only
    before = centre.data_dir.database.read_bytes()
    with pytest.raises(BackupFailed, match="déjà installé"):
        backup_restore.restore(path, centre.data_dir, "admin", ADMIN_PASSWORD)
    assert centre.data_dir.database.read_bytes() == before
    result = backup_restore.restore(path, centre.data_dir, "admin", ADMIN_PASSWORD, in_place=True)
    assert result.set_aside is not None
    aside = Path(result.set_aside)
    assert "avant-restauration" in aside.name
    assert (aside / "centre.db").read_bytes() == before
    ws, _ = centre.login("admin", ADMIN_PASSWORD)
    try:
        assert table_counts(ws)["patients"] == 0
    finally:
        ws.close()


def test_a_missing_or_full_target_writes_nothing_and_keeps_older_backups(
    centre: Centre, target: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backup(centre, target)
    before = first.read_bytes()
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        with pytest.raises(BackupFailed, match="introuvable"):
            backups.create_backup(ws, admin, [str(tmp_path / "débranché")])
        assert not (tmp_path / "débranché").exists()

        real_add = backup_archive._add
        calls = {"n": 0}

        def fills_up(tar: tarfile.TarFile, source: backup_archive.Source, *rest: object) -> None:
            calls["n"] += 1
            if source.name == "centre.db":  # the disk fills in the middle of the copy
                tar.fileobj.write(b"\0" * 10_000)  # type: ignore[union-attr]
                raise OSError(28, "No space left on device")
            real_add(tar, source, *rest)  # type: ignore[arg-type]

        monkeypatch.setattr(backup_archive, "_add", fills_up)
        with pytest.raises(BackupFailed, match="support plein"):
            backups.create_backup(ws, admin, [str(target)])
        monkeypatch.setattr(backup_archive, "_add", real_add)
        assert calls["n"] == 3
        status = backups.last_good_backup(ws)
        assert "support plein" in status.last_failure
        assert "a échoué" in status.line
    finally:
        ws.close()
    assert [p.name for p in target.iterdir()] == [first.name]
    assert first.read_bytes() == before


def test_rotation_keeps_daily_weekly_monthly(centre: Centre, target: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from cms_desktop.domain.backup_policy import Retention, Schedule

    path = _backup(centre, target)
    # Older backups of this station (copies under older names) and another station's file.
    prefix = path.name.rsplit("-", 1)[0]
    newest = datetime.strptime(path.name.rsplit("-", 1)[1][:15], "%Y%m%dT%H%M%S").replace(
        tzinfo=UTC
    )
    for days in range(1, 40):
        stamp = newest - timedelta(days=days)
        (target / f"{prefix}-{stamp:%Y%m%dT%H%M%SZ}.cmsbak").write_bytes(b"old")
    foreign = target / "cms-00000000-11111111-20200101T000000Z.cmsbak"
    foreign.write_bytes(b"other station")
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        backups.save_schedule(
            ws, admin, Schedule(targets=(str(target),), retention=Retention(3, 2, 0))
        )
        result = backups.create_backup(ws, admin)
    finally:
        ws.close()
    kept = sorted(p.name for p in target.iterdir())
    assert foreign.name in kept
    assert Path(result.written[0]).name in kept
    # 3 days + at most 2 more (weeks), the rest removed.
    assert len(kept) <= 1 + 3 + 2
    assert len(result.removed) >= 34


def test_status_and_monthly_test_restore(centre: Centre, target: Path) -> None:
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        status = backups.last_good_backup(ws)
        assert status.overdue and status.last_good_at is None
        assert backup_restore.trial_restore_due(ws)
        backups.create_backup(ws, admin, [str(target)])
        status = backups.last_good_backup(ws)
        assert not status.overdue and status.line.startswith("Dernière sauvegarde")
        assert backup_restore.trial_restore(ws)
        assert not backup_restore.trial_restore_due(ws)
        status = backups.last_good_backup(ws)
        assert status.last_test_ok and "réussie" in status.last_test_message
        # A damaged backup makes the test fail, and the status says so.
        path = Path(status.last_good_file)
        data = bytearray(path.read_bytes())
        data[-20_000] ^= 0xFF
        path.write_bytes(bytes(data))
        assert not backup_restore.trial_restore(ws)
        assert "échec" in backups.last_good_backup(ws).last_test_message
    finally:
        ws.close()


def test_only_an_administrator_may_back_up(centre: Centre, target: Path) -> None:
    from cms_desktop.domain.permissions import PermissionDenied

    ws, doctor = centre.login("dr.test")
    try:
        with pytest.raises(PermissionDenied):
            backups.create_backup(ws, doctor, [str(target)])
    finally:
        ws.close()
    assert list(target.iterdir()) == []


def test_one_heavy_job_at_a_time(centre: Centre, target: Path) -> None:
    path = _backup(centre, target)
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        with backups.exclusive_work(centre.data_dir):  # as another process's backup would
            with pytest.raises(BackupFailed, match="déjà en cours"):
                backups.create_backup(ws, admin, [str(target)])
            with pytest.raises(BackupFailed, match="déjà en cours"):
                backups.verify_backup_file(ws, admin, path)
            assert not backup_restore.trial_restore(ws)  # put off, not counted as failed
        assert backups.last_good_backup(ws).last_test_at is None
        assert "intacte" in backups.verify_backup_file(ws, admin, path).message
    finally:
        ws.close()


def test_restoring_another_centre_in_place_is_refused(
    centre: Centre, target: Path, tmp_path: Path
) -> None:
    from cms_desktop.services import setup
    from tests.conftest import FAST_KDF

    other = DataDir(tmp_path / "autre")
    setup.initialise_centre(
        other, setup.CentreDraft(name="CMS Voisin"), "admin", "A", ADMIN_PASSWORD, kdf=FAST_KDF
    )
    foreign = _backup(Centre(other, ""), target)
    before = centre.data_dir.database.read_bytes()
    with pytest.raises(BackupFailed, match=r"autre centre \(CMS Voisin\)"):
        backup_restore.restore(foreign, centre.data_dir, "admin", ADMIN_PASSWORD, in_place=True)
    assert centre.data_dir.database.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if "restauration" in p.name]
    # Into a new folder it is a restore like any other (a centre moved to new PCs).
    out = backup_restore.restore(foreign, DataDir(tmp_path / "neuf"), "admin", ADMIN_PASSWORD)
    assert out.set_aside is None


def test_a_centre_with_a_tampered_audit_trail_is_not_backed_up_as_good(
    centre: Centre, target: Path
) -> None:
    import sqlcipher3.dbapi2 as sqlcipher

    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    key = ws.key
    ws.close()
    conn = sqlcipher.connect(str(centre.data_dir.database))
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET details = '{\"x\": 1}' WHERE seq = 2")
    conn.commit()
    conn.close()
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        with pytest.raises(BackupFailed, match=r"journal d'audit altéré : entrée n° 2 .* modifiée"):
            backups.create_backup(ws, admin, [str(target)])
        assert backups.last_good_backup(ws).last_good_at is None
    finally:
        ws.close()
    assert list(target.iterdir()) == []
