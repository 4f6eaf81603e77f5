"""Active attacks on the clinical key (#17): an insider with the data directory and a
reception password (so the database key) *writes* rows and waits for a clinician to log
in. Neither a public key nor a grant is taken from the rows alone: a holder grants only
to keys it (or a holder it trusts) approved, and writes only under keys a trusted holder
gave it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from cms_desktop.domain.permissions import Role
from cms_desktop.services import clinical_access, patient_file, records, users
from cms_desktop.services.errors import LoginFailed, ValidationFailed
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import clinical_crypto, keyslots
from cms_desktop.storage.models import AgreementKey, ClinicalKeyGrant, Consultation, User, new_id
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD, Centre, hand_over
from tests.integration.clinical_fixtures import make_patient

SECRET = "Diagnostic PANGOLIN-5518"


def _insider(centre: Centre) -> Workspace:
    """The reception password opens the database key: rows can be written directly."""
    ws, _ = centre.login("accueil")
    return ws


def _publish(ws: Workspace, login: str) -> tuple[str, bytes]:
    """A public key of the insider's own, under ``login``, newer than any other."""
    private, public = clinical_crypto.new_agreement_pair()
    key_id = new_id()
    with ws.store.write() as session:
        session.add(
            AgreementKey(
                id=key_id,
                login=login,
                public_key=public,
                created_at=datetime.now(UTC) + timedelta(days=1),
            )
        )
    return key_id, private


def _grants_to(centre: Centre, key_id: str) -> list[ClinicalKeyGrant]:
    ws, _ = centre.login("admin", ADMIN_PASSWORD)
    try:
        with ws.store.read() as session:
            return list(
                session.scalars(
                    select(ClinicalKeyGrant).where(ClinicalKeyGrant.recipient_key_id == key_id)
                )
            )
    finally:
        ws.close()


def _write_note(centre: Centre, login: str, pid: str, text: str) -> str:
    ws, actor = centre.login(login)
    try:
        return records.sign_draft(
            ws,
            actor,
            records.save_draft(
                ws, actor, pid, records.NoteContent(reason="Visite", diagnosis=text)
            ),
        )
    finally:
        ws.close()


def test_a_forged_public_key_is_never_granted_the_key(centre: Centre) -> None:
    pid = make_patient(centre)
    _write_note(centre, "dr.test", pid, SECRET)
    ws = _insider(centre)
    try:
        forged = [_publish(ws, keyslots.RECOVERY_LOGIN)[0], _publish(ws, "dr.test")[0]]
        # And a clinician account of the insider's making, with its own key.
        with ws.store.write() as session:
            session.add(
                User(
                    login="dr.fantome",
                    full_name="Médecin Fantôme",
                    role=Role.DOCTOR.value,
                    password_hash="x",
                )
            )
        forged.append(_publish(ws, "dr.fantome")[0])
    finally:
        ws.close()
    for holder in ("direction", "dr.test", "direction"):  # routine logins of every holder
        ws, actor = centre.login(holder)
        try:
            assert ws.clinical_epoch == 1
            waiting = {w.key_id: w for w in clinical_access.waiting_for_key(ws, actor)}
        finally:
            ws.close()
        assert set(waiting) == set(forged)  # shown to the holder, with why, never granted
    assert waiting[forged[0]].reason.startswith("Nouvelle clé du code de récupération")
    assert waiting[forged[1]].reason.startswith("Nouvelle clé : le mot de passe a été défini")
    for key_id in forged:
        assert _grants_to(centre, key_id) == []
    # The genuine recovery key still receives every key.
    opened = keyslots.unwrap_all(
        keyslots.load(centre.data_dir.key_slots),
        keyslots.RECOVERY_LOGIN,
        keyslots.normalize_recovery_code(centre.recovery_code),
    )
    assert opened.agreement_key_id is not None
    assert {g.epoch for g in _grants_to(centre, opened.agreement_key_id)} == {1}


