"""Certificates and referral letters through the service, and the audit of prints."""

from __future__ import annotations

import pytest

from cms_desktop.domain.permissions import PermissionDenied
from cms_desktop.services import letters
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.services.printing_common import recent_outputs, search_patients
from tests.conftest import Centre
from tests.integration.printing.helpers import (
    add_patient,
    audit_actions,
    pages_text,
    set_practitioner,
)


@pytest.fixture
def doctor(centre: Centre):
    ws, actor = centre.login("dr.test")
    set_practitioner(ws, "dr.test")
    yield ws, actor
    ws.close()


def test_certificate_and_letter_render_and_each_print_is_audited(doctor) -> None:
    ws, actor = doctor
    pid = add_patient(ws)
    cert = letters.certificate_pdf(
        ws,
        actor,
        letters.CertificateDraft(
            pid, "Ne présente pas de contre-indication à la pratique du football « loisir »."
        ),
    )
    text = " ".join(pages_text(cert))
    assert "Certificat médical" in text and "« loisir »" in text
    assert "Fait à Villebourg" in text and "RPPS : 10000000042" in text
    letter = letters.referral_letter_pdf(
        ws,
        actor,
        letters.ReferralDraft(
            pid,
            ("Dr Paul Martin", "Cardiologie", "CH de Villebourg"),
            "Avis cardiologique",
            "Cher confrère, je vous adresse cette patiente pour un souffle.",
            (("Antécédents", ("HTA depuis 2015",)), ("Traitements", ("Amlodipine 5 mg",))),
        ),
    )
    text = " ".join(pages_text(letter))
    assert "Dr Paul Martin" in text and "Objet : Avis cardiologique" in text
    assert "HTA depuis 2015" in text and "Éléments du dossier transmis" in text
    assert audit_actions(ws, "print") == []  # nothing printed yet
    letters.record_output(ws, actor, "certificate", pid)
    letters.record_output(ws, actor, "referral_letter", pid, how="export")
    assert len(audit_actions(ws, "print")) == 1 and len(audit_actions(ws, "export")) == 1
    recent = recent_outputs(ws, actor)
    assert [(r.how, r.document) for r in recent] == [
        ("export", "Lettre d'adressage"),
        ("print", "Certificat médical"),
    ]
    assert recent[0].patient_label == "TESTEUR Éloïse"


def test_empty_texts_are_refused(doctor) -> None:
    ws, actor = doctor
    pid = add_patient(ws)
    with pytest.raises(ValidationFailed, match="Texte du certificat"):
        letters.certificate_pdf(ws, actor, letters.CertificateDraft(pid, "   "))
    with pytest.raises(ValidationFailed, match="destinataire"):
        letters.referral_letter_pdf(ws, actor, letters.ReferralDraft(pid, ("",), "Objet", "Texte"))


def test_patient_search_by_name_prefix(doctor) -> None:
    ws, actor = doctor
    add_patient(ws, name="DURAND", given="Anne")
    add_patient(ws, name="DUPONT", given="Marc")
    add_patient(ws, name="MARTIN", given="Zoé")
    assert [c.label.split(" — ")[0] for c in search_patients(ws, actor, "du")] == [
        "DUPONT Marc",
        "DURAND Anne",
    ]
    assert search_patients(ws, actor, "") == []


def test_reception_may_not_write_certificates(centre: Centre) -> None:
    ws, actor = centre.login("accueil")
    pid = add_patient(ws)
    with pytest.raises(PermissionDenied):
        letters.certificate_pdf(ws, actor, letters.CertificateDraft(pid, "Texte"))
    ws.close()
