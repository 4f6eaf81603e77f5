"""Every area and dialog of every role fits 1366×768 with a taskbar (1366×728 usable), and
its action buttons are shown: the main window with a record open, a consultation being
written and a previous prescription; the dialogs that « … » buttons open; the print preview.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time

import pytest
from PySide6.QtPrintSupport import QPrintDialog
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QInputDialog,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot

from cms_desktop.domain.prescription import LineKind, PrescriptionLine
from cms_desktop.services import prescriptions, records
from cms_desktop.services.agenda import booking, resources
from cms_desktop.services.records import NoteContent
from cms_desktop.storage.models import Patient, Room
from cms_desktop.ui.main_window import MainWindow
from cms_desktop.ui.tasks import SyncTaskRunner
from tests.integration.printing.helpers import set_practitioner
from tests.ui.agenda_setup import next_open_monday
from tests.ui.conftest import CENTRE_NAME
from tests.ui.screen_fit import (
    USABLE,
    hidden_action_buttons,
    minimum_of,
    shown_within,
    too_big,
)

TITLE_BAR = 40
# Buttons that open a dialog without the « … » of the convention.
OPENS_A_DIALOG = {"Nouveau RDV", "Liste du jour", "Ajouter (Inser)"}
LONG_LINE = (
    "Bilan sanguin : NFS, ionogramme, créatininémie avec DFG, bilan hépatique complet, TSH, "
    "ferritine, vitamine D, HbA1c et bilan lipidique à jeun, à faire avant la prochaine visite"
)


@pytest.fixture
def centre_in_use(open_session) -> Iterator[str]:
    """Eight practitioners with a booked day, a patient with a signed consultation and a
    prescription: what makes screens grow."""
    ws, reception = open_session("accueil")
    with ws.store.write() as s:
        rooms = [Room(name=f"Cabinet {n + 1}", kind="consulting") for n in range(8)]
        patient = Patient(
            birth_name="MARTINEAU-DELACROIX",
            first_given_name="Marie-Charlotte",
            birth_date=date(1958, 4, 2),
            sex="F",
        )
        s.add_all([*rooms, patient])
        s.flush()
        room_ids, patient_id = [r.id for r in rooms], patient.id
    monday = next_open_monday()
    for n in range(8):
        doctor = resources.create_practitioner(
            ws,
            reception,
            resources.PractitionerDraft(
                title="Dr", full_name=f"Praticienne Numéro{n} Longuenom", profession="Médecin"
            ),
        )
        resources.add_range(
            ws,
            reception,
            doctor.id,
            resources.RangeDraft(monday.weekday(), time(8), time(20), room_ids[n], own_hours=True),
        )
        booking.book(
            ws,
            reception,
            booking.BookingRequest(
                doctor.id, datetime.combine(monday, time(9 + n)), patient_id=patient_id
            ),
        )
    ws_doc, doctor_user = open_session("dr.moreau")
    set_practitioner(ws_doc, "dr.moreau")
    records.open_clinical_record(ws_doc, doctor_user, patient_id)
    draft = records.save_draft(
        ws_doc, doctor_user, patient_id, NoteContent(reason="Contrôle", conclusion="Stable")
    )
    records.sign_draft(ws_doc, doctor_user, draft)
    prescriptions.issue_prescription(
        ws_doc,
        doctor_user,
        prescriptions.PrescriptionDraft(
            patient_id, (PrescriptionLine(kind=LineKind.FREE_TEXT, text=LONG_LINE),)
        ),
    )
    yield patient_id


@pytest.fixture
def no_blocking_dialogs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Modal loops would wait for a user: dialogs show and answer « Annuler » instead."""

    def shown(self: QDialog) -> int:
        self.show()
        return int(QDialog.DialogCode.Rejected)

    monkeypatch.setattr(QDialog, "exec", shown)
    monkeypatch.setattr(QMessageBox, "exec", shown)
    monkeypatch.setattr(QPrintDialog, "exec", lambda self: int(QDialog.DialogCode.Rejected))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: ("", ""))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: "")
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("", False))
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: None)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: None)


@pytest.fixture
def as_in_the_app(qapp) -> Iterator[None]:
    """The application's font (at least 10.5 pt) and style sheet: widths as users get them."""
    from cms_desktop.app import MIN_POINT_SIZE
    from cms_desktop.ui.widgets import STYLE_SHEET

    font, sheet = qapp.font(), qapp.styleSheet()
    bigger = qapp.font()
    bigger.setPointSizeF(max(bigger.pointSizeF(), MIN_POINT_SIZE))
    qapp.setFont(bigger)
    qapp.setStyleSheet(STYLE_SHEET)
    yield
    qapp.setStyleSheet(sheet)
    qapp.setFont(font)


