"""First-run wizard: either a new centre (the centre, its first administrator, then the
recovery code to print) or this PC joining a centre already installed on another one (the
address and one-time code shown there, and a name for this PC)."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from cms_desktop.domain.agenda.rooms import (
    DEFAULT_LAYOUT,
    InvalidRoom,
    RoomDraft,
    RoomKind,
    check_layout,
)
from cms_desktop.domain.passwords import WeakPassword, check_password_strength
from cms_desktop.services.errors import ServiceError, ValidationFailed
from cms_desktop.services.setup import CentreDraft, SetupResult, validate_centre, validate_login
from cms_desktop.ui import widgets
from cms_desktop.ui.forms import require_same
from cms_desktop.ui.tasks import TaskRunner
from cms_desktop.ui.widgets import ErrorLabel, password_edit

if TYPE_CHECKING:
    from cms_desktop.sync.pairing_net import JoinResult

# initialise(draft, admin_login, admin_name, admin_password) -> SetupResult
Initialise = Callable[[CentreDraft, str, str, str], SetupResult]
# join(address, code, station_name) -> JoinResult (sync_admin.join_existing_centre)
Join = Callable[[str, str, str], "JoinResult"]

PAGE_CHOICE, PAGE_CENTRE, PAGE_ADMIN, PAGE_RECOVERY, PAGE_JOIN, PAGE_JOINED, PAGE_ROOMS = range(7)


def _form_page(page: QWizardPage) -> tuple[QFormLayout, ErrorLabel]:
    form = QFormLayout()
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    error = ErrorLabel(page)
    box = QVBoxLayout(page)
    box.setSpacing(12)
    box.addLayout(form)
    box.addWidget(error)
    box.addStretch(1)
    return form, error


class _WorkingPage(QWizardPage):
    """A commit page whose work (creating or copying the centre) runs off the UI thread.

    ``validatePage`` checks the form, then starts ``work``; the wizard moves on when it
    succeeds. Meanwhile the fields and the wizard's buttons are off (no second click, no
    going back mid-way, no Escape) and a neutral line says what runs; a failure is shown
    in French under the form, with everything typed kept."""

    def __init__(
        self,
        runner: TaskRunner,
        title: str,
        subtitle: str,
        commit_text: str,
        busy_text: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._busy = False
        self._busy_text = busy_text
        self._edits: tuple[QLineEdit, ...] = ()
        self.result: Any = None
        self.setTitle(title)
        self.setSubTitle(subtitle)
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, commit_text)
        self.form, self.error_label = _form_page(self)
        self.progress = QLabel(self)
        self.progress.setObjectName("progress")
        self.progress.hide()
        layout = self.layout()
        if isinstance(layout, QVBoxLayout):  # under the form, above the page's stretch
            layout.insertWidget(max(layout.count() - 1, 0), self.progress)

    @property
    def busy(self) -> bool:
        return self._busy

    def prepare(self) -> Callable[[], Any]:
        """The work to run, once the form is checked (raise ServiceError to refuse)."""
        raise NotImplementedError

    def finished(self, result: Any) -> None:
        """On the UI thread, after the work succeeded (before the wizard moves on)."""

    def validatePage(self) -> bool:
        if self.result is not None:
            return True
        if self._busy:
            return False
        try:
            work = self.prepare()
        except ServiceError as exc:
            self.error_label.show_message(str(exc))
            return False
        self.error_label.clear_message()
        self._set_busy(True)
        self._runner.run_write(work, self._done, self._failed)
        return self.result is not None  # true at once with the synchronous runner

    def _done(self, result: Any) -> None:
        self._set_busy(False)
        self.result = result
        self.finished(result)
        wizard = self.wizard()
        if wizard is not None and wizard.currentPage() is self:
            wizard.next()

    def _failed(self, message: str) -> None:
        self._set_busy(False)
        self.error_label.show_message(message)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        for edit in self._edits:
            edit.setEnabled(not busy)
        wizard = self.wizard()
        if wizard is not None:
            for button in (
                QWizard.WizardButton.CommitButton,
                QWizard.WizardButton.CancelButton,
                QWizard.WizardButton.BackButton,
            ):
                wizard.button(button).setEnabled(not busy)
        self.progress.setText(self._busy_text)
        self.progress.setVisible(busy)
        if busy:
            self.setCursor(Qt.CursorShape.BusyCursor)
        else:
            self.unsetCursor()


class ChoicePage(QWizardPage):
    """New centre, or one more PC for a centre already installed elsewhere."""

    def __init__(self, can_join: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Bienvenue"))
        self.setSubTitle(self.tr("Ce poste n'a pas encore de données. Que voulez-vous faire ?"))
        self.new_centre = QRadioButton(
            self.tr("&Installer un nouveau centre de santé (premier poste du centre)"), self
        )
        self.join = QRadioButton(
            self.tr(
                "&Ajouter ce poste à un centre déjà installé sur un autre poste "
                "(un code d'appairage y est affiché)"
            ),
            self,
        )
        self.new_centre.setChecked(True)
        self.join.setEnabled(can_join)
        hint = QLabel(
            self.tr(
                "Pour ajouter ce poste : sur un poste déjà installé, l'administrateur ouvre "
                "Synchronisation › Afficher un code d'appairage."
            ),
            self,
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        box = QVBoxLayout(self)
        box.setSpacing(14)
        box.addWidget(self.new_centre)
        box.addWidget(self.join)
        box.addWidget(hint)
        box.addStretch(1)

    def nextId(self) -> int:
        return PAGE_JOIN if self.join.isChecked() else PAGE_CENTRE


class CentrePage(QWizardPage):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Le centre de santé"))
        self.setSubTitle(
            self.tr(
                "Ces informations figurent sur les ordonnances et les documents "
                "imprimés. Elles pourront être modifiées plus tard."
            )
        )
        self.name_edit = QLineEdit(self)
        self.address_edit = QLineEdit(self)
        self.postcode_edit = QLineEdit(self)
        self.postcode_edit.setMaxLength(5)
        self.city_edit = QLineEdit(self)
        self.phone_edit = QLineEdit(self)
        self.finess_edit = QLineEdit(self)
        self.finess_edit.setMaxLength(9)
        self.finess_edit.setPlaceholderText(self.tr("9 caractères, ex. 610000000"))
        form, self.error_label = _form_page(self)
        form.addRow(self.tr("&Nom du centre *"), self.name_edit)
        form.addRow(self.tr("&Adresse"), self.address_edit)
        form.addRow(self.tr("&Code postal"), self.postcode_edit)
        form.addRow(self.tr("&Ville"), self.city_edit)
        form.addRow(self.tr("&Téléphone"), self.phone_edit)
        form.addRow(self.tr("N° &FINESS"), self.finess_edit)

    def draft(self) -> CentreDraft:
        return CentreDraft(
            self.name_edit.text().strip(),
            self.address_edit.text().strip(),
            self.postcode_edit.text().strip(),
            self.city_edit.text().strip(),
            self.phone_edit.text().strip(),
            self.finess_edit.text().strip().upper(),
        )

    def nextId(self) -> int:
        return PAGE_ROOMS

    def validatePage(self) -> bool:
        try:
            validate_centre(self.draft())
        except ServiceError as exc:
            self.error_label.show_message(str(exc))
            return False
        self.error_label.clear_message()
        return True


class RoomsPage(QWizardPage):
    """The rooms created with the centre: the usual layout of a CMS, editable here (and
    later in Administration › Salles)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Les salles"))
        self.setSubTitle(
            self.tr(
                "Les rendez-vous au centre se prennent dans une salle. Voici la disposition "
                "habituelle d'un centre de santé : renommez, ajoutez ou retirez des salles."
            )
        )
        self.table = QTableWidget(0, 2, self)
        self.table.setHorizontalHeaderLabels([self.tr("Salle"), self.tr("Type")])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setTabKeyNavigation(False)
        self.add_button = QPushButton(self.tr("&Ajouter une salle"), self)
        self.add_button.clicked.connect(lambda: self.add_row(RoomDraft("", RoomKind.CONSULTING)))
        self.remove_button = QPushButton(self.tr("&Retirer la salle"), self)
        self.remove_button.clicked.connect(self.remove_selected)
        self.error_label = ErrorLabel(self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        box = QVBoxLayout(self)
        box.addWidget(self.table, 1)
        box.addLayout(buttons)
        box.addWidget(self.error_label)
        for room in DEFAULT_LAYOUT:
            self.add_row(room)

    def add_row(self, room: RoomDraft) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        item = QTableWidgetItem(room.name)
        self.table.setItem(row, 0, item)
        combo = QComboBox(self.table)
        for kind in RoomKind:
            combo.addItem(kind.label, kind.value)
        combo.setCurrentIndex(combo.findData(room.kind.value))
        self.table.setCellWidget(row, 1, combo)
        if not room.name:
            self.table.setCurrentCell(row, 0)
            self.table.editItem(item)

    def remove_selected(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.table.removeRow(row)

    def rooms(self) -> tuple[RoomDraft, ...]:
        drafts = []
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            combo = self.table.cellWidget(row, 1)
            kind = combo.currentData() if isinstance(combo, QComboBox) else RoomKind.CONSULTING
            drafts.append(RoomDraft(item.text() if item else "", RoomKind(kind)))
        return tuple(drafts)

    def nextId(self) -> int:
        return PAGE_ADMIN

    def validatePage(self) -> bool:
        try:
            check_layout(self.rooms())
        except InvalidRoom as exc:
            self.error_label.show_message(str(exc))
            return False
        self.error_label.clear_message()
        return True


class AdminPage(_WorkingPage):
    """Checks the form, then creates the centre (off the UI thread) before moving on."""

    def __init__(
        self, initialise: Initialise, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(
            runner,
            QCoreApplication.translate("AdminPage", "Le premier administrateur"),
            QCoreApplication.translate(
                "AdminPage",
                "Ce compte crée ensuite les comptes du personnel. "
                "L'administrateur n'a pas accès aux dossiers médicaux.",
            ),
            QCoreApplication.translate("AdminPage", "Créer le centre"),
            QCoreApplication.translate("AdminPage", "Création du centre en cours…"),
            parent,
        )
        self._initialise = initialise
        self.result: SetupResult | None = None
        self.name_edit = QLineEdit(self)
        self.login_edit = QLineEdit(self)
        self.login_edit.setPlaceholderText(self.tr("ex. admin"))
        self.password_edit = password_edit(self)
        self.confirm_edit = password_edit(self)
        self._edits = (self.name_edit, self.login_edit, self.password_edit, self.confirm_edit)
        rules = QLabel(
            self.tr(
                "Au moins 10 caractères mélangeant trois types parmi : "
                "minuscules, majuscules, chiffres, caractères spéciaux."
            ),
            self,
        )
        rules.setObjectName("hint")
        rules.setWordWrap(True)
        self.form.addRow(self.tr("&Nom complet *"), self.name_edit)
        self.form.addRow(self.tr("&Identifiant *"), self.login_edit)
        self.form.addRow(self.tr("&Mot de passe *"), self.password_edit)
        self.form.addRow(self.tr("C&onfirmation *"), self.confirm_edit)
        self.form.addRow(rules)

    def nextId(self) -> int:
        return PAGE_RECOVERY

    def _check(self) -> tuple[str, str, str]:
        name = self.name_edit.text().strip()
        if not name:
            raise ValidationFailed(self.tr("Le nom de l'administrateur est obligatoire."))
        login = validate_login(self.login_edit.text())
        password = self.password_edit.text()
        require_same(password, self.confirm_edit.text())
        wizard = self.wizard()
        centre = wizard.centre_page.draft() if isinstance(wizard, SetupWizard) else CentreDraft("")
        try:
            check_password_strength(password, login, [name, centre.name, centre.city])
        except WeakPassword as exc:
            raise ValidationFailed(str(exc)) from None
        return name, login, password

    def prepare(self) -> Callable[[], SetupResult]:
        name, login, password = self._check()
        wizard = self.wizard()
        draft = (
            replace(wizard.centre_page.draft(), rooms=wizard.rooms_page.rooms())
            if isinstance(wizard, SetupWizard)
            else CentreDraft("")
        )
        initialise = self._initialise
        return lambda: initialise(draft, login, name, password)

    def finished(self, result: Any) -> None:
        self.password_edit.clear()
        self.confirm_edit.clear()


class RecoveryPage(QWizardPage):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Code de récupération"))
        self.setSubTitle(self.tr("Le centre est créé. Dernière étape : le code de récupération."))
        explanation = QLabel(
            self.tr(
                "Si tous les mots de passe des administrateurs sont perdus, ce code est le seul "
                "moyen de rouvrir la base chiffrée. Imprimez-le et remettez-le au directeur "
                "médical, qui le garde au coffre.<br><b>Il ne sera plus jamais affiché.</b>"
            ),
            self,
        )
        explanation.setWordWrap(True)
        self.code_label = QLabel(self)
        self.code_label.setObjectName("recoveryCode")
        self.code_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.print_button = QPushButton(self.tr("&Imprimer…"), self)
        self.print_button.clicked.connect(self.print_code)
        self.confirm_box = QCheckBox(
            self.tr(
                "J'ai imprimé ou noté le code de récupération et je le remets au directeur médical"
            ),
            self,
        )
        self.confirm_box.toggled.connect(self.completeChanged)
        box = QVBoxLayout(self)
        box.setSpacing(14)
        box.addWidget(explanation)
        box.addWidget(self.code_label)
        box.addWidget(self.print_button, 0, Qt.AlignmentFlag.AlignLeft)
        box.addStretch(1)
        box.addWidget(self.confirm_box)

    def initializePage(self) -> None:
        wizard = self.wizard()
        if isinstance(wizard, SetupWizard) and wizard.admin_page.result is not None:
            self.code_label.setText(wizard.admin_page.result.recovery_code)

    def isComplete(self) -> bool:
        return self.confirm_box.isChecked()

    def nextId(self) -> int:
        return -1

    def print_code(self) -> None:
        from PySide6.QtGui import QTextDocument
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        wizard = self.wizard()
        centre = wizard.centre_page.draft().name if isinstance(wizard, SetupWizard) else ""
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle(self.tr("Imprimer le code de récupération"))
        if dialog.exec() != QPrintDialog.DialogCode.Accepted:
            return
        document = QTextDocument()
        document.setHtml(
            "<h2>"
            + html.escape(centre)
            + "</h2>"
            + "<h3>"
            + self.tr("Code de récupération de cms-desktop")
            + "</h3>"
            + "<p style='font-family: monospace; font-size: 22pt;'><b>"
            + html.escape(self.code_label.text())
            + "</b></p><p>"
            + self.tr(
                "À conserver au coffre par le directeur médical. Ce code permet de "
                "redonner un mot de passe à un compte si tous les mots de passe des "
                "administrateurs sont perdus."
            )
            + "</p>"
        )
        document.print_(printer)


class JoinPage(_WorkingPage):
    """The address and code shown on the other PC, a name for this one; then the copy of
    the centre (off the UI thread). Nothing is installed unless it all succeeds."""

    def __init__(
        self, join: Join | None, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(
            runner,
            QCoreApplication.translate("JoinPage", "Ajouter ce poste au centre"),
            QCoreApplication.translate(
                "JoinPage",
                "Saisissez l'adresse et le code affichés sur le poste déjà installé "
                "(Synchronisation › Afficher un code d'appairage).",
            ),
            QCoreApplication.translate("JoinPage", "Ajouter ce poste"),
            QCoreApplication.translate("JoinPage", "Copie des données du centre en cours…"),
            parent,
        )
        self._join = join
        self.result: JoinResult | None = None
        self.address_edit = QLineEdit(self)
        self.address_edit.setPlaceholderText(self.tr("ex. 192.168.1.10"))
        self.code_edit = QLineEdit(self)
        self.code_edit.setPlaceholderText(self.tr("ex. 8RFH-5RV7"))
        self.name_edit = QLineEdit(self)
        self.name_edit.setPlaceholderText(self.tr("ex. Cabinet 2"))
        self.name_edit.setMaxLength(100)
        self._edits = (self.address_edit, self.code_edit, self.name_edit)
        self.form.addRow(self.tr("&Adresse de l'autre poste *"), self.address_edit)
        self.form.addRow(self.tr("&Code d'appairage *"), self.code_edit)
        self.form.addRow(self.tr("&Nom de ce poste *"), self.name_edit)

    def nextId(self) -> int:
        return PAGE_JOINED

    def prepare(self) -> Callable[[], JoinResult]:
        join = self._join
        if join is None:
            raise ValidationFailed(self.tr("Ce poste ne peut pas rejoindre un centre ici."))
        address, code, name = self.address_edit.text(), self.code_edit.text(), self.name_edit.text()
        return lambda: join(address, code, name)


class JoinedPage(QWizardPage):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Poste ajouté au centre"))
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        box = QVBoxLayout(self)
        box.addWidget(self.summary)
        box.addStretch(1)

    def initializePage(self) -> None:
        wizard = self.wizard()
        result = wizard.join_page.result if isinstance(wizard, SetupWizard) else None
        if result is not None:
            self.summary.setText(
                self.tr(
                    "Les données du centre ont été copiées sur ce poste (%1 opérations). "
                    "Chaque utilisateur s'y connecte avec son identifiant et son mot de passe "
                    "habituels ; les postes se synchronisent ensuite d'eux-mêmes."
                ).replace("%1", f"{result.entries:,}".replace(",", "\u202f"))
            )

    def nextId(self) -> int:
        return -1


class SetupWizard(QWizard):
    """Installs the centre; ``accepted`` once the recovery code is acknowledged."""

    def __init__(
        self,
        initialise: Initialise,
        runner: TaskRunner,
        parent: QWidget | None = None,
        join: Join | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Installation du centre — cms-desktop"))
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setButtonText(QWizard.WizardButton.NextButton, self.tr("&Suivant >"))
        self.setButtonText(QWizard.WizardButton.BackButton, self.tr("< &Précédent"))
        self.setButtonText(QWizard.WizardButton.CancelButton, self.tr("Annuler"))
        self.setButtonText(QWizard.WizardButton.FinishButton, self.tr("&Terminer"))
        self.choice_page = ChoicePage(join is not None, self)
        self.centre_page = CentrePage(self)
        self.rooms_page = RoomsPage(self)
        self.admin_page = AdminPage(initialise, runner, self)
        self.recovery_page = RecoveryPage(self)
        self.join_page = JoinPage(join, runner, self)
        self.joined_page = JoinedPage(self)
        self.setPage(PAGE_CHOICE, self.choice_page)
        self.setPage(PAGE_CENTRE, self.centre_page)
        self.setPage(PAGE_ROOMS, self.rooms_page)
        self.setPage(PAGE_ADMIN, self.admin_page)
        self.setPage(PAGE_RECOVERY, self.recovery_page)
        self.setPage(PAGE_JOIN, self.join_page)
        self.setPage(PAGE_JOINED, self.joined_page)
        self.setStartId(PAGE_CHOICE)
        self.resize(720, 560)

    def result_value(self) -> SetupResult | None:
        return self.admin_page.result

    def reject(self) -> None:
        # Once the centre exists, the code must not vanish with a stray Escape.
        if self.admin_page.result is not None and not self.recovery_page.isComplete():
            widgets.inform(
                self,
                self.tr("Code de récupération"),
                self.tr("Notez ou imprimez d'abord le code de récupération, puis cochez la case."),
            )
            return
        if self.admin_page.busy or self.join_page.busy:
            return
        super().reject()