def test_a_forged_grant_is_never_written_under_nor_passed_on(centre: Centre) -> None:
    pid = make_patient(centre)
    before = _write_note(centre, "dr.test", pid, "Avant")
    planted = clinical_crypto.new_clinical_key(99, new_id())
    ws = _insider(centre)
    try:
        sender_id, sender_private = _publish(ws, "dr.test")
        with ws.store.write() as session:
            targets = session.execute(
                select(AgreementKey.id, AgreementKey.login, AgreementKey.public_key).where(
                    AgreementKey.login.in_(["dr.test", "direction"])
                )
            ).all()
            holders = {login: key_id for key_id, login, _ in targets if key_id != sender_id}
            for key_id, login, public in targets:
                if key_id == sender_id:
                    continue
                other = holders["direction" if login == "dr.test" else "dr.test"]
                for sender in (
                    None,  # the first format: proves no sender
                    clinical_crypto.Sender(sender_id, sender_private),  # a key of its own
                    # A trusted colleague's key id named as the sender, without its private
                    # key: the grant does not open as theirs.
                    clinical_crypto.Sender(other, sender_private),
                ):
                    session.add(
                        ClinicalKeyGrant(
                            key_id=planted.key_id,
                            epoch=planted.epoch,
                            recipient_login=login,
                            recipient_key_id=key_id,
                            sealed=clinical_crypto.seal(public, login, key_id, planted, sender),
                            granted_by="dr.test",
                        )
                    )
    finally:
        ws.close()
    after = _write_note(centre, "direction", pid, SECRET)
    ws, doctor = centre.login("dr.test")
    try:
        assert ws.clinical_epoch == 1
        assert ws.clinical_writing_key is not None
        assert ws.clinical_writing_key.key_id != planted.key_id
        # The planted key may open what was sealed under it (nothing), never more.
        assert planted.key_id not in ws.clinical_trusted
        file = patient_file.open_patient_file(ws, doctor, pid)
        assert {v.content.diagnosis for v in file.consultations} == {"Avant", SECRET}
        with ws.store.read() as session:
            rows = {n: session.get(Consultation, n) for n in (before, after)}
            passed_on = session.scalars(
                select(ClinicalKeyGrant.recipient_login).where(
                    ClinicalKeyGrant.key_id == planted.key_id,
                    ClinicalKeyGrant.granted_by != "dr.test",
                )
            ).all()
    finally:
        ws.close()
    for row in rows.values():
        assert row is not None and planted.key_id not in row.diagnosis
    assert passed_on == []  # no holder sealed the planted key to anyone


def test_a_password_set_by_the_administrator_gives_no_clinical_key(centre: Centre) -> None:
    pid = make_patient(centre)
    _write_note(centre, "dr.test", pid, SECRET)
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        doctor = next(u for u in users.list_users(ws, admin) if u.login == "dr.test")
        users.reset_password(ws, admin, doctor.id, "Admin-Connait-Ce-Mdp-41")
    finally:
        ws.close()
    # The administrator logs in as the doctor: a new key pair, which nobody trusts.
    ws, _ = centre.login("dr.test", "Admin-Connait-Ce-Mdp-41")
    try:
        assert ws.clinical_keys == {} and ws.clinical_writing_key is None
    finally:
        ws.close()
    ws, director = centre.login("direction")  # a holder's routine login
    try:
        (waiting,) = clinical_access.waiting_for_key(ws, director)
        assert waiting.login == "dr.test" and "défini par une autre personne" in waiting.reason
    finally:
        ws.close()
    ws, _ = centre.login("dr.test", "Admin-Connait-Ce-Mdp-41")
    try:
        assert ws.clinical_keys == {}
        # Grants the insider seals to this new key, even naming a sender, are never trusted.
        planted = clinical_crypto.new_clinical_key(1, new_id())
        sender_id, sender_private = _publish(ws, "direction")
        assert ws.agreement_key_id is not None
        with ws.store.write() as session:
            mine = session.get(AgreementKey, ws.agreement_key_id)
            assert mine is not None
            session.add(
                ClinicalKeyGrant(
                    key_id=planted.key_id,
                    epoch=1,
                    recipient_login="dr.test",
                    recipient_key_id=mine.id,
                    sealed=clinical_crypto.seal(
                        mine.public_key,
                        "dr.test",
                        mine.id,
                        planted,
                        clinical_crypto.Sender(sender_id, sender_private),
                    ),
                    granted_by="direction",
                )
            )
    finally:
        ws.close()
    ws, _ = centre.login("dr.test", "Admin-Connait-Ce-Mdp-41")
    try:
        assert ws.clinical_writing_key is None and ws.clinical_trusted == frozenset()
    finally:
        ws.close()