class Walk:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.problems: list[str] = []
        self.seen: list[str] = []
        self.walked: set[QTabWidget] = set()
        self.clicked: set[QPushButton] = set()

    def check(self, top: QWidget, where: str) -> None:
        self.seen.append(where)
        print(where, flush=True)
        why = too_big(top)
        if why:
            self.problems.append(f"{where}: {why}")
        if top is not self.window:
            # It opens no bigger than the screen it is on, title bar included (its minimum
            # size, checked above, fits 1366×728).
            available = top.screen().availableGeometry()
            least_w, least_h = minimum_of(top)  # checked above against 1366×728
            width = max(available.width(), least_w)
            height = max(available.height() - TITLE_BAR, least_h)
            if top.width() > width or top.height() > height:
                self.problems.append(f"{where}: opens at {top.width()}×{top.height()}")
        shown_within(top)
        for text in hidden_action_buttons(top):
            self.problems.append(f"{where}: « {text} » cut off at {top.width()}×{top.height()}")

    def tabs(self, root: QWidget, where: str) -> None:
        """Show each tab (and the tabs inside it), checking the window and the dialogs its
        « … » buttons open."""
        self.dialogs(root, where)
        own = [root] if isinstance(root, QTabWidget) else []  # an area that is its tabs
        for tabs in [*own, *root.findChildren(QTabWidget)]:
            if not tabs.isVisible() or tabs in self.walked:
                continue
            self.walked.add(tabs)
            for i in range(tabs.count()):
                tabs.setCurrentIndex(i)
                QApplication.processEvents()
                here = f"{where} › {tabs.tabText(i).replace('&', '')}"
                self.check(self.window, here)
                self.tabs(tabs.widget(i), here)

    def dialogs(self, root: QWidget, where: str) -> None:
        """Click each « … » button (it opens a dialog) and check what opened."""
        for button in root.findChildren(QPushButton):
            opens = button.text().endswith("…") or button.text() in OPENS_A_DIALOG
            if not (button.isVisible() and button.isEnabled() and opens):
                continue
            if button in self.clicked:
                continue
            self.clicked.add(button)
            before = set(QApplication.topLevelWidgets())
            button.click()
            QApplication.processEvents()
            for top in QApplication.topLevelWidgets():
                if top not in before and top.isVisible():
                    self.check(top, f"{where} › {button.text()} › {top.windowTitle()}")
                    self.dialogs(top, f"{where} › {button.text()}")
                    top.close()
            QApplication.processEvents()


def _walk_role(
    qtbot: QtBot, open_session, runner: SyncTaskRunner, login: str, patient_id: str
) -> Walk:
    ws, actor = open_session(login)
    window = MainWindow(ws, actor, runner, CENTRE_NAME)
    qtbot.addWidget(window)
    shown_within(window)
    walk = Walk(window)
    for key in window.area_keys():
        window.show_area(key)
        QApplication.processEvents()
        area = window.area_widget(key)
        walk.check(window, key)
        if key == "agenda":
            area.go_to(next_open_monday())  # type: ignore[attr-defined]
            walk.check(window, "agenda › lundi chargé")
        if key == "patients":
            tab = area.open_patient(patient_id)  # type: ignore[attr-defined]
            clinical = tab.clinical
            if clinical is not None:
                # A line typed, so that « Aperçu et impression… » opens the preview.
                clinical.prescriptions.form.free_text.setChecked(True)
                clinical.prescriptions.form.text.setPlainText(LONG_LINE)
                clinical.prescriptions.add_line()
                first = clinical.synthesis.tree.topLevelItem(1)
                clinical.synthesis.tree.setCurrentItem(first)
                clinical.consultations.open_editor()
                clinical.consultations.editor.texts["examination"].setPlainText("Toux")
            walk.check(window, "patients › dossier ouvert")
            walk.tabs(area, "patients")
        if key == "printing":
            page = getattr(area.tabs.widget(0), "search", None)  # type: ignore[attr-defined]
            if page is not None:
                page.search("MARTINEAU")
        walk.tabs(area, key)
    return walk


@pytest.mark.parametrize("login", ["accueil", "dr.moreau", "direction", "admin"])
def test_every_area_and_dialog_fits_1366x728_with_its_buttons_shown(
    qtbot: QtBot, open_session, runner, centre_in_use, no_blocking_dialogs, as_in_the_app, login
) -> None:
    walk = _walk_role(qtbot, open_session, runner, login, centre_in_use)
    print("\n".join(walk.seen))
    assert len(walk.seen) >= 3
    assert walk.problems == [], "\n".join(walk.problems)
    assert USABLE == (1366, 728)
