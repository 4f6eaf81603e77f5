"""The Impressions area: documents for a chosen patient, the record-access register."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cms_desktop.domain.record_access import RequesterKind
from cms_desktop.services import record_access as ra
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.printing.area import ImpressionsArea
from cms_desktop.ui.printing.documents import CertificateDialog
from cms_desktop.ui.printing.record_access_page import RecordAccessPage, overdue_rows
from tests.integration.printing.helpers import add_patient, audit_actions, set_practitioner


def _tabs(area: ImpressionsArea) -> list[str]:
    return [area.tabs.tabText(i) for i in range(area.tabs.count())]


def test_tabs_follow_the_role(qtbot, open_session, runner) -> None:
    for login, expected in (
        ("accueil", ["Accès au dossier"]),
        ("dr.moreau", ["Nouveau document", "Derniers documents", "Accès au dossier"]),
        ("direction", ["Nouveau document", "Derniers documents", "Accès au dossier"]),
    ):
        ws, actor = open_session(login)
        area = ImpressionsArea(AreaContext(ws, actor, runner))
        qtbot.addWidget(area)
        assert _tabs(area) == expected


def test_certificate_for_a_searched_patient_is_previewed_and_its_print_audited(
    qtbot, open_session, runner
) -> None:
    ws, actor = open_session("dr.moreau")
    set_practitioner(ws, "dr.moreau")
    add_patient(ws, name="DURAND", given="Anne")
    area = ImpressionsArea(AreaContext(ws, actor, runner))
    qtbot.addWidget(area)
    page = area.tabs.widget(0)
    page.certificate_button.click()
    assert "choisissez un patient" in page.error_label.text()
    qtbot.keyClicks(page.search.query, "dur")
    assert page.search.results.count() == 1
    page.certificate_button.click()
    dialog = page.dialog
    assert isinstance(dialog, CertificateDialog)
    dialog.body.setPlainText("Apte à la pratique de la natation.")
    dialog.preview()
    assert dialog.preview_dialog.page_count() == 1
    dialog.preview_dialog._notify("print")
    assert len(audit_actions(ws, "print")) == 1
    recent = area.tabs.widget(1)
    recent.reload()
    assert recent.table.item(0, 1).text() == "Certificat médical"
    assert recent.table.item(0, 2).text() == "DURAND Anne"


def test_register_highlights_overdue_requests_and_generates_the_copy(
    qtbot, open_session, runner
) -> None:
    ws, actor = open_session("direction")
    pid = add_patient(ws)
    for days in (12, 1):
        ra.register_request(
            ws,
            actor,
            ra.AccessRequestDraft(
                pid,
                RequesterKind.PATIENT,
                "Éloïse Testeur",
                datetime.now(UTC) - timedelta(days=days),
                identity_document_checked=True,
            ),
        )
    page = RecordAccessPage(AreaContext(ws, actor, runner))
    qtbot.addWidget(page)
    assert page.table.rowCount() == 2 and overdue_rows(page) == [0]
    assert page.table.item(0, 6).text() == "EN RETARD"
    page.table.selectRow(0)
    page.generate_copy()
    assert page.preview_dialog.page_count() >= 2
    assert len(audit_actions(ws, "export")) == 1
    page.table.selectRow(1)
    page.deliver()
    page.dialog.fee.setValue(12.5)
    page.dialog.submit()
    assert "48 heures" in page.dialog.error_label.text()
    page.table.selectRow(0)
    page.deliver()
    page.dialog.fee.setValue(12.5)
    page.dialog.submit()
    assert page.table.item(1, 6).text().startswith("Remis le")
    assert [v.fee_cents for v in ra.list_requests(ws, actor) if v.delivered_at] == [1250]


def test_new_request_dialog_refuses_without_identity_check(qtbot, open_session, runner) -> None:
    ws, actor = open_session("direction")
    add_patient(ws, name="MARTIN", given="Zoé")
    page = RecordAccessPage(AreaContext(ws, actor, runner))
    qtbot.addWidget(page)
    page.new_request()
    dialog = page.dialog
    dialog.submit()
    assert "Choisissez le patient" in dialog.error_label.text()
    qtbot.keyClicks(dialog.patient.query, "mar")
    dialog.name.setText("Zoé Martin")
    dialog.submit()
    assert "justificatif d'identité" in dialog.error_label.text()
    dialog.identity.setChecked(True)
    dialog.submit()
    assert page.table.rowCount() == 1 and page.table.item(0, 0).text().startswith("DA-")


def test_referral_letter_offers_the_synthesis_prefilled_and_prints_only_what_is_ticked(
    qtbot, open_session, runner
) -> None:
    from cms_desktop.domain.synthesis import Allergy, Severity
    from cms_desktop.services import synthesis
    from cms_desktop.ui.printing.documents import ReferralDialog
    from tests.integration.printing.helpers import pages_text

    ws, actor = open_session("dr.moreau")
    set_practitioner(ws, "dr.moreau")
    pid = add_patient(ws, name="DURAND", given="Anne")
    synthesis.add_entry(
        ws, actor, pid, Allergy("Pénicilline", reaction="Urticaire", severity=Severity.SEVERE)
    )
    dialog = ReferralDialog(AreaContext(ws, actor, runner), pid)
    qtbot.addWidget(dialog)
    titles = {check.text(): text for check, text in dialog.sections}
    assert "Pénicilline" in titles["Allergies et intolérances"].toPlainText()
    dialog.addressee.setPlainText("Dr Paul Martin\nCardiologie")
    dialog.reason.setText("Avis")
    dialog.body.setPlainText("Cher confrère,")
    pdf = dialog.render_call()()
    assert "Pénicilline" not in " ".join(pages_text(pdf))
    next(c for c, _t in dialog.sections if c.text() == "Allergies et intolérances").setChecked(True)
    pdf = dialog.render_call()()
    assert "Pénicilline (Allergie, Urticaire" in " ".join(pages_text(pdf))


def test_reception_registers_a_copy_request_at_the_desk(qtbot, open_session, runner) -> None:
    ws, reception = open_session("accueil")
    add_patient(ws, name="DURAND", given="Anne")
    area = ImpressionsArea(AreaContext(ws, reception, runner))
    qtbot.addWidget(area)
    area.show()
    page = area.tabs.widget(0)
    assert isinstance(page, RecordAccessPage)
    # Preparing and handing over the copy stay with the director.
    assert not page.copy_button.isVisible() and not page.deliver_button.isVisible()
    page.new_button.click()
    dialog = page.dialog
    qtbot.keyClicks(dialog.patient.query, "dur")
    assert dialog.patient.results.count() == 1
    qtbot.keyClicks(dialog.name, "Anne Durand")
    dialog.identity.setChecked(True)
    dialog.ok_button.click()
    assert dialog.error_label.text() == ""
    assert page.table.rowCount() == 1
    cells = [page.table.item(0, c).text() for c in range(page.table.columnCount())]
    assert cells[1] == "DURAND Anne" and cells[2].startswith("Anne Durand")
    assert cells[6] == "À traiter"
    page.generate_copy()  # by keyboard (Enter on a row): nothing for reception
    assert not hasattr(page, "preview_dialog")
