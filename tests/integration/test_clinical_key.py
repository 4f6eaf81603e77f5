"""The clinical key (#17): with the data directory and a reception or administrator
password, no clinical text written under the key can be read — tried with the project's
own key-unwrapping code and with SQLCipher directly; clinicians read it, a clinician not
yet granted is told whom to ask, the recovery code opens it, tampering shows."""

from __future__ import annotations

import hashlib
import io
import sys
from pathlib import Path

import pytest
import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import select

from cms_desktop.cli import main
from cms_desktop.domain.documents import DocumentKind
from cms_desktop.domain.permissions import Role
from cms_desktop.domain.prescription import PrescriptionLine
from cms_desktop.domain.signed_acts import SignatureStatus
from cms_desktop.domain.synthesis import Allergy
from cms_desktop.services import (
    archives,
    clinical_access,
    clinical_fields,
    documents,
    patient_file,
    patients,
    record_access,
    records,
    setup,
    synthesis,
    users,
)
from cms_desktop.services import prescriptions as rx
from cms_desktop.services.clinical_fields import TAMPERED_TEXT
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.services.patient_form import AldForm
from cms_desktop.services.prescriptions import latest_weight
from cms_desktop.storage import blobs, clinical_crypto, clinical_grants, keyslots
from cms_desktop.storage.models import (
    AgreementKey,
    ClinicalKeyGrant,
    Consultation,
    Document,
)
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD, Centre
from tests.integration.clinical_fixtures import make_patient
from tests.integration.printing.helpers import set_practitioner

SECRET = "Tuberculose ZORGLUB-7731"
SECRET_EXAM = "Adénopathie XYLOPHAGE"
SECRET_DRAFT = "Brouillon QUETZAL-4410"
SECRET_ALLERGY = "Allergène WOMBAT-9902"
SECRET_DRUG = "kangourine"
WEIGHT = 73.45
SECRET_DOC = "Scanner PANGOLIN-6120"  # in a clinical document's content
SECRET_DOC_TITLE = "Compte rendu TAPIR-2207"
SECRET_TEMPLATE = "Protocole OCELOT-8841"  # a prescription template's name
SECRET_TEMPLATE_DRUG = "wapitimycine"
SECRET_ALD = "Maladie de GNOU-5093"  # an ALD's label
ARCHIVE_PHRASE = "Quatre chevaux Bleus dans 1 pré"
DOC_PDF = b"%PDF-1.4\n" + SECRET_DOC.encode() + b"\n" + bytes(range(256)) * 40 + b"\n%%EOF"


def _write_notes(centre: Centre, pid: str) -> tuple[str, str]:
    """A signed note, its amendment and a draft, all with synthetic secrets."""
    ws, doctor = centre.login("dr.test")
    try:
        content = records.NoteContent(
            reason="Toux", examination=SECRET_EXAM, diagnosis=SECRET, weight_kg=WEIGHT
        )
        note = records.sign_draft(ws, doctor, records.save_draft(ws, doctor, pid, content))
        fix = records.amend(ws, doctor, note, records.NoteContent(diagnosis=SECRET + " (avenant)"))
        records.save_draft(ws, doctor, pid, records.NoteContent(reason=SECRET_DRAFT))
        synthesis.add_entry(ws, doctor, pid, Allergy(SECRET_ALLERGY, reaction="Urticaire"))
        set_practitioner(ws, "dr.test")
        line = PrescriptionLine(
            dci=SECRET_DRUG, strength="1 g", dosage="1 le matin", duration="5 jours"
        )
        issued = rx.issue_prescription(ws, doctor, rx.PrescriptionDraft(pid, (line,)))
        assert issued.pdf.startswith(b"%PDF")  # printed in clear, stored sealed
        documents.import_document(
            ws,
            doctor,
            pid,
            "scanner.pdf",
            DOC_PDF,
            DocumentKind.EXAM_RESULT,
            SECRET_DOC_TITLE,
            None,
        )
        template_line = PrescriptionLine(
            dci=SECRET_TEMPLATE_DRUG, strength="250 mg", dosage="1 le soir", duration="10 jours"
        )
        rx.save_template(ws, doctor, SECRET_TEMPLATE, (template_line,))
    finally:
        ws.close()
    # Reception records the ALD (its dates), the doctor names it.
    ws, reception = centre.login("accueil")
    try:
        ald_id = patients.add_ald(ws, reception, pid, AldForm("", "", "01/01/2020"))
    finally:
        ws.close()
    ws, doctor = centre.login("dr.test")
    try:
        patients.set_ald_label(ws, doctor, ald_id, SECRET_ALD, "30")
    finally:
        ws.close()
    return note, fix