def test_a_disabled_then_re_enabled_account_waits_for_approval_again(centre: Centre) -> None:
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        doctor = next(u for u in users.list_users(ws, admin) if u.login == "dr.test")
        users.set_active(ws, admin, doctor.id, False)
    finally:
        ws.close()
    ws, director = centre.login("direction")  # rotates: epoch 2, dr.test's key revoked
    try:
        assert ws.clinical_epoch == 2
    finally:
        ws.close()
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        users.set_active(ws, admin, doctor.id, True)
        users.reset_password(ws, admin, doctor.id, STAFF_PASSWORD)
    finally:
        ws.close()
    ws, director = centre.login("direction")
    try:
        assert ws.clinical_epoch == 2
        assert [w.login for w in clinical_access.waiting_for_key(ws, director)] == ["dr.test"]
    finally:
        ws.close()
    # A hand-over at its screen gives it the current epoch again.
    hand_over(centre.data_dir, "dr.test", holder="direction")
    ws, _ = centre.login("dr.test")
    try:
        assert ws.clinical_epoch == 2
    finally:
        ws.close()


def _plant_legacy_grant(centre: Centre, login: str, key: clinical_crypto.ClinicalKey) -> None:
    """A grant of the first format (session 10: no sender) of ``key`` to ``login``'s key."""
    ws = _insider(centre)
    try:
        with ws.store.write() as session:
            for key_id, public in session.execute(
                select(AgreementKey.id, AgreementKey.public_key).where(AgreementKey.login == login)
            ):
                session.add(
                    ClinicalKeyGrant(
                        key_id=key.key_id,
                        epoch=key.epoch,
                        recipient_login=login,
                        recipient_key_id=key_id,
                        sealed=clinical_crypto.seal(public, login, key_id, key),
                        granted_by="direction",
                    )
                )
    finally:
        ws.close()


def test_removing_a_holders_trust_list_from_the_file_brings_no_first_use_back(
    centre: Centre,
) -> None:
    planted = clinical_crypto.new_clinical_key(7, new_id())
    _plant_legacy_grant(centre, "direction", planted)

    def strip(slots: keyslots.SlotFile) -> None:
        slots.slots["direction"].trust = None  # the insider edits keyslots.json

    keyslots.update(centre.data_dir.key_slots, strip)
    ws, _ = centre.login("direction")
    try:
        # Nothing is trusted any more (the list is gone): no disclosure, but the account
        # cannot write until a holder hands the key over again.
        assert planted.key_id not in ws.clinical_trusted
        assert ws.clinical_writing_key is None
    finally:
        ws.close()
    hand_over(centre.data_dir, "direction")
    ws, _ = centre.login("direction")
    try:
        assert ws.clinical_epoch == 1 and planted.key_id not in ws.clinical_trusted
    finally:
        ws.close()


