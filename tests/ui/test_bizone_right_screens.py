"""The bizone (ALD) right in the screens: the new-account dialog asks it of a prescriber
only, « Bizone (ALD)… » in Comptes changes it, and the prescription editor offers the
bizone form only to a prescriber who has it."""

from __future__ import annotations

from cms_desktop.domain.permissions import Role
from cms_desktop.services import users
from cms_desktop.services.workspace import login
from cms_desktop.ui.admin.area import AdminArea
from cms_desktop.ui.admin.dialogs import BizoneRightDialog, NewUserDialog
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.printing.prescription_editor import PrescriptionEditor
from tests.integration.printing.helpers import add_patient, set_practitioner

NEW_PASSWORD = "Nouveau-Compte-42"


def _visible(parent, kind):
    found = [d for d in parent.findChildren(kind) if d.isVisible()]
    assert len(found) == 1, found
    return found[0]


def test_the_account_dialog_asks_and_comptes_changes_it(qtbot, open_session, runner) -> None:
    ws, admin = open_session("admin")
    area = AdminArea(ws, admin, runner)
    qtbot.addWidget(area)
    area.resize(1366, 728)
    area.show()
    page = area.users_page
    assert page is not None
    page.new_button.click()
    dialog = _visible(page, NewUserDialog)
    # Reception does not prescribe: the question is not open to it.
    assert not dialog.bizone_check.isEnabled() and not dialog.bizone_check.isChecked()
    dialog.role_combo.setCurrentIndex(dialog.role_combo.findData(Role.DOCTOR.value))
    assert dialog.bizone_check.isEnabled() and dialog.bizone_check.isChecked()
    dialog.bizone_check.setChecked(False)  # this one is not allowed yet
    qtbot.keyClicks(dialog.login_edit, "dr.neuf")
    qtbot.keyClicks(dialog.name_edit, "Paul Neuf")
    qtbot.keyClicks(dialog.password_edit, NEW_PASSWORD)
    qtbot.keyClicks(dialog.confirm_edit, NEW_PASSWORD)
    with qtbot.waitSignal(dialog.sig_done):
        dialog.ok_button.click()
    created = {u.login: u for u in users.list_users(ws, admin)}["dr.neuf"]
    assert not created.may_prescribe_bizone
    row = page.model.row_of("dr.neuf")
    assert page.model.data(page.model.index(row, 4)) == "Non"

    page.select_login("accueil")
    assert not page.bizone_button.isEnabled()
    page.select_login("dr.neuf")
    assert page.bizone_button.isEnabled()
    page.bizone_button.click()
    right = _visible(page, BizoneRightDialog)
    assert not right.bizone_check.isChecked()
    right.bizone_check.setChecked(True)
    with qtbot.waitSignal(right.sig_done):
        right.ok_button.click()
    assert {u.login: u for u in users.list_users(ws, admin)}["dr.neuf"].may_prescribe_bizone
    assert page.model.data(page.model.index(page.model.row_of("dr.neuf"), 4)) == "Autorisé"


def test_the_editor_offers_bizone_only_with_the_right(qtbot, open_session, runner) -> None:
    ws, admin = open_session("admin")
    users.create_user(ws, admin, users.NewUser("dr.neuf", "Paul Neuf", Role.DOCTOR, NEW_PASSWORD))
    ws_d, doctor = open_session("dr.moreau")  # the shared fixture's doctor has the right
    set_practitioner(ws_d, "dr.moreau")
    pid = add_patient(ws_d, ald=True)
    with_right = PrescriptionEditor(AreaContext(ws_d, doctor, runner), pid)
    qtbot.addWidget(with_right)
    assert with_right.bizone.isEnabled() and with_right.bizone.isChecked()

    ws_n, newcomer = login(ws.data_dir, "dr.neuf", NEW_PASSWORD)
    try:
        set_practitioner(ws_n, "dr.neuf")
        without = PrescriptionEditor(AreaContext(ws_n, newcomer, runner), pid)
        qtbot.addWidget(without)
        assert not without.bizone.isEnabled() and not without.bizone.isChecked()
        assert "pas le droit de prescrire" in without.bizone.toolTip()
    finally:
        ws_n.close()