def _db_key_from(centre: Centre, login: str, password: str) -> keyslots.Unwrapped:
    """What the project's own key code gives an insider holding ``login``'s password."""
    return keyslots.unwrap_all(keyslots.load(centre.data_dir.key_slots), login, password)


def _every_stored_text(centre: Centre, db_key: bytes) -> str:
    """Every text value of every table and the op-log's values, read with SQLCipher
    directly (no application code): what an insider with the database key sees."""
    conn = sqlcipher.connect(str(centre.data_dir.database))
    conn.execute(f"PRAGMA key = \"x'{db_key.hex()}'\"")
    out: list[str] = []
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert "op_log" in tables and "consultations" in tables
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, bytes):
                        out.append(value.decode("utf-8", "replace"))
                    elif value is not None:
                        out.append(str(value))
    finally:
        conn.close()
    return "\n".join(out)


@pytest.mark.parametrize(
    ("login", "password"), [("accueil", STAFF_PASSWORD), ("admin", ADMIN_PASSWORD)]
)
def test_a_reception_or_administrator_password_decrypts_no_clinical_text(
    centre: Centre, login: str, password: str
) -> None:
    pid = make_patient(centre)
    note, _fix = _write_notes(centre, pid)
    opened = _db_key_from(centre, login, password)
    # Their slot holds the database key only: no X25519 key, so no grant opens.
    assert opened.agreement_key is None and opened.agreement_key_id is None
    everything = _every_stored_text(centre, opened.db_key)
    secrets = (SECRET, SECRET_EXAM, SECRET_DRAFT, SECRET_ALLERGY, "ZORGLUB", "QUETZAL", "WOMBAT")
    later = (SECRET_DOC, SECRET_DOC_TITLE, SECRET_TEMPLATE, SECRET_TEMPLATE_DRUG, SECRET_ALD)
    for secret in (*secrets, *later, "PANGOLIN", "TAPIR", "OCELOT", "wapiti", "GNOU", "scanner"):
        assert secret not in everything, secret
    for secret in (SECRET_DRUG, SECRET_DRUG.upper(), str(WEIGHT), "%PDF"):
        assert secret not in everything
    assert clinical_crypto.FIELD_PREFIX in everything  # the ciphertext is there, unread
    # The grants are there too, but sealed to clinicians' and the recovery slot's keys:
    # none is addressed to this account, and its session opens none.
    ws, _actor = centre.login(login, password)
    try:
        assert ws.clinical_keys == {} and ws.clinical_writing_key is None
        with ws.store.read() as session:
            grants = session.scalars(select(ClinicalKeyGrant)).all()
            assert grants and login not in {g.recipient_login for g in grants}
            stored = session.get(Consultation, note)
            assert stored is not None and stored.weight_kg is None
            with pytest.raises(clinical_crypto.ClinicalKeyMissing):
                clinical_crypto.decrypt_field(
                    ws.clinical_keys, "consultations", note, "diagnosis", stored.diagnosis
                )
    finally:
        ws.close()


