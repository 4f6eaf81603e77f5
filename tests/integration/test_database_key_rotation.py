"""The database key's rotation at a disabling (#17, item 2): the disabled account's old
password and a kept copy of the old key-slot file open nothing once the station's file is
rekeyed; every remaining account and the recovery code do; a crash between the steps never
locks the centre out; an account that had no rekey pair is told what to do."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import select

from cms_desktop.domain.permissions import Role
from cms_desktop.services import backup_restore, backups, key_rotation, patients, setup, users
from cms_desktop.services.errors import LoginFailed, StoreUnavailable
from cms_desktop.storage import dbkey_rotation, in_use, keyslot_sync, keyslots
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.engine import opens_with
from cms_desktop.storage.models import AuditEntry, User
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD, Centre
from tests.patient_helpers import form

ACCOUNTS = [("admin", ADMIN_PASSWORD), ("accueil", STAFF_PASSWORD), ("direction", STAFF_PASSWORD)]


def _sqlcipher_opens(database: Path, key: bytes) -> bool:
    """An independent SQLCipher client (no project code) reading the file with ``key``."""
    conn = sqlcipher.connect(str(database))
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher.DatabaseError:
        return False
    finally:
        conn.close()
    return True


def _actions(centre: Centre, login: str = "admin", password: str = ADMIN_PASSWORD) -> list[str]:
    ws, _ = centre.login(login, password)
    try:
        with ws.store.read() as session:
            return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.at)))
    finally:
        ws.close()


def _add_patient(centre: Centre, name: str) -> str:
    ws, reception = centre.login("accueil")
    try:
        return patients.create_patient(
            ws, reception, form(birth_name=name, first_given_name="Zoé", given_names="Zoé", sex="F")
        )
    finally:
        ws.close()


def test_a_disabled_accounts_old_slot_file_and_password_open_nothing_after_the_rekey(
    centre: Centre, tmp_path: Path
) -> None:
    insider = tmp_path / "copie-keyslots.json"
    shutil.copy(centre.data_dir.key_slots, insider)  # kept by the doctor before leaving
    old_key = keyslots.unwrap(keyslots.load(insider), "dr.test", STAFF_PASSWORD)
    centre.disable("dr.test")
    slots = keyslots.load(centre.data_dir.key_slots)
    assert "dr.test" not in slots.slots and len(slots.generations) == 1
    assert "dr.test" not in slots.generations[0]["sealed"]
    _add_patient(centre, "Apresdesactivation")  # the next open rekeys, then writes
    database = centre.data_dir.database
    # The project's own key code, with the old file: the old key, which opens nothing now.
    old_slots = keyslots.load(insider)
    keys = key_rotation.candidate_keys(old_slots, "dr.test", STAFF_PASSWORD)
    assert keys == [old_key]
    # Its old slot beside the new generations (an insider merging files) reaches nothing new.
    merged = keyslots.load(centre.data_dir.key_slots)
    merged.slots["dr.test"] = old_slots.slots["dr.test"]
    assert key_rotation.candidate_keys(merged, "dr.test", STAFF_PASSWORD) == [old_key]
    assert not opens_with(database, old_key)
    assert not _sqlcipher_opens(database, old_key)  # an independent client agrees
    with pytest.raises(keyslots.BadCredentials):  # and the current file has no slot for it
        keyslots.unwrap_all(keyslots.load(centre.data_dir.key_slots), "dr.test", STAFF_PASSWORD)
    # Every remaining account and the recovery code reach the new key.
    new_slots = keyslots.load(centre.data_dir.key_slots)
    for login, password in ACCOUNTS:
        newest = key_rotation.candidate_keys(new_slots, login, password)[0]
        assert newest != old_key and _sqlcipher_opens(database, newest)
        ws, _ = centre.login(login, password)
        ws.close()
    code = keyslots.normalize_recovery_code(centre.recovery_code)
    recovered = key_rotation.candidate_keys(new_slots, keyslots.RECOVERY_LOGIN, code)
    assert _sqlcipher_opens(database, recovered[0]) and old_key in recovered
    setup.recover_access(centre.data_dir, centre.recovery_code, "direction", "Retrouve-Acces-58")
    ws, _ = centre.login("direction", "Retrouve-Acces-58")
    ws.close()
    actions = _actions(centre)
    assert actions.count("database_key_rotated") == 1
    assert actions.count("database_rekeyed") == 1  # once: the next logins find it done


def test_the_file_stays_under_the_old_key_until_the_next_open(centre: Centre) -> None:
    old_key = keyslots.unwrap(keyslots.load(centre.data_dir.key_slots), "admin", ADMIN_PASSWORD)
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        doctor = next(u for u in users.list_users(ws, admin) if u.login == "dr.test")
        users.set_active(ws, admin, doctor.id, False)
        # The open store keeps its key; an account made now gets the new one.
        assert ws.key == old_key
        users.create_user(
            ws,
            admin,
            users.NewUser("inf.apres", "Infirmier Après", Role.NURSE, STAFF_PASSWORD),
        )
    finally:
        ws.close()
    assert opens_with(centre.data_dir.database, old_key)
    ws, _ = centre.login("inf.apres")  # its slot wraps the new key: it rekeys the file
    ws.close()
    assert not opens_with(centre.data_dir.database, old_key)


def test_a_crash_after_the_rekey_before_the_slot_file_is_written(
    centre: Centre, monkeypatch: pytest.MonkeyPatch
) -> None:
    centre.disable("dr.test")
    real_update = keyslots.update

    def power_cut(path: Path, change: object) -> object:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(keyslots, "update", power_cut)
    with pytest.raises(StoreUnavailable):  # the file is rekeyed, the slot file not written
        centre.login("accueil")
    monkeypatch.setattr(keyslots, "update", real_update)
    slots = keyslots.load(centre.data_dir.key_slots)
    newest = key_rotation.candidate_keys(slots, "accueil", STAFF_PASSWORD)[0]
    assert opens_with(centre.data_dir.database, newest)  # the rekey itself was done
    for login, password in ACCOUNTS:
        ws, _ = centre.login(login, password)
        ws.close()


def test_a_crash_after_the_disabling_before_the_slot_file_has_the_new_key(
    centre: Centre, monkeypatch: pytest.MonkeyPatch
) -> None:
    def power_cut(*_args: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(key_rotation, "save_generation", power_cut)
    with pytest.raises(OSError):
        centre.disable("dr.test")  # committed in the database, not in the slot file
    monkeypatch.undo()
    assert keyslots.load(centre.data_dir.key_slots).generations == []
    old_key = keyslots.unwrap(keyslots.load(centre.data_dir.key_slots), "accueil", STAFF_PASSWORD)
    ws, _ = centre.login("accueil")  # opens under the old key, copies the generation
    ws.close()
    assert len(keyslots.load(centre.data_dir.key_slots).generations) == 1
    ws, _ = centre.login("accueil")  # and the next open rekeys
    ws.close()
    assert not opens_with(centre.data_dir.database, old_key)
    for login, password in ACCOUNTS:
        ws, _ = centre.login(login, password)
        ws.close()


def test_a_failed_rekey_leaves_the_old_key_working_and_is_done_at_the_next_open(
    centre: Centre, monkeypatch: pytest.MonkeyPatch
) -> None:
    centre.disable("dr.test")
    old_key = keyslots.unwrap(keyslots.load(centre.data_dir.key_slots), "accueil", STAFF_PASSWORD)

    def killed(*_args: object) -> None:
        raise sqlcipher.OperationalError("disk I/O error")

    monkeypatch.setattr(key_rotation, "rekey", killed)
    ws, _ = centre.login("accueil")
    ws.close()
    monkeypatch.undo()
    assert opens_with(centre.data_dir.database, old_key)
    ws, _ = centre.login("accueil")
    ws.close()
    assert not opens_with(centre.data_dir.database, old_key)
    actions = _actions(centre)
    assert "database_rekey_postponed" in actions and "database_rekeyed" in actions


def _strip_pair(centre: Centre, login: str) -> None:
    """As an account made before the upgrade: its password's slot never had a rekey pair,
    in the file nor in any replicated row (the slot is made again, same secret, new salt,
    keeping its other parts, as an older version's reset would have published it)."""
    secret = (
        keyslots.normalize_recovery_code(centre.recovery_code)
        if login == keyslots.RECOVERY_LOGIN
        else STAFF_PASSWORD
    )

    def strip(slots: keyslots.SlotFile) -> keyslots.Slot:
        held = slots.slots[login]
        opened = keyslots.unwrap_all(slots, login, secret)
        slot = keyslots.make_slot(
            slots.centre_id,
            login,
            held.kind,
            secret,
            opened.db_key,
            held.kdf,
            opened.key_generation,
        )
        parts = {
            "signing": (opened.signing_key_id, opened.signing_key),
            "clinical": (opened.agreement_key_id, opened.agreement_key),
        }
        slot = keyslots.with_keys(
            slots.centre_id,
            slot,
            secret,
            trust=opened.trust,
            **{n: (k, v) for n, (k, v) in parts.items() if k is not None and v is not None},
        )
        slots.slots[login] = slot
        return slot

    stripped = keyslots.update(centre.data_dir.key_slots, strip)
    assert stripped.rekey is None
    ws, _ = centre.login("admin", ADMIN_PASSWORD)
    try:
        with ws.store.write() as session:
            keyslot_sync.record_slot(session, stripped, password_set=True)
    finally:
        ws.close()


def test_an_account_without_a_rekey_pair_is_told_to_ask_for_a_new_password(
    centre: Centre,
) -> None:
    _strip_pair(centre, "accueil")
    centre.disable("dr.test")
    with pytest.raises(LoginFailed) as refused:
        centre.login("accueil")
    message = str(refused.value)
    assert "La clé de la base de données a été renouvelée le " in message
    assert "nouveau mot de passe" in message and "Administration › Comptes" in message
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        with ws.store.read() as session:
            rotated = session.scalars(
                select(AuditEntry).where(AuditEntry.action == "database_key_rotated")
            ).one()
            refusals = session.scalars(
                select(AuditEntry.user_login).where(
                    AuditEntry.action == "login_refused_key_rotated"
                )
            ).all()
        assert "accueil" in rotated.details and refusals == ["accueil"]
        reception = next(u for u in users.list_users(ws, admin) if u.login == "accueil")
        users.reset_password(ws, admin, reception.id, "Nouveau-Secret-Poste-31")
    finally:
        ws.close()
    ws, _ = centre.login("accueil", "Nouveau-Secret-Poste-31")
    ws.close()


def test_an_account_without_a_pair_gets_one_at_its_next_login(centre: Centre) -> None:
    _strip_pair(centre, "accueil")
    ws, _ = centre.login("accueil")
    ws.close()
    assert keyslots.load(centre.data_dir.key_slots).slots["accueil"].rekey is not None
    centre.disable("dr.test")
    ws, _ = centre.login("accueil")  # reached through its new pair
    ws.close()
    assert "rekey_pair_created" in _actions(centre)


def test_backups_before_the_rotation_restore_with_the_recovery_code_and_after_use_the_new_key(
    centre: Centre, tmp_path: Path
) -> None:
    target = tmp_path / "sauvegardes"
    target.mkdir()
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        made = Path(backups.create_backup(ws, admin, [str(target)]).written[0])
        before = tmp_path / made.name  # kept aside: the daily rotation may replace it
        shutil.copy(made, before)
        old_key = ws.key
    finally:
        ws.close()
    centre.disable("dr.test")
    ws, admin = centre.login("admin", ADMIN_PASSWORD)  # rekeys
    try:
        assert ws.key != old_key
        after = Path(backups.create_backup(ws, admin, [str(target)]).written[0])
        assert backups.verify_backup_file(ws, admin, before).row_counts
        assert backup_restore.trial_restore(ws, after)
        assert backup_restore.trial_restore(ws, before)
        new_key = ws.key
    finally:
        ws.close()
    for n, (archive, key) in enumerate(((before, old_key), (after, new_key))):
        dest = DataDir(tmp_path / f"restauree-{n}")
        backup_restore.restore(archive, dest, "", centre.recovery_code, recovery=True)
        assert opens_with(dest.database, key)


def test_a_generation_made_offline_still_sealed_to_a_disabled_account_is_replaced(
    centre: Centre,
) -> None:
    """Two stations disabling at once, offline: the newest generation may be sealed to an
    account disabled on the other. The next login that holds it makes another."""
    centre.disable("dr.test")
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        reception = next(u for u in users.list_users(ws, admin) if u.login == "accueil")
        # What the other station's disabling would write: accueil revoked, but the newest
        # generation (made here) still sealed to it.
        with ws.store.write() as session:
            keyslot_sync.record_revocation(session, "accueil")
            revoked = session.get(User, reception.id)
            assert revoked is not None
            revoked.active = False
    finally:
        ws.close()
    ws, _ = centre.login("direction")
    ws.close()
    generations = dbkey_rotation.parse_all(keyslots.load(centre.data_dir.key_slots).generations)
    assert [g.number for g in generations] == [1, 2]
    assert "accueil" not in generations[-1].sealed and "direction" in generations[-1].sealed


def test_a_slot_without_a_rekey_pair_but_with_its_clinical_pair_is_still_reached(
    centre: Centre,
) -> None:
    """The director and the recovery slot of a centre set up before the rekey pairs: the
    new key is sealed to the clinical X25519 pair their slots already wrap."""
    _strip_pair(centre, "direction")
    _strip_pair(centre, keyslots.RECOVERY_LOGIN)
    centre.disable("dr.test")
    ws, _ = centre.login("direction")  # reached through its clinical pair; gets a rekey pair
    ws.close()
    slots = keyslots.load(centre.data_dir.key_slots)
    assert slots.slots["direction"].rekey is not None
    newest = key_rotation.candidate_keys(slots, "direction", STAFF_PASSWORD)[0]
    assert opens_with(centre.data_dir.database, newest)
    code = keyslots.normalize_recovery_code(centre.recovery_code)
    assert key_rotation.candidate_keys(slots, keyslots.RECOVERY_LOGIN, code)[0] == newest
    ws, _ = centre.login("direction")
    ws.close()
    # Its new slot wraps the newest key: no new generation was needed for it.
    assert len(keyslots.load(centre.data_dir.key_slots).generations) == 1
    setup.recover_access(centre.data_dir, centre.recovery_code, "accueil", "Retrouve-Acces-58")
    # The recovery slot now has a rekey pair the newest generation was not sealed to: the
    # next login makes one that is.
    ws, _ = centre.login("direction")
    ws.close()
    slots = keyslots.load(centre.data_dir.key_slots)
    assert len(slots.generations) == 2
    recovery = slots.slots[keyslots.RECOVERY_LOGIN].rekey
    assert recovery is not None
    assert slots.generations[-1]["sealed"][keyslots.RECOVERY_LOGIN]["key_id"] == recovery["key_id"]


def test_a_file_that_missed_several_generations_opens_and_is_rekeyed_to_the_newest(
    centre: Centre,
) -> None:
    old_key = keyslots.unwrap(keyslots.load(centre.data_dir.key_slots), "admin", ADMIN_PASSWORD)
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        for login in ("dr.test", "accueil"):  # two disablings, no open in between
            target = next(u for u in users.list_users(ws, admin) if u.login == login)
            users.set_active(ws, admin, target.id, False)
    finally:
        ws.close()
    slots = keyslots.load(centre.data_dir.key_slots)
    assert [g["number"] for g in slots.generations] == [1, 2]
    assert "accueil" in slots.generations[0]["sealed"]
    assert "accueil" not in slots.generations[1]["sealed"]
    assert opens_with(centre.data_dir.database, old_key)
    ws, _ = centre.login("direction")  # generation 0 → 2 at once
    ws.close()
    keys = key_rotation.candidate_keys(
        keyslots.load(centre.data_dir.key_slots), "direction", STAFF_PASSWORD
    )
    assert len(keys) == 3 and keys[-1] == old_key
    assert opens_with(centre.data_dir.database, keys[0])


def test_the_rekey_waits_while_another_process_has_the_store_open(centre: Centre) -> None:
    centre.disable("dr.test")
    old_key = keyslots.unwrap(keyslots.load(centre.data_dir.key_slots), "accueil", STAFF_PASSWORD)
    other = in_use.hold(centre.data_dir.path)  # as « sync serve » would
    assert other is not None
    try:
        ws, _ = centre.login("accueil")
        ws.close()
        assert opens_with(centre.data_dir.database, old_key)
    finally:
        other.release()
    ws, _ = centre.login("accueil")
    ws.close()
    assert not opens_with(centre.data_dir.database, old_key)


def test_a_station_upgraded_late_takes_the_pair_its_account_got_elsewhere(
    centre: Centre,
) -> None:
    """An older version kept the slot without its rekey pair (it did not know the part):
    once upgraded, the login takes the pair of the replicated row instead of making one,
    so generations already sealed to that pair stay reachable."""
    pair = keyslots.load(centre.data_dir.key_slots).slots["accueil"].rekey
    assert pair is not None

    def as_an_older_version_kept_it(slots: keyslots.SlotFile) -> None:
        slots.slots["accueil"].rekey = None

    keyslots.update(centre.data_dir.key_slots, as_an_older_version_kept_it)
    ws, _ = centre.login("accueil")
    ws.close()
    assert keyslots.load(centre.data_dir.key_slots).slots["accueil"].rekey == pair
    assert "rekey_pair_created" not in _actions(centre)
    centre.disable("dr.test")
    ws, _ = centre.login("accueil")
    ws.close()


def test_the_recovery_code_takes_the_pair_its_slot_was_published_with(centre: Centre) -> None:
    """A file that lost the recovery slot's pair (kept by an older version): using the code
    takes the published pair back instead of making one no other station would seal to."""
    pair = keyslots.load(centre.data_dir.key_slots).slots[keyslots.RECOVERY_LOGIN].rekey
    assert pair is not None

    def as_an_older_version_kept_it(slots: keyslots.SlotFile) -> None:
        slots.slots[keyslots.RECOVERY_LOGIN].rekey = None

    keyslots.update(centre.data_dir.key_slots, as_an_older_version_kept_it)
    setup.recover_access(centre.data_dir, centre.recovery_code, "accueil", "Retrouve-Acces-58")
    assert keyslots.load(centre.data_dir.key_slots).slots[keyslots.RECOVERY_LOGIN].rekey == pair
    centre.disable("dr.test")
    slots = keyslots.load(centre.data_dir.key_slots)
    code = keyslots.normalize_recovery_code(centre.recovery_code)
    assert (
        key_rotation.candidate_keys(slots, keyslots.RECOVERY_LOGIN, code)[0]
        == (key_rotation.candidate_keys(slots, "direction", STAFF_PASSWORD)[0])
    )


def test_a_junk_generation_written_in_the_key_slot_file_locks_nobody_out(centre: Centre) -> None:
    # Whoever can edit keyslots.json can append a « newest » record nobody can open: the
    # accounts with a pair go on with the newest key they reach (review of session 11).
    def add(slots: keyslots.SlotFile) -> None:
        slots.generations.append(
            {
                "number": 10**9,
                "key_id": "junk",
                "made_at": "2026-01-01T00:00:00+00:00",
                "made_by": "x",
                "previous_number": 0,
                "previous_key_id": "",
                "previous": "",
                "sealed": {},
            }
        )

    keyslots.update(centre.data_dir.key_slots, add)
    for name, password in (("dr.test", STAFF_PASSWORD), ("admin", ADMIN_PASSWORD)):
        ws, _ = centre.login(name, password)
        ws.close()


def test_ones_own_new_password_in_a_window_opened_before_a_disabling_still_logs_in(
    centre: Centre,
) -> None:
    # The doctor's window was open when the administrator disabled an account elsewhere: her
    # new slot keeps her rekey pair, to which the new database key is sealed (review of
    # session 11: a new pair was reached by no generation and the next login refused).
    ws_doc, doctor = centre.login("dr.test")
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        gone = next(u for u in users.list_users(ws, admin) if u.login == "accueil")
        users.set_active(ws, admin, gone.id, False)
    finally:
        ws.close()
    centre.login("direction")[0].close()  # rekeys this station's file to the new key
    try:
        users.reset_password(ws_doc, doctor, doctor.user_id, "Mon-Nouveau-Mdp-2027x")
    finally:
        ws_doc.close()
    ws, _ = centre.login("dr.test", "Mon-Nouveau-Mdp-2027x")
    try:
        newest = ws.keyring.newest[0] if ws.keyring is not None else None
    finally:
        ws.close()
    # She reached the disabling's key with her own pair: no generation had to be made for a
    # pair nobody knew.
    assert len(keyslots.load(centre.data_dir.key_slots).generations) == 1
    assert newest is not None and newest[0] == 1
