"""The director's journal: French labels, the patient named for the director, filters by
patient, user, action and period, pages over the whole trail, CSV export (audited)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from cms_desktop.domain.paris_time import paris_today
from cms_desktop.domain.permissions import PermissionDenied
from cms_desktop.services import audit_journal, patient_file
from cms_desktop.services.audit_journal import JournalQuery
from cms_desktop.storage.models import Centre as Centre_
from cms_desktop.storage.models import Patient
from tests.conftest import Centre
from tests.integration.clinical_fixtures import make_patient


def test_who_opened_this_record_in_french_with_filters_and_pages(centre: Centre) -> None:
    leroy = make_patient(centre)
    ws, doctor = centre.login("dr.test")
    with ws.store.write() as session:
        other = Patient(
            birth_name="AUTRE", first_given_name="Paul", birth_date=date(1990, 1, 1), sex="M"
        )
        session.add(other)
        session.flush()
        other_id = other.id
    for _ in range(3):
        patient_file.open_patient_file(ws, doctor, leroy)
    patient_file.open_patient_file(ws, doctor, other_id)
    ws.close()
    ws, director = centre.login("direction")
    page = audit_journal.search(ws, director, JournalQuery(patient_id=leroy))
    assert page.total == 3
    first = page.lines[0]
    assert first.action_label == "Dossier médical ouvert"
    assert first.target == "LEROY Inès (née le 09/03/1960)"
    assert (first.user_login, first.user_name) == ("dr.test", "Compte dr.test")
    by_user = audit_journal.search(ws, director, JournalQuery(user_login="dr.test"))
    assert {line.action for line in by_user.lines} >= {"login", "clinical_record_opened"}
    opened = audit_journal.search(ws, director, JournalQuery(action="clinical_record_opened"))
    assert opened.total == 4
    # Paged over the whole trail, newest first.
    second = audit_journal.search(
        ws, director, JournalQuery(action="clinical_record_opened"), offset=2, limit=2
    )
    assert len(second.lines) == 2 and second.total == 4
    assert second.lines[0].at <= opened.lines[1].at
    today = paris_today()
    assert (
        audit_journal.search(
            ws, director, JournalQuery(patient_id=leroy, since=today, until=today)
        ).total
        == 3
    )
    assert (
        audit_journal.search(
            ws, director, JournalQuery(patient_id=leroy, until=today - timedelta(days=1))
        ).total
        == 0
    )
    text = audit_journal.export_csv(ws, director, JournalQuery(patient_id=leroy))
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == ["Date", "Utilisateur", "Identifiant", "Action", "Objet"]
    assert len(rows) == 4 and rows[1][3] == "Dossier médical ouvert"
    exported = audit_journal.search(ws, director, JournalQuery(action="audit_exported"))
    assert exported.total == 1 and exported.lines[0].action_label == "Journal exporté"
    ws.close()


def test_only_the_director_reads_the_journal(centre: Centre) -> None:
    for login in ("accueil", "dr.test"):
        ws, actor = centre.login(login)
        with pytest.raises(PermissionDenied):
            audit_journal.search(ws, actor, JournalQuery())
        ws.close()


def test_every_action_the_services_write_has_a_french_label() -> None:
    """The journal shows no raw code: each action written by a service has its label."""
    import re
    from pathlib import Path

    import cms_desktop
    from cms_desktop.domain.audit_labels import ACTION_LABELS

    root = Path(cms_desktop.__file__).parent
    written: set[str] = set()
    call = re.compile(
        r"(?:audit\.append\(\s*session,\s*[\w.]+,|_audit\([^)]*?,|audit_trail\.record\(\s*\w+,\s*\w+,"
        r"|audit_record\(\s*\w+,\s*\w+,)"
        r"\s*\"([a-z_]+)\""
    )
    # Actions named once in a module constant (ACTION_… = "…", PRINTER_TESTED = "…").
    constant = re.compile(r"^(?:ACTION_[A-Z_]+|[A-Z_]+_TESTED) = \"([a-z_]+)\"$", re.M)
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        written |= set(call.findall(text)) | set(constant.findall(text))
    from cms_desktop.services.agenda import waiting_room

    written |= set(waiting_room._ACTION.values())  # written through a table of actions
    assert len(written) > 30
    assert sorted(written - set(ACTION_LABELS)) == []


def test_the_journal_as_pdf_shows_the_lines_and_filters_of_the_screen(centre: Centre) -> None:
    from tests.integration.printing.helpers import pages_text

    leroy = make_patient(centre)
    ws, doctor = centre.login("dr.test")
    for _ in range(70):  # more than one A4 page of lines
        patient_file.open_patient_file(ws, doctor, leroy)
    ws.close()
    ws, director = centre.login("direction")
    today = paris_today()
    query = JournalQuery(
        patient_id=leroy, user_login="dr.test", action="clinical_record_opened", since=today
    )
    pdf = audit_journal.export_pdf(ws, director, query)
    pages = pages_text(pdf)
    assert len(pages) >= 2
    for text in pages:  # the header repeats on every page
        assert f"Période : depuis le {today:%d/%m/%Y}" in text
        assert "Patient : LEROY Inès (née le 09/03/1960)" in text
        assert "Utilisateur : Compte dr.test (dr.test)" in text
        assert "Action : Dossier médical ouvert" in text
        assert "Édité le " in text
    whole = " ".join(pages)
    assert whole.count("Dossier médical ouvert") == 70 + len(pages)  # lines + filter lines
    assert whole.count("LEROY Inès (née le 09/03/1960)") == 70 + len(pages)
    assert "70 entrée(s)" in whole
    # Another user's filter: none of those lines.
    empty = pages_text(audit_journal.export_pdf(ws, director, JournalQuery(user_login="accueil")))
    assert "Dossier médical ouvert" not in " ".join(empty)
    # Both exports are audited, saying which format.
    exported = audit_journal.search(ws, director, JournalQuery(action="audit_exported"))
    assert exported.total == 2
    ws.close()
    ws, doctor = centre.login("dr.test")
    with pytest.raises(PermissionDenied):
        audit_journal.export_pdf(ws, doctor, JournalQuery())
    ws.close()


def test_an_account_is_named_in_the_journal_and_other_objects_told_apart(centre: Centre) -> None:
    """Ids are time-ordered: « Compte 01a24c50 » was the same for every account made that
    day. An account is named; another object shows the end of its id."""
    ws, director = centre.login("direction")
    try:
        page = audit_journal.search(ws, director, JournalQuery(action="user_created"))
        targets = {line.target for line in page.lines}
        assert "Compte Compte dr.test (dr.test)" in targets
        assert "Compte Compte accueil (accueil)" in targets
        centre_line = audit_journal.search(ws, director, JournalQuery(action="centre_created"))
        with ws.store.read() as session:
            centre_id = session.scalars(select(Centre_.id)).one()
        assert {line.target for line in centre_line.lines} == {f"centre {centre_id[-8:]}"}
    finally:
        ws.close()