def test_clinicians_and_the_director_read_what_was_written(centre: Centre) -> None:
    pid = make_patient(centre)
    note, fix = _write_notes(centre, pid)
    for login in ("dr.test", "direction"):
        ws, actor = centre.login(login)
        try:
            file = patient_file.open_patient_file(ws, actor, pid)
            by_id = {view.id: view for view in file.consultations}
            assert by_id[note].content.diagnosis == SECRET
            assert by_id[note].content.examination == SECRET_EXAM
            assert by_id[note].content.weight_kg == WEIGHT
            assert by_id[fix].content.diagnosis == SECRET + " (avenant)"
            # Signatures cover the ciphertext as stored: they verify.
            assert by_id[note].signature is SignatureStatus.VERIFIED
            assert by_id[fix].signature is SignatureStatus.VERIFIED
            assert [a.entry.substance for a in file.active_allergies] == [SECRET_ALLERGY]
            (doc,) = documents.list_documents(ws, actor, pid)
            content = documents.read_document(ws, actor, doc.id)
            assert (content.data, doc.title, doc.original_filename) == (
                DOC_PDF,
                SECRET_DOC_TITLE,
                "scanner.pdf",
            )
            (ald,) = patients.get_patient(ws, actor, pid).alds
            assert (ald.label, ald.code, ald.hidden) == (SECRET_ALD, "30", False)
            (issued,) = rx.list_prescriptions(ws, actor, pid)
            assert SECRET_DRUG.upper() in issued.summary
            assert rx.prescription_pdf(ws, actor, issued.id).startswith(b"%PDF")
            # The amendment (no weight) replaces the note in the curves; the latest weight
            # recorded is still found, opened in memory, for a prescription.
            assert patient_file.measurement_series(ws, actor, pid)["weight"] == []
            with ws.store.read() as session:
                assert latest_weight(session, pid, ws.clinical_keys) == WEIGHT
        finally:
            ws.close()
    ws, doctor = centre.login("dr.test")
    try:
        drafts = patient_file.open_patient_file(ws, doctor, pid).my_drafts
        assert [d.content.reason for d in drafts] == [SECRET_DRAFT]
        (template,) = rx.list_templates(ws, doctor)
        assert template.name == SECRET_TEMPLATE
        assert [line.dci for line in template.lines] == [SECRET_TEMPLATE_DRUG]
        context = rx.prescribing_context(ws, doctor, pid)
        assert context.has_ald and context.ald_labels == (SECRET_ALD,)
    finally:
        ws.close()


def test_a_new_clinician_is_granted_by_a_holder_not_by_the_administrator(
    centre: Centre,
) -> None:
    pid = make_patient(centre)
    _write_notes(centre, pid)
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        users.create_user(
            ws, admin, users.NewUser("inf.neuve", "Infirmière Neuve", Role.NURSE, STAFF_PASSWORD)
        )
        assert ws.clinical_keys == {}  # creating the account gave the administrator nothing
    finally:
        ws.close()
    ws, nurse = centre.login("inf.neuve")
    try:
        assert ws.clinical_keys == {}
        with pytest.raises(ValidationFailed, match="Recevoir la clé du dossier médical"):
            patient_file.open_patient_file(ws, nurse, pid)
        with pytest.raises(ValidationFailed, match="Recevoir la clé du dossier médical"):
            records.save_draft(ws, nurse, pid, records.NoteContent(reason="Pansement"))
    finally:
        ws.close()
    ws, doctor = centre.login("dr.test")  # a holder's routine login grants nothing by itself
    try:
        (waiting,) = clinical_access.waiting_for_key(ws, doctor)
        assert (waiting.login, waiting.reason) == ("inf.neuve", "Nouveau compte soignant.")
    finally:
        ws.close()
    ws, nurse = centre.login("inf.neuve")
    try:
        assert ws.clinical_keys == {}
        # The holder, at the nurse's screen, types their own login and password.
        with pytest.raises(ValidationFailed, match="détenteur de la clé incorrect"):
            clinical_access.receive_key(ws, nurse, "dr.test", "pas-le-bon")
        with pytest.raises(ValidationFailed, match="ne détient pas la clé"):
            clinical_access.receive_key(ws, nurse, "accueil", STAFF_PASSWORD)
        with pytest.raises(ValidationFailed, match="ne détient pas la clé"):
            clinical_access.receive_key(ws, nurse, "admin", ADMIN_PASSWORD)
        assert ws.clinical_keys == {}
        assert clinical_access.receive_key(ws, nurse, "dr.test", STAFF_PASSWORD) == (
            "Compte dr.test"
        )
        assert SECRET in {
            v.content.diagnosis
            for v in patient_file.open_patient_file(ws, nurse, pid).consultations
        }
    finally:
        ws.close()
    ws, doctor = centre.login("dr.test")
    try:
        assert clinical_access.waiting_for_key(ws, doctor) == []
    finally:
        ws.close()
    ws, nurse = centre.login("inf.neuve")
    try:
        file = patient_file.open_patient_file(ws, nurse, pid)
        assert SECRET in {view.content.diagnosis for view in file.consultations}
    finally:
        ws.close()


