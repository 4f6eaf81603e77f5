"""First-run wizard: the centre, its first administrator, then the recovery code to print."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from cms_desktop.domain.passwords import WeakPassword, check_password_strength
from cms_desktop.services.errors import ServiceError, ValidationFailed
from cms_desktop.services.setup import CentreDraft, SetupResult, validate_centre, validate_login
from cms_desktop.ui import widgets
from cms_desktop.ui.forms import require_same
from cms_desktop.ui.tasks import TaskRunner
from cms_desktop.ui.widgets import ErrorLabel, password_edit

# initialise(draft, admin_login, admin_name, admin_password) -> SetupResult
Initialise = Callable[[CentreDraft, str, str, str], SetupResult]


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

    def validatePage(self) -> bool:
        try:
            validate_centre(self.draft())
        except ServiceError as exc:
            self.error_label.show_message(str(exc))
            return False
        self.error_label.clear_message()
        return True


class AdminPage(QWizardPage):
    """Checks the form, then creates the centre (off the UI thread) before moving on."""

    def __init__(
        self, initialise: Initialise, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._initialise = initialise
        self._runner = runner
        self._busy = False
        self.result: SetupResult | None = None
        self.setTitle(self.tr("Le premier administrateur"))
        self.setSubTitle(
            self.tr(
                "Ce compte crée ensuite les comptes du personnel. "
                "L'administrateur n'a pas accès aux dossiers médicaux."
            )
        )
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, self.tr("Créer le centre"))
        self.name_edit = QLineEdit(self)
        self.login_edit = QLineEdit(self)
        self.login_edit.setPlaceholderText(self.tr("ex. admin"))
        self.password_edit = password_edit(self)
        self.confirm_edit = password_edit(self)
        rules = QLabel(
            self.tr(
                "Au moins 10 caractères mélangeant trois types parmi : "
                "minuscules, majuscules, chiffres, caractères spéciaux."
            ),
            self,
        )
        rules.setObjectName("hint")
        rules.setWordWrap(True)
        form, self.error_label = _form_page(self)
        form.addRow(self.tr("&Nom complet *"), self.name_edit)
        form.addRow(self.tr("&Identifiant *"), self.login_edit)
        form.addRow(self.tr("&Mot de passe *"), self.password_edit)
        form.addRow(self.tr("C&onfirmation *"), self.confirm_edit)
        form.addRow(rules)

    def _check(self) -> tuple[str, str, str]:
        name = self.name_edit.text().strip()
        if not name:
            raise ValidationFailed(self.tr("Le nom de l'administrateur est obligatoire."))
        login = validate_login(self.login_edit.text())
        password = self.password_edit.text()
        require_same(password, self.confirm_edit.text())
        try:
            check_password_strength(password, login)
        except WeakPassword as exc:
            raise ValidationFailed(str(exc)) from None
        return name, login, password

    def validatePage(self) -> bool:
        if self.result is not None:
            return True
        if self._busy:
            return False
        try:
            name, login, password = self._check()
        except ServiceError as exc:
            self.error_label.show_message(str(exc))
            return False
        self.error_label.clear_message()
        wizard = self.wizard()
        draft = wizard.centre_page.draft() if isinstance(wizard, SetupWizard) else CentreDraft("")
        self._set_busy(True)
        self._runner.run_write(
            lambda: self._initialise(draft, login, name, password), self._created, self._failed
        )
        return self.result is not None  # true at once with the synchronous runner

    def _created(self, result: SetupResult) -> None:
        self._set_busy(False)
        self.result = result
        self.password_edit.clear()
        self.confirm_edit.clear()
        wizard = self.wizard()
        if wizard is not None and wizard.currentPage() is self:
            wizard.next()

    def _failed(self, message: str) -> None:
        self._set_busy(False)
        self.error_label.show_message(message)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        for edit in (self.name_edit, self.login_edit, self.password_edit, self.confirm_edit):
            edit.setEnabled(not busy)
        wizard = self.wizard()
        if wizard is not None:
            wizard.button(QWizard.WizardButton.CommitButton).setEnabled(not busy)
            wizard.button(QWizard.WizardButton.CancelButton).setEnabled(not busy)
        if busy:
            self.error_label.show_message(self.tr("Création du centre en cours…"))
            self.setCursor(Qt.CursorShape.BusyCursor)
        else:
            self.unsetCursor()


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


class SetupWizard(QWizard):
    """Installs the centre; ``accepted`` once the recovery code is acknowledged."""

    def __init__(
        self, initialise: Initialise, runner: TaskRunner, parent: QWidget | None = None
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
        self.centre_page = CentrePage(self)
        self.admin_page = AdminPage(initialise, runner, self)
        self.recovery_page = RecoveryPage(self)
        self.addPage(self.centre_page)
        self.addPage(self.admin_page)
        self.addPage(self.recovery_page)
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
        if self.admin_page._busy:
            return
        super().reject()
