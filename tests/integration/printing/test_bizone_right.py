"""The bizone (ALD) right on clinician accounts (issue #14, item 2): the administrator
grants or withdraws it, the prescribing context says whether the form is offered, and the
service refuses a bizone prescription from a prescriber without it."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from cms_desktop.domain.permissions import Role
from cms_desktop.domain.prescription import PrescriptionLine, Zone
from cms_desktop.services import prescriptions as rx
from cms_desktop.services import users
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.storage.models import AuditEntry
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD, Centre, hand_over
from tests.integration.printing.helpers import add_patient, audit_actions, set_practitioner

LEVO = PrescriptionLine(
    dci="lévothyroxine sodique", strength="75 µg", form="comprimé", dosage="1 par jour",
    duration="3 mois", zone=Zone.ALD,
)  # fmt: skip
AMOX = PrescriptionLine(
    dci="amoxicilline", strength="1 g", form="comprimé", dosage="1 x 2", duration="6 jours"
)


def _new_doctor(centre: Centre, bizone: bool) -> users.UserInfo:
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        info = users.create_user(
            ws,
            admin,
            users.NewUser(
                "dr.neuf", "Paul Neuf", Role.DOCTOR, STAFF_PASSWORD, may_prescribe_bizone=bizone
            ),
        )
    finally:
        ws.close()
    hand_over(centre.data_dir, "dr.neuf")  # prescriptions are sealed under the clinical key
    return info


def test_a_doctor_without_the_right_is_refused_the_bizone_form(centre: Centre) -> None:
    info = _new_doctor(centre, bizone=False)
    assert (info.prescribes, info.may_prescribe_bizone) == (True, False)
    ws, doctor = centre.login("dr.neuf")
    try:
        set_practitioner(ws, "dr.neuf")
        pid = add_patient(ws, ald=True)
        ctx = rx.prescribing_context(ws, doctor, pid)
        assert ctx.has_ald and not ctx.may_prescribe_bizone
        draft = rx.PrescriptionDraft(pid, (LEVO, AMOX), bizone=True)
        with pytest.raises(ValidationFailed, match="pas le droit de prescrire sur une ordonnance"):
            rx.render_draft(ws, doctor, draft)
        with pytest.raises(ValidationFailed, match="bizone"):
            rx.issue_prescription(ws, doctor, draft)
        assert rx.list_prescriptions(ws, doctor, pid) == []
        assert audit_actions(ws, "print") == []
        # An ordinary prescription is fine.
        plain = tuple(replace(line, zone=Zone.OTHER) for line in (LEVO, AMOX))
        rx.issue_prescription(ws, doctor, rx.PrescriptionDraft(pid, plain))
    finally:
        ws.close()


def test_the_administrator_grants_and_withdraws_it_audited(centre: Centre) -> None:
    info = _new_doctor(centre, bizone=False)
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        granted = users.set_bizone_right(ws, admin, info.id, True)
        assert granted.may_prescribe_bizone
        listed = {u.login: u for u in users.list_users(ws, admin)}
        assert listed["dr.neuf"].may_prescribe_bizone
        assert not listed["accueil"].prescribes
        with pytest.raises(ValidationFailed, match="Seul un compte qui rédige des ordonnances"):
            users.set_bizone_right(ws, admin, listed["accueil"].id, True)
        with ws.store.read() as s:
            actions = list(
                s.scalars(select(AuditEntry.action).where(AuditEntry.target_id == info.id))
            )
        # (A clinician's account also gets its signing and clinical-access keys, #17:
        # each audited on its own.)
        keys = ("signing_key_created", "agreement_key_created")
        assert [a for a in actions if a not in keys] == [
            "user_created",
            "user_bizone_right_changed",
        ]
    finally:
        ws.close()
    ws, doctor = centre.login("dr.neuf")
    try:
        set_practitioner(ws, "dr.neuf")
        pid = add_patient(ws, ald=True)
        assert rx.prescribing_context(ws, doctor, pid).may_prescribe_bizone
        issued = rx.issue_prescription(ws, doctor, rx.PrescriptionDraft(pid, (LEVO,), bizone=True))
    finally:
        ws.close()
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        users.set_bizone_right(ws, admin, info.id, False)
    finally:
        ws.close()
    ws, doctor = centre.login("dr.neuf")
    try:
        # Renewing the bizone prescription gives an ordinary one, lines in the single zone.
        renewed = rx.renew(ws, doctor, issued.id)
        assert not renewed.bizone and {line.zone for line in renewed.lines} == {Zone.OTHER}
    finally:
        ws.close()


def test_a_role_that_does_not_prescribe_cannot_get_it(centre: Centre) -> None:
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        with pytest.raises(ValidationFailed, match="Seul un compte qui rédige des ordonnances"):
            users.create_user(
                ws, admin,
                users.NewUser("inf.roux", "Julien Roux", Role.NURSE, STAFF_PASSWORD,
                              may_prescribe_bizone=True),
            )  # fmt: skip
        assert "inf.roux" not in {u.login for u in users.list_users(ws, admin)}
        doctor = next(u for u in users.list_users(ws, admin) if u.login == "dr.test")
        assert doctor.may_prescribe_bizone
        moved = users.change_role(ws, admin, doctor.id, Role.RECEPTION)
        assert not moved.may_prescribe_bizone  # the right goes with prescribing
    finally:
        ws.close()