def test_an_account_of_the_previous_version_trusts_once_the_keys_it_already_held(
    centre: Centre,
) -> None:
    pid = make_patient(centre)
    _write_note(centre, "dr.test", pid, SECRET)
    ws, _ = centre.login("dr.test")
    try:
        held = dict(ws.clinical_keys)
    finally:
        ws.close()
    (key,) = held.values()

    def as_session_10(slots: keyslots.SlotFile) -> None:
        # The X25519 part wrapped under its first name, no trust list: a slot of session 10.
        opened = keyslots.unwrap_all(slots, "dr.test", STAFF_PASSWORD)
        assert opened.kek is not None and opened.agreement_key_id and opened.agreement_key
        slot = slots.slots["dr.test"]
        slot.trust = None
        slot.clinical = keyslots._wrap_part(
            opened.kek,
            slots.centre_id,
            "dr.test",
            "clinical",
            opened.agreement_key_id,
            opened.agreement_key,
        )

    keyslots.update(centre.data_dir.key_slots, as_session_10)
    _plant_legacy_grant(centre, "dr.test", key)  # what session 10 granted
    ws, doctor = centre.login("dr.test")
    try:
        assert ws.clinical_trusted == frozenset({key.key_id}) and ws.clinical_epoch == 1
        file = patient_file.open_patient_file(ws, doctor, pid)
        assert SECRET in {v.content.diagnosis for v in file.consultations}
    finally:
        ws.close()
    # Its list is saved, bound: the next login is no first use any more.
    unwrapped = keyslots.unwrap_all(
        keyslots.load(centre.data_dir.key_slots), "dr.test", STAFF_PASSWORD
    )
    assert unwrapped.trust_bound and unwrapped.trust


def test_wrong_holder_passwords_at_a_hand_over_lock_the_holder_as_at_login(
    centre: Centre,
) -> None:
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        users.create_user(
            ws, admin, users.NewUser("inf.neuve", "Infirmière Neuve", Role.NURSE, STAFF_PASSWORD)
        )
    finally:
        ws.close()
    ws, nurse = centre.login("inf.neuve")
    try:
        for _ in range(keyslots.MAX_FAILED_ATTEMPTS):
            with pytest.raises(ValidationFailed, match="détenteur de la clé incorrect"):
                clinical_access.receive_key(ws, nurse, "dr.test", "devine-peut-etre")
        with pytest.raises(ValidationFailed, match="verrouillé"):
            clinical_access.receive_key(ws, nurse, "dr.test", STAFF_PASSWORD)
        assert ws.clinical_writing_key is None
    finally:
        ws.close()
    with pytest.raises(LoginFailed, match="verrouillé"):
        centre.login("dr.test")


def test_a_clinician_back_from_another_role_keeps_getting_new_epochs_after_a_hand_over(
    centre: Centre,
) -> None:
    def as_admin(change):  # type: ignore[no-untyped-def]
        ws, admin = centre.login("admin", ADMIN_PASSWORD)
        try:
            return change(ws, admin)
        finally:
            ws.close()

    nurse = as_admin(
        lambda ws, a: users.create_user(
            ws, a, users.NewUser("inf.a", "Infirmière A", Role.NURSE, STAFF_PASSWORD)
        )
    )
    hand_over(centre.data_dir, "inf.a")
    as_admin(lambda ws, a: users.change_role(ws, a, nurse.id, Role.RECEPTION))
    centre.login("dr.test")[0].close()  # revokes her key, epoch 2
    as_admin(lambda ws, a: users.change_role(ws, a, nurse.id, Role.NURSE))
    hand_over(centre.data_dir, "inf.a")  # her old key stays revoked: a new pair is handed
    centre.login("dr.test")[0].close()
    # Another clinician leaves: the next epoch must reach her too.
    other = as_admin(
        lambda ws, a: users.create_user(
            ws, a, users.NewUser("dr.b", "Médecin B", Role.DOCTOR, STAFF_PASSWORD)
        )
    )
    hand_over(centre.data_dir, "dr.b")
    as_admin(lambda ws, a: users.set_active(ws, a, other.id, False))
    ws, _ = centre.login("dr.test")  # makes epoch 3
    try:
        newest = ws.clinical_writing_key
    finally:
        ws.close()
    ws, _ = centre.login("inf.a")
    try:
        # The very key dr.test made (not one of her own making: she was granted it).
        assert newest is not None and newest.epoch == 3
        assert ws.clinical_writing_key == newest
    finally:
        ws.close()
