"""The clinical page: allergy banner, autosave, signing, drag and drop import, curves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from cms_desktop.domain.paris_time import paris_today
from cms_desktop.domain.synthesis import Allergy, Severity
from cms_desktop.services import documents, patient_file, records, synthesis
from cms_desktop.services.actor import Actor
from cms_desktop.services.records import NoteContent
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage.models import Patient
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.record import build_clinical_page
from cms_desktop.ui.record.page import ClinicalPage
from cms_desktop.ui.tasks import SyncTaskRunner

OpenSession = Callable[[str], tuple[Workspace, Actor]]
PDF = (
    b"%PDF-1.1\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 300]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


@pytest.fixture
def doctor(open_session: OpenSession) -> tuple[Workspace, Actor, str]:
    ws, actor = open_session("dr.moreau")
    with ws.store.write() as session:
        p = Patient(
            birth_name="MARTIN", first_given_name="Zoé", birth_date=date(1958, 4, 2), sex="F"
        )
        session.add(p)
        session.flush()
        pid = p.id
    return ws, actor, pid


def _page(
    qtbot: QtBot, ws: Workspace, actor: Actor, pid: str, runner: SyncTaskRunner
) -> ClinicalPage:
    page = build_clinical_page(AreaContext(ws, actor, runner), pid)
    assert isinstance(page, ClinicalPage)
    qtbot.addWidget(page)
    page.resize(1100, 750)
    page.show()
    return page


def test_banner_says_not_stated_until_a_clinician_ticks_none_known_or_records_one(
    qtbot: QtBot, doctor: tuple[Workspace, Actor, str], runner: SyncTaskRunner
) -> None:
    ws, actor, pid = doctor
    page = _page(qtbot, ws, actor, pid, runner)
    # Nothing entered is not « no allergy ».
    assert page.banner.text() == "Allergies non renseignées — à demander au patient"
    assert not page.banner.has_allergies
    tick = page.synthesis.no_allergy
    assert tick.isEnabled() and not tick.isChecked()
    tick.click()
    today = paris_today().strftime("%d/%m/%Y")
    assert page.banner.text() == f"Aucune allergie connue — déclaré le {today} par Claire Moreau"
    assert page.synthesis.no_allergy.isChecked()
    # Stored: another clinician opening the record reads the same statement.
    other = _page(qtbot, ws, actor, pid, runner)
    assert other.banner.text() == page.banner.text()
    synthesis.add_entry(
        ws, actor, pid, Allergy("Amoxicilline", reaction="Œdème", severity=Severity.SEVERE)
    )
    page.reload()
    assert page.banner.has_allergies and "Amoxicilline" in page.banner.text()
    assert "#b00020" in page.banner.styleSheet()
    assert not page.synthesis.no_allergy.isEnabled()  # nothing to state with an allergy
    for i in range(page.tabs.count()):  # the banner sits above every tab
        page.tabs.setCurrentIndex(i)
        assert page.banner.isVisible()
    # The allergy resolved after the statement: the question must be asked again.
    (item,) = page.file.synthesis.allergies
    synthesis.end_entry(ws, actor, synthesis.Section.ALLERGIES, item.id)
    page.reload()
    assert page.banner.text() == "Allergies non renseignées — à demander au patient"
    page.synthesis.no_allergy.click()
    assert page.banner.text().startswith("Aucune allergie connue — déclaré le")
    page.synthesis.no_allergy.click()  # withdrawn
    assert page.banner.text() == "Allergies non renseignées — à demander au patient"


def test_autosaved_draft_survives_the_page_being_rebuilt(
    qtbot: QtBot, doctor: tuple[Workspace, Actor, str], runner: SyncTaskRunner
) -> None:
    ws, actor, pid = doctor
    page = _page(qtbot, ws, actor, pid, runner)
    page.tabs.setCurrentWidget(page.consultations)
    editor = page.consultations.open_editor()
    qtbot.keyClicks(editor.texts["reason"], "Douleur thoracique")
    editor.vitals["weight_kg"].setText("72,5")
    editor.vitals["height_cm"].setText("170")
    assert editor.bmi_label.text() == "25,1"
    qtbot.waitUntil(lambda: editor.draft_id is not None, timeout=5000)  # the idle timer fired
    editor.texts["examination"].setPlainText("Auscultation normale")
    page.close()  # closing the page saves what is pending
    page.deleteLater()
    rebuilt = _page(qtbot, ws, actor, pid, runner)
    reopened = rebuilt.consultations.editor
    assert reopened is not None
    assert reopened.texts["reason"].text() == "Douleur thoracique"
    assert reopened.texts["examination"].toPlainText() == "Auscultation normale"
    assert reopened.vitals["weight_kg"].text() == "72,5"


def test_bad_vitals_show_a_french_message_and_keep_the_text(
    qtbot: QtBot, doctor: tuple[Workspace, Actor, str], runner: SyncTaskRunner
) -> None:
    ws, actor, pid = doctor
    page = _page(qtbot, ws, actor, pid, runner)
    page.tabs.setCurrentWidget(page.consultations)
    editor = page.consultations.open_editor()
    editor.texts["reason"].setText("Fièvre")
    editor.vitals["temperature_c"].setText("375")
    editor.save_now()
    assert "plausible" in editor.error_label.text() and editor.error_label.isVisible()
    editor.vitals["temperature_c"].setText("abc")
    editor.save_now()
    assert "n'est pas un nombre" in editor.error_label.text()
    assert (
        editor.texts["reason"].text() == "Fièvre" and editor.vitals["temperature_c"].text() == "abc"
    )


def test_signing_with_ctrl_enter_then_amending_shows_both(
    qtbot: QtBot, doctor: tuple[Workspace, Actor, str], runner: SyncTaskRunner
) -> None:
    ws, actor, pid = doctor
    page = _page(qtbot, ws, actor, pid, runner)
    page.tabs.setCurrentWidget(page.consultations)
    editor = page.consultations.open_editor()
    editor.texts["reason"].setText("Angine")
    editor.texts["conclusion"].setPlainText("Angine virale")
    editor.code.setText("r76")
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow, timeout=3000)
    editor.texts["reason"].setFocus()
    qtbot.keyClick(editor.texts["reason"], Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert page.consultations.editor is None
    assert page.file is not None and len(page.file.consultations) == 1
    signed = page.file.consultations[0]
    assert signed.content.diagnosis_code == "R76" and page.file.my_drafts == ()
    assert "Angine virale" in page.consultations.viewer.toPlainText()
    page.consultations.select(signed.id)
    page.consultations.amend_selected()
    amend_editor = page.consultations.editor
    assert (
        amend_editor is not None
        and amend_editor.texts["conclusion"].toPlainText() == "Angine virale"
    )
    amend_editor.texts["conclusion"].setPlainText("Angine bactérienne (TDR positif)")
    amend_editor.sign()
    views = page.file.consultations
    assert [v.amends_id for v in views] == [None, signed.id]
    assert views[0].content.conclusion == "Angine virale"
    assert page.consultations.list.count() == 2


def test_drop_of_a_pdf_imports_it_and_the_viewer_shows_it(
    qtbot: QtBot, doctor: tuple[Workspace, Actor, str], runner: SyncTaskRunner, tmp_path: Path
) -> None:
    ws, actor, pid = doctor
    page = _page(qtbot, ws, actor, pid, runner)
    page.tabs.setCurrentWidget(page.documents)
    path = tmp_path / "Bilan_lipidique.pdf"
    path.write_bytes(PDF)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    page.documents.dragEnterEvent(enter)
    assert enter.isAccepted()
    # Qt delivers drop events only during a real drag: the handler is called as Qt would.
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    page.documents.dropEvent(event)
    dialog = page.documents.import_dialog
    assert dialog is not None and dialog.title.text() == "Bilan lipidique"
    dialog.date.setText("12/03/2026")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    table = page.documents.table
    assert table.rowCount() == 1 and table.item(0, 2).text() == "Bilan lipidique"
    assert table.item(0, 1).text() == "12/03/2026"
    page.documents.open_current()
    viewer = page.documents.viewer
    assert viewer.currentWidget() is viewer.pdf_view
    qtbot.waitUntil(lambda: viewer.pdf_document.pageCount() == 1, timeout=5000)
    assert [d.title for d in documents.list_documents(ws, actor, pid)] == ["Bilan lipidique"]
    assert page.timeline.table.rowCount() == 1


def test_drop_of_a_file_lying_about_its_type_is_refused(
    qtbot: QtBot, doctor: tuple[Workspace, Actor, str], runner: SyncTaskRunner, tmp_path: Path
) -> None:
    ws, actor, pid = doctor
    page = _page(qtbot, ws, actor, pid, runner)
    path = tmp_path / "faux.png"
    path.write_bytes(b"%PDF-1.4 not a png")
    dialog = page.documents.ask_details(path)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert "n'est pas un PNG" in dialog.error_label.text() and dialog.isVisible()
    assert page.documents.table.rowCount() == 0


def test_curves_have_series_with_french_date_axis(
    qtbot: QtBot, doctor: tuple[Workspace, Actor, str], runner: SyncTaskRunner
) -> None:
    ws, actor, pid = doctor
    for months, (sys_, dia) in enumerate([(160, 95), (150, 90), (138, 85)]):
        seen = datetime.now(UTC) - timedelta(days=90 * (3 - months))
        draft = records.save_draft(
            ws,
            actor,
            pid,
            NoteContent(reason="HTA", systolic=sys_, diastolic=dia, weight_kg=80 - months),
            seen_at=seen,
        )
        records.sign_draft(ws, actor, draft)
    page = _page(qtbot, ws, actor, pid, runner)
    charts = page.charts
    assert [s.count() for s in charts.chart().series()] == [3]  # opens on the weight
    charts.selector.setCurrentIndex(charts.selector.findData("bp"))
    series = charts.chart().series()
    assert [s.name() for s in series] == ["PA systolique", "PA diastolique"]
    assert [p.y() for p in series[0].points()] == [160, 150, 138]
    axis = charts.chart().axes(Qt.Orientation.Horizontal)[0]
    assert axis.format() == "dd/MM/yyyy"
    assert patient_file.measurement_series(ws, actor, pid)["systolic"][0][1] == 160


def test_reception_gets_administrative_documents_only(
    qtbot: QtBot,
    open_session: OpenSession,
    doctor: tuple[Workspace, Actor, str],
    runner: SyncTaskRunner,
) -> None:
    _, _, pid = doctor
    ws, reception = open_session("accueil")
    page = _page(qtbot, ws, reception, pid, runner)
    assert page.tabs.count() == 1 and not page.banner.isVisible()
    assert page.tabs.tabText(0) == "Documents administratifs"
    assert page.error_label.text() == ""


def test_the_viewer_shows_why_a_document_is_refused_instead_of_rendering_it(
    qtbot: QtBot, doctor: tuple[Workspace, Actor, str], runner: SyncTaskRunner
) -> None:
    from tests.document_bombs import deflate_bomb_pdf

    ws, actor, pid = doctor
    bomb = deflate_bomb_pdf()
    from cms_desktop.storage import blobs
    from cms_desktop.storage.models import Document

    with ws.store.write() as session:
        session.add(
            Document(
                patient_id=pid,
                sha256=blobs.put_blob(session, bomb),
                kind="other",
                title="Reçu d'un autre poste",
                author_id=actor.user_id,
                mime_type="application/pdf",
                size=len(bomb),
                original_filename="bombe.pdf",
            )
        )
    page = _page(qtbot, ws, actor, pid, runner)
    page.tabs.setCurrentWidget(page.documents)
    page.documents.refresh()
    page.documents.open_current()
    viewer = page.documents.viewer
    assert viewer.currentWidget() is viewer.hint
    assert "se décompresse en plus de 256 Mo" in viewer.hint.text()
    assert viewer.pdf_document.pageCount() == 0


def test_a_document_whose_ciphertext_was_moved_shows_the_french_refusal(
    qtbot: QtBot, doctor: tuple[Workspace, Actor, str], runner: SyncTaskRunner
) -> None:
    """#17: a clinical document's content is sealed and bound to its document; another row
    pointed at it (as an insider could insert) is refused in words, no traceback."""
    from cms_desktop.domain.documents import DocumentKind
    from cms_desktop.services.clinical_fields import TAMPERED_DOCUMENT
    from cms_desktop.storage.models import Document

    ws, actor, pid = doctor
    pdf = b"%PDF-1.4\nCompte rendu synthetique\n%%EOF"
    real = documents.import_document(
        ws, actor, pid, "cr.pdf", pdf, DocumentKind.HOSPITAL_LETTER, "Compte rendu", None
    )
    with ws.store.write() as session:
        original = session.get(Document, real)
        assert original is not None
        session.add(
            Document(
                patient_id=pid,
                sha256=original.sha256,
                kind="other",
                title="Déplacé",
                document_date=date(2020, 1, 1),  # listed last, under the real one
                author_id=actor.user_id,
                mime_type="application/pdf",
                size=len(pdf),
                original_filename="x.pdf",
            )
        )
    page = _page(qtbot, ws, actor, pid, runner)
    page.tabs.setCurrentWidget(page.documents)
    page.documents.refresh()
    tab = page.documents
    assert [d.title for d in tab._docs] == ["Compte rendu", "Déplacé"]
    tab.table.setCurrentCell(0, 0)
    tab.open_current()
    assert tab.viewer.currentWidget() is tab.viewer.pdf_view and tab.error_label.text() == ""
    tab.table.setCurrentCell(1, 0)
    tab.open_current()
    assert tab.error_label.text() == TAMPERED_DOCUMENT
