"""A dialog that submits a form to a service through the task runner and stays open on errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QVBoxLayout, QWidget

from cms_desktop.services.errors import ServiceError, ValidationFailed
from cms_desktop.ui.tasks import TaskRunner
from cms_desktop.ui.widgets import ErrorLabel


class ServiceDialog(QDialog):
    """Subclasses fill ``self.form`` and implement ``prepare``; errors show under the form."""

    sig_done = Signal(object)
    """The service call succeeded; the argument is what it returned."""

    def __init__(
        self, title: str, ok_text: str, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self._runner = runner
        self.result_value: object = None
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.error_label = ErrorLabel(self)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.ok_button.setDefault(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("Annuler"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.setContentsMargins(20, 20, 20, 16)
        box.setSpacing(12)
        box.addLayout(self.form)
        box.addWidget(self.error_label)
        box.addWidget(self.buttons)
        self.setMinimumWidth(480)

    def prepare(self) -> Callable[[], Any]:
        """Check the form locally (raise ValidationFailed) and return the service call."""
        raise NotImplementedError

    def submit(self) -> None:
        try:
            call = self.prepare()
        except ServiceError as exc:
            self.error_label.show_message(str(exc))
            return
        self.error_label.clear_message()
        self._set_busy(True)
        self._runner.run_write(call, self._succeeded, self._failed)

    def _succeeded(self, value: object) -> None:
        self._set_busy(False)
        self.result_value = value
        self.sig_done.emit(value)
        self.accept()

    def _failed(self, message: str) -> None:
        self._set_busy(False)
        self.error_label.show_message(message)

    def _set_busy(self, busy: bool) -> None:
        self.buttons.setEnabled(not busy)
        if busy:
            self.setCursor(Qt.CursorShape.BusyCursor)
        else:
            self.unsetCursor()


def require_same(password: str, confirmation: str) -> None:
    if not password:
        raise ValidationFailed(QCoreApplication.translate("forms", "Saisissez le mot de passe."))
    if password != confirmation:
        raise ValidationFailed(
            QCoreApplication.translate(
                "forms", "Les deux mots de passe saisis ne sont pas identiques."
            )
        )
