"""Administration › Archives: the director archives inactive or chosen records; the
administrator and reception have no such tab."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from pytestqt.qtbot import QtBot

from cms_desktop.services import archives, audit_journal
from cms_desktop.services.actor import Actor
from cms_desktop.services.audit_journal import JournalQuery
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage.models import Patient
from cms_desktop.ui.admin.archives_page import ArchivesPage
from cms_desktop.ui.admin.area import AdminArea
from cms_desktop.ui.tasks import SyncTaskRunner

OpenSession = Callable[[str], tuple[Workspace, Actor]]
PHRASE = "Quatre chevaux Bleus dans 1 pré"


def _patient(ws: Workspace, name: str) -> str:
    with ws.store.write() as session:
        p = Patient(birth_name=name, first_given_name="Zoé", birth_date=date(1940, 1, 2), sex="F")
        session.add(p)
        session.flush()
        return p.id


def test_only_the_director_has_the_archives_tab(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner
) -> None:
    for login, has in (("direction", True), ("admin", False)):
        ws, actor = open_session(login)
        area = AdminArea(ws, actor, runner)
        qtbot.addWidget(area)
        assert ("Archives" in [area.tabText(i) for i in range(area.count())]) is has


def test_director_archives_a_chosen_patient_with_french_messages(
    qtbot: QtBot, open_session: OpenSession, runner: SyncTaskRunner, tmp_path: Path
) -> None:
    ws, director = open_session("direction")
    martin = _patient(ws, "MARTIN")
    _patient(ws, "BERNARD")
    page = ArchivesPage(ws, director, runner)
    qtbot.addWidget(page)
    page.resize(1176, 640)
    page.show()
    # Every record here was just created: none is inactive for ten years.
    page.find_inactive_button.click()
    assert page.patients.count() == 0 and "Aucun dossier inactif" in page.count_label.text()
    assert not page.archive_patients_button.isEnabled()
    page.patient_edit.setText("MARTIN")
    page.find_patient()
    assert page.checked_ids() == [martin]
    assert page.archive_patients_button.isEnabled()
    folder = tmp_path / "archives"
    folder.mkdir()
    page.archive_patients_button.click()
    assert page.error_label.text() == "Choisissez le dossier de l'archive."
    page.folder.setText(str(folder))
    page.passphrase.setText("court")
    page.confirmation.setText("court")
    page.archive_patients_button.click()
    assert "16 caractères" in page.error_label.text() and list(folder.iterdir()) == []
    page.passphrase.setText(PHRASE)
    page.confirmation.setText(PHRASE + "x")
    page.archive_patients_button.click()
    assert "diffèrent" in page.error_label.text() and list(folder.iterdir()) == []
    page.confirmation.setText(PHRASE)
    page.archive_patients_button.click()
    assert page.result_label.text().startswith("Archive écrite : ")
    (file,) = folder.iterdir()
    rows = list(archives.archive_rows(file, PHRASE, "patients"))
    assert [r["id"] for r in rows] == [martin]
    assert page.passphrase.text() == ""  # not left in the form
    found = audit_journal.search(
        ws, director, JournalQuery(patient_id=martin, action="patient_archive_exported")
    )
    assert found.total == 1