def test_reception_and_administrator_accounts_are_never_granted(centre: Centre) -> None:
    ws, _ = centre.login("direction")
    try:
        assert ws.clinical_trust is not None
        with ws.store.read() as session:
            recipients = {
                r.login for r in clinical_grants.eligible_recipients(session, ws.clinical_trust)
            }
            granted = set(session.scalars(select(ClinicalKeyGrant.recipient_login)))
            with_keys = set(session.scalars(select(AgreementKey.login)))
    finally:
        ws.close()
    assert recipients == granted == {"dr.test", "direction", keyslots.RECOVERY_LOGIN}
    assert not {"accueil", "admin"} & with_keys


def test_the_recovery_code_opens_the_clinical_key(centre: Centre) -> None:
    pid = make_patient(centre)
    note, _ = _write_notes(centre, pid)
    opened = _db_key_from(
        centre, keyslots.RECOVERY_LOGIN, keyslots.normalize_recovery_code(centre.recovery_code)
    )
    assert opened.agreement_key is not None and opened.agreement_key_id is not None
    ws, _ = centre.login("admin", ADMIN_PASSWORD)
    try:
        with ws.store.read() as session:
            held = clinical_grants.open_grants(
                session, keyslots.RECOVERY_LOGIN, opened.agreement_key_id, opened.agreement_key
            ).held
            stored = session.get(Consultation, note)
            assert stored is not None
            text = clinical_crypto.decrypt_field(
                held, "consultations", note, "diagnosis", stored.diagnosis
            )
    finally:
        ws.close()
    assert text == SECRET


def _raw(centre: Centre) -> sqlcipher.Connection:
    conn = sqlcipher.connect(str(centre.data_dir.database))
    conn.execute(
        f"PRAGMA key = \"x'{_db_key_from(centre, 'admin', ADMIN_PASSWORD).db_key.hex()}'\""
    )
    conn.execute("DROP TRIGGER consultations_no_update")
    return conn


