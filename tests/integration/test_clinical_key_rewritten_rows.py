"""Attacks on the clinical key by an insider who can rewrite or delete rows (the database
triggers are no protection for someone holding the database key), found in the review of
session 11 (#17): none gets a real clinical key sealed to a key of theirs."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text

from cms_desktop.domain.permissions import Role
from cms_desktop.services import clinical_access, setup, users
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.storage import clinical_crypto, keyslots
from cms_desktop.storage.models import AgreementKey, ClinicalKeyGrant, User, new_id
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD, Centre
from tests.integration.clinical_fixtures import make_patient
from tests.integration.test_clinical_key_trust import _insider, _write_note


def _drop_triggers(session: object, *tables: str) -> None:
    for table in tables:
        for action in ("update", "delete"):
            session.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{action}"))  # type: ignore[attr-defined]


def _opened_by(centre: Centre, key_id: str, private: bytes) -> set[str]:
    """The clinical key ids whose grants to ``key_id`` open with the insider's ``private``."""
    ws = _insider(centre)
    got: set[str] = set()
    try:
        with ws.store.read() as session:
            for g in session.scalars(
                select(ClinicalKeyGrant).where(ClinicalKeyGrant.recipient_key_id == key_id)
            ):
                sender = clinical_crypto.grant_sender(g.sealed)
                row = session.get(AgreementKey, sender) if sender else None
                try:
                    clinical_crypto.open_sealed(
                        private,
                        g.sealed,
                        g.recipient_login,
                        key_id,
                        g.key_id,
                        g.epoch,
                        row.public_key if row is not None else None,
                    )
                except clinical_crypto.GrantUnreadable:
                    continue
                got.add(g.key_id)
    finally:
        ws.close()
    return got


def test_deleting_every_grant_never_makes_a_holder_found_a_new_key(centre: Centre) -> None:
    pid = make_patient(centre)
    _write_note(centre, "dr.test", pid, "Avant")
    private, public = clinical_crypto.new_agreement_pair()
    forged = new_id()
    ws = _insider(centre)
    try:
        with ws.store.write() as session:
            _drop_triggers(session, "clinical_key_grants", "agreement_keys")
            session.execute(delete(ClinicalKeyGrant))
            session.execute(
                delete(AgreementKey).where(AgreementKey.login == keyslots.RECOVERY_LOGIN)
            )
            session.add(AgreementKey(id=forged, login=keyslots.RECOVERY_LOGIN, public_key=public))
    finally:
        ws.close()
    # The holder's list says the centre had a key: no new epoch 1 (nothing to write under,
    # a denial of service the administrator sees; nothing disclosed).
    with pytest.raises(ValidationFailed, match="Recevoir la clé du dossier médical"):
        _write_note(centre, "dr.test", pid, "Après")
    assert _opened_by(centre, forged, private) == set()


def test_a_hand_over_pins_the_newcomers_own_key_not_the_rewritten_row(centre: Centre) -> None:
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        users.create_user(
            ws, admin, users.NewUser("inf.neuve", "Infirmière Neuve", Role.NURSE, STAFF_PASSWORD)
        )
    finally:
        ws.close()
    ws_n, nurse = centre.login("inf.neuve")
    key_id = ws_n.agreement_key_id
    assert key_id is not None
    private, public = clinical_crypto.new_agreement_pair()
    ins = _insider(centre)
    try:
        with ins.store.write() as session:
            _drop_triggers(session, "agreement_keys")
            session.execute(
                text("UPDATE agreement_keys SET public_key = :p WHERE id = :i"),
                {"p": public, "i": key_id},
            )
    finally:
        ins.close()
    try:
        with pytest.raises(ValidationFailed, match="modifiée en dehors du logiciel"):
            clinical_access.receive_key(ws_n, nurse, "dr.test", STAFF_PASSWORD)
    finally:
        ws_n.close()
    assert _opened_by(centre, key_id, private) == set()


def test_the_recovery_code_never_seals_the_key_to_an_account_the_rows_claim_holds_it(
    centre: Centre,
) -> None:
    pid = make_patient(centre)
    _write_note(centre, "dr.test", pid, "Secret")
    private, public = clinical_crypto.new_agreement_pair()
    forged = new_id()
    ws = _insider(centre)
    try:
        with ws.store.write() as session:
            real = set(session.scalars(select(ClinicalKeyGrant.key_id)))
            session.add(
                User(
                    login="dr.fantome",
                    full_name="Médecin Fantôme",
                    role=Role.DOCTOR.value,
                    password_hash="x",
                )
            )
            session.add(AgreementKey(id=forged, login="dr.fantome", public_key=public))
            for key_id in real:  # junk rows claiming the insider's key holds the real ones
                session.add(
                    ClinicalKeyGrant(
                        key_id=key_id,
                        epoch=1,
                        recipient_login="dr.fantome",
                        recipient_key_id=forged,
                        sealed="AAAA",
                        granted_by="dr.test",
                    )
                )
    finally:
        ws.close()
    setup.recover_access(centre.data_dir, centre.recovery_code, "direction", "Nouveau-Mot-2027!x")
    assert real and not (_opened_by(centre, forged, private) & real)
    ws, _ = centre.login("direction", "Nouveau-Mot-2027!x")
    try:
        assert ws.clinical_writing_key is not None  # the code did bring the key back
    finally:
        ws.close()
