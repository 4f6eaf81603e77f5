"""The administrator changes the centre's details: audited, checked, used by the next
printout, while a stored prescription keeps what it printed."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest
from PIL import Image

from cms_desktop.domain.permissions import PermissionDenied
from cms_desktop.services import centre as centre_details
from cms_desktop.services import prescriptions as rx
from cms_desktop.services.errors import ValidationFailed
from tests.conftest import ADMIN_PASSWORD, Centre
from tests.integration.printing.helpers import (
    add_patient,
    audit_actions,
    pages_text,
    set_practitioner,
)
from tests.integration.printing.test_prescriptions_service import AMOX


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 60), "#1f4e79").save(out, format="PNG")
    return out.getvalue()


def test_new_details_are_printed_and_old_prescriptions_keep_theirs(centre: Centre) -> None:
    ws, doctor = centre.login("dr.test")
    set_practitioner(ws, "dr.test")
    pid = add_patient(ws)
    before = rx.issue_prescription(ws, doctor, rx.PrescriptionDraft(pid, (AMOX,)))
    ws.close()

    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    details = centre_details.get_details(ws, admin)
    assert details.name == "CMS des Tests" and not details.is_demo
    saved = centre_details.update_details(
        ws,
        admin,
        replace(details, name="CMS Simone-Veil", phone="02 33 11 22 33", finess="610001234",
                logo_png=_png()),
    )  # fmt: skip
    assert (saved.name, saved.finess) == ("CMS Simone-Veil", "610001234")
    (entry,) = audit_actions(ws, "centre_changed")
    assert json.loads(entry.details) == {"fields": "name,phone,finess,logo_png"}
    ws.close()

    ws, doctor = centre.login("dr.test")
    after = rx.issue_prescription(ws, doctor, rx.PrescriptionDraft(pid, (AMOX,)))
    text = " ".join(pages_text(after.pdf))
    assert "CMS Simone-Veil" in text and "FINESS : 610001234" in text
    assert "02 33 11 22 33" in text
    stored = rx.stored_prescription(ws, doctor, before.id)
    assert stored.pdf == before.pdf
    assert "CMS des Tests" in " ".join(pages_text(stored.pdf))
    ws.close()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "  "}, "Le nom du centre est obligatoire."),
        ({"finess": "1234"}, "Le numéro FINESS comporte 9 caractères (ex. 610000000)."),
        ({"postcode": "6100"}, "Le code postal compte 5 chiffres."),
        ({"logo_png": b"not a png"}, "Le logo doit être une image PNG lisible."),
    ],
)
def test_bad_details_are_refused_in_french_and_nothing_changes(
    centre: Centre, change: dict[str, object], message: str
) -> None:
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        before = centre_details.get_details(ws, admin)
        with pytest.raises(ValidationFailed) as refused:
            centre_details.update_details(ws, admin, replace(before, **change))  # type: ignore[arg-type]
        assert str(refused.value) == message
        assert centre_details.get_details(ws, admin) == before
        assert audit_actions(ws, "centre_changed") == []
    finally:
        ws.close()


def test_only_the_administrator_changes_the_centre(centre: Centre) -> None:
    ws, reception = centre.login("accueil")
    try:
        with pytest.raises(PermissionDenied):
            centre_details.get_details(ws, reception)
    finally:
        ws.close()