def test_a_tampered_or_moved_ciphertext_is_reported_never_a_traceback(
    centre: Centre, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pid = make_patient(centre)
    note, fix = _write_notes(centre, pid)
    conn = _raw(centre)
    (diagnosis,) = conn.execute(
        "SELECT diagnosis FROM consultations WHERE id = ?", (note,)
    ).fetchone()
    flipped = diagnosis[:-4] + ("AAAA" if not diagnosis.endswith("AAAA") else "BBBB")
    conn.execute("UPDATE consultations SET diagnosis = ? WHERE id = ?", (flipped, note))
    # A valid ciphertext of another field moved here: its associated data does not match.
    conn.execute("UPDATE consultations SET reason = examination WHERE id = ?", (note,))
    conn.commit()
    conn.close()
    ws, doctor = centre.login("dr.test")
    try:
        by_id = {v.id: v for v in patient_file.open_patient_file(ws, doctor, pid).consultations}
    finally:
        ws.close()
    assert by_id[note].content.diagnosis == TAMPERED_TEXT
    assert by_id[note].content.reason == TAMPERED_TEXT
    assert by_id[note].signature is SignatureStatus.ALTERED
    assert by_id[fix].content.diagnosis == SECRET + " (avenant)"
    # check, run by the administrator (no clinical key), still verifies every signature.
    monkeypatch.setattr(sys, "stdin", io.StringIO(ADMIN_PASSWORD + "\n"))
    code = main(
        ["--data-dir", str(centre.data_dir.path), "check", "--as", "admin", "--password-stdin"]
    )
    _out, err = capsys.readouterr()
    assert code == 1 and f"consultation {note}" in err and fix not in err


def test_an_account_moved_to_reception_or_disabled_is_not_granted(centre: Centre) -> None:
    # Both accounts were made clinical (so each has a public key), then one became a
    # reception account and one was disabled before anyone granted them the key.
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        moved = users.create_user(
            ws, admin, users.NewUser("inf.accueil", "Ex Infirmière", Role.NURSE, STAFF_PASSWORD)
        )
        gone = users.create_user(
            ws, admin, users.NewUser("dr.parti", "Médecin Parti", Role.DOCTOR, STAFF_PASSWORD)
        )
        users.change_role(ws, admin, moved.id, Role.RECEPTION)
        users.set_active(ws, admin, gone.id, False)
    finally:
        ws.close()
    ws, _ = centre.login("direction")  # a holder's session grants whoever is waiting
    try:
        with ws.store.read() as session:
            keyed = set(session.scalars(select(AgreementKey.login)))
            granted = set(session.scalars(select(ClinicalKeyGrant.recipient_login)))
    finally:
        ws.close()
    assert {"inf.accueil", "dr.parti"} <= keyed
    assert not {"inf.accueil", "dr.parti"} & granted


def test_open_sessions_take_a_colleague_and_a_new_epoch_without_logging_in_again(
    centre: Centre,
) -> None:
    # What the main window does when a sync (or this station) brings an account or a grant.
    pid = make_patient(centre)
    _write_notes(centre, pid)
    holder_ws, director = centre.login("direction")
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        users.create_user(
            ws, admin, users.NewUser("dr.nouveau", "Médecin Nouveau", Role.DOCTOR, STAFF_PASSWORD)
        )
    finally:
        ws.close()
    new_ws, newcomer = centre.login("dr.nouveau")
    try:
        assert new_ws.clinical_keys == {}
        nothing = clinical_fields.refresh_clinical_access(new_ws, newcomer)
        assert (nothing.gained, nothing.granted_to, nothing.message) == (False, (), "")
        served = clinical_fields.refresh_clinical_access(holder_ws, director)
        assert served.granted_to == ()  # a key merely published is never granted
        # dr.test hands the key over in person; the director's open session learns of the
        # newcomer from dr.test's list, sent to every holder dr.test trusts.
        clinical_access.receive_key(new_ws, newcomer, "dr.test", STAFF_PASSWORD)
        clinical_fields.refresh_clinical_access(holder_ws, director)
        assert holder_ws.clinical_trust is not None
        assert newcomer.login in {p.login for p in holder_ws.clinical_trust.recipients.values()}
        # dr.test loses access: the newcomer's open session makes epoch 2 for the two of
        # them, and the director's open session takes it, trusting its sender.
        ws, admin = centre.login("admin", ADMIN_PASSWORD)
        try:
            doctor = next(u for u in users.list_users(ws, admin) if u.login == "dr.test")
            users.set_active(ws, admin, doctor.id, False)
        finally:
            ws.close()
        rotated = clinical_fields.refresh_clinical_access(new_ws, newcomer)
        assert new_ws.clinical_epoch == 2 and rotated.granted_to == ("direction",)
        got = clinical_fields.refresh_clinical_access(holder_ws, director)
        assert got.gained and "transmise à votre compte" in got.message
        assert holder_ws.clinical_epoch == 2
        assert holder_ws.clinical_writing_key == new_ws.clinical_writing_key
        file = patient_file.open_patient_file(new_ws, newcomer, pid)
        assert SECRET in {view.content.diagnosis for view in file.consultations}
    finally:
        new_ws.close()
        holder_ws.close()


def test_a_disabled_accounts_old_password_opens_nothing_written_after(centre: Centre) -> None:
    pid = make_patient(centre)
    before, _ = _write_notes(centre, pid)
    old_slots = keyslots.load(centre.data_dir.key_slots)  # an insider's copy of the file
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        doctor = next(u for u in users.list_users(ws, admin) if u.login == "dr.test")
        users.set_active(ws, admin, doctor.id, False)
    finally:
        ws.close()
    ws, director = centre.login("direction")  # a holder's login makes epoch 2
    try:
        assert ws.clinical_epoch == 2 and ws.clinical_writing_key is not None
        after = records.sign_draft(
            ws, director, records.save_draft(ws, director, pid, records.NoteContent(reason=SECRET))
        )
        with ws.store.read() as session:
            new_epoch = set(
                session.scalars(
                    select(ClinicalKeyGrant.recipient_login).where(ClinicalKeyGrant.epoch == 2)
                )
            )
            old = keyslots.unwrap_all(old_slots, "dr.test", STAFF_PASSWORD)
            assert old.agreement_key is not None and old.agreement_key_id is not None
            stolen = clinical_grants.open_grants(
                session, "dr.test", old.agreement_key_id, old.agreement_key
            ).held
            rows = {n: session.get(Consultation, n) for n in (before, after)}
    finally:
        ws.close()
    assert new_epoch == {"direction", keyslots.RECOVERY_LOGIN}
    assert {k.epoch for k in stolen.values()} == {1}
    note_before, note_after = rows[before], rows[after]
    assert note_before is not None and note_after is not None
    # Written before the disabling: the old key still opens it (nothing can take it back).
    assert (
        clinical_crypto.decrypt_field(
            stolen, "consultations", before, "diagnosis", note_before.diagnosis
        )
        == SECRET
    )
    with pytest.raises(clinical_crypto.ClinicalKeyMissing):
        clinical_crypto.decrypt_field(stolen, "consultations", after, "reason", note_after.reason)
    ws, director = centre.login("direction")  # epoch 2 stays: no rotation at every login
    try:
        assert ws.clinical_epoch == 2
        file = patient_file.open_patient_file(ws, director, pid)
        assert {v.content.reason for v in file.consultations} >= {SECRET, "Toux"}
    finally:
        ws.close()


def test_recovering_a_clinicians_access_with_the_code_brings_the_clinical_key_back(
    centre: Centre,
) -> None:
    pid = make_patient(centre)
    _write_notes(centre, pid)
    setup.recover_access(centre.data_dir, centre.recovery_code, "direction", "Retrouve-Acces-58")
    # No other holder has logged in since: the grant came from the recovery slot itself.
    ws, director = centre.login("direction", "Retrouve-Acces-58")
    try:
        file = patient_file.open_patient_file(ws, director, pid)
        assert SECRET in {view.content.diagnosis for view in file.consultations}
        with ws.store.read() as session:
            givers = set(
                session.scalars(
                    select(ClinicalKeyGrant.granted_by).where(
                        ClinicalKeyGrant.recipient_key_id == ws.agreement_key_id
                    )
                )
            )
        assert givers == {keyslots.RECOVERY_LOGIN}
    finally:
        ws.close()


def test_the_archive_holds_documents_readable_and_a_legacy_document_opens(
    centre: Centre, tmp_path: Path
) -> None:
    """The 20-year archive opens sealed documents into clear blobs addressed by their own
    hash (read here with SQLCipher alone); a document stored before the clinical key
    (plaintext blob) still opens, in the application and in the archive."""
    pid = make_patient(centre)
    _write_notes(centre, pid)
    legacy = b"%PDF-1.3\nANCIEN compte rendu LAMANTIN-4471\n%%EOF"
    ws, doctor = centre.login("dr.test")
    try:
        with ws.store.write() as session:  # as an older version stored it: all in clear
            old = Document(
                patient_id=pid,
                sha256=blobs.put_blob(session, legacy),
                kind=DocumentKind.HOSPITAL_LETTER.value,
                title="Courrier LAMANTIN",
                author_id=doctor.user_id,
                mime_type="application/pdf",
                size=len(legacy),
                original_filename="ancien.pdf",
            )
            session.add(old)
            session.flush()
            old_id = old.id
        assert documents.read_document(ws, doctor, old_id).data == legacy
        sealed = {d.id for d in documents.list_documents(ws, doctor, pid)} - {old_id}
        (sealed_id,) = sealed
        documents.withdraw_document(ws, doctor, sealed_id)  # a marker sharing the blob
    finally:
        ws.close()
    folder = tmp_path / "archives"
    folder.mkdir()
    ws, director = centre.login("direction")
    try:
        result = archives.export_centre_archive(
            ws, director, folder, ARCHIVE_PHRASE, ARCHIVE_PHRASE
        )
    finally:
        ws.close()
    conn = sqlcipher.connect(result.path)
    try:
        conn.execute(f"PRAGMA key = '{ARCHIVE_PHRASE}'")
        rows = conn.execute(
            "SELECT id, sha256, title, original_filename FROM documents ORDER BY created_at"
        ).fetchall()
        by_id = {r[0]: r[1:] for r in rows}
        assert len(rows) == 3  # the sealed one, its withdrawal marker, the legacy one
        for doc_id, expected, title in (
            (sealed_id, DOC_PDF, SECRET_DOC_TITLE),
            (old_id, legacy, "Courrier LAMANTIN"),
        ):
            sha, stored_title, _name = by_id[doc_id]
            parts = conn.execute(
                "SELECT data FROM blob_chunks WHERE sha256 = ? ORDER BY idx", (sha,)
            ).fetchall()
            content = b"".join(p[0] for p in parts)
            assert content == expected and hashlib.sha256(content).hexdigest() == sha
            assert stored_title == title
        marker = next(r for r in rows if r[0] not in (sealed_id, old_id))
        assert marker[1] == by_id[sealed_id][0] and marker[2] == SECRET_DOC_TITLE
        assert conn.execute("SELECT count(*) FROM blobs").fetchone()[0] == 2
        stored = b"".join(r[0] for r in conn.execute("SELECT data FROM blob_chunks"))
        assert b"cms-ck1:" not in stored
    finally:
        conn.close()


def test_a_tampered_or_moved_document_ciphertext_is_refused_in_french(centre: Centre) -> None:
    pid = make_patient(centre)
    _write_notes(centre, pid)
    ws, doctor = centre.login("dr.test")
    try:
        (first,) = [d.id for d in documents.list_documents(ws, doctor, pid)]
        second = documents.import_document(
            ws, doctor, pid, "b.pdf", DOC_PDF, DocumentKind.OTHER, "Autre", None
        )
        with ws.store.write() as session:
            # A byte of the ciphertext changed, stored under its new hash so that the
            # blob's own check passes, as an insider with the database key could.
            first_row = session.get(Document, first)
            assert first_row is not None
            sha, stored = first_row.sha256, blobs.get_blob(session, first_row.sha256)
            flipped_sha = blobs.put_blob(
                session, stored[:-20] + bytes([stored[-20] ^ 1]) + stored[-19:]
            )
    finally:
        ws.close()
    conn = _raw(centre)
    conn.execute("DROP TRIGGER documents_no_update")
    conn.execute("UPDATE documents SET sha256 = ? WHERE id = ?", (flipped_sha, first))
    # Another document's valid ciphertext moved here: it is bound to its own document.
    conn.execute("UPDATE documents SET sha256 = ? WHERE id = ?", (sha, second))
    conn.commit()
    conn.close()
    ws, doctor = centre.login("dr.test")
    try:
        for doc_id in (first, second):
            with pytest.raises(ValidationFailed) as refused:
                documents.read_document(ws, doctor, doc_id)
            assert str(refused.value) == clinical_fields.TAMPERED_DOCUMENT
    finally:
        ws.close()
    # The record copy says the documents are damaged rather than failing.
    ws, _director = centre.login("direction")
    try:
        with ws.store.read() as session:
            entries = record_access.document_entries(session, pid, keys=ws.clinical_keys)
        assert {(e.title, e.content is None, e.damaged) for e in entries} == {
            (SECRET_DOC_TITLE, True, True),
            ("Autre", True, True),
        }
    finally:
        ws.close()
