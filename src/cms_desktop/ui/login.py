"""The login window: identifier and password, demo banner, access recovery with the code."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cms_desktop import __version__
from cms_desktop.ui.recovery import RecoveryDialog
from cms_desktop.ui.tasks import TaskRunner
from cms_desktop.ui.widgets import ErrorLabel, password_edit

Authenticate = Callable[[str, str], Any]
Recover = Callable[[str, str, str], None]


class LoginWindow(QWidget):
    """Asks who is there; emits ``sig_logged_in`` with whatever ``authenticate`` returned."""

    sig_logged_in = Signal(object)
    """The user is authenticated; the argument is the opened session."""

    def __init__(
        self,
        authenticate: Authenticate,
        recover: Recover,
        runner: TaskRunner,
        demo_hint: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._authenticate = authenticate
        self._recover = recover
        self._runner = runner
        self.setWindowTitle(f"cms-desktop {__version__}")

        title = QLabel("cms-desktop", self)
        title.setObjectName("appTitle")
        subtitle = QLabel(self.tr("Connexion au logiciel du centre de santé"), self)
        subtitle.setObjectName("hint")

        self.demo_banner = QLabel(self)
        self.demo_banner.setObjectName("demoBanner")
        self.demo_banner.setWordWrap(True)
        self.demo_banner.setTextFormat(Qt.TextFormat.RichText)
        self.demo_banner.setText(
            "<b>"
            + html.escape(self.tr("Mode démonstration : toutes les données sont fictives."))
            + "</b>"
            + (f"<br>{html.escape(demo_hint)}" if demo_hint else "")
        )
        self.demo_banner.setVisible(demo_hint is not None)

        self.login_edit = QLineEdit(self)
        self.login_edit.setAccessibleName(self.tr("Identifiant"))
        self.password_edit = password_edit(self)
        self.password_edit.setAccessibleName(self.tr("Mot de passe"))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(self.tr("&Identifiant"), self.login_edit)
        form.addRow(self.tr("&Mot de passe"), self.password_edit)

        self.error_label = ErrorLabel(self)
        self.notice_label = QLabel(self)
        self.notice_label.setWordWrap(True)
        self.notice_label.hide()

        # Visible progress while the password is checked (argon2, on purpose slow) and the
        # encrypted database opens: a moving bar and what is being done.
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.progress.hide()
        self.progress_label = QLabel(self)
        self.progress_label.setObjectName("progress")
        self.progress_label.hide()

        self.submit_button = QPushButton(self.tr("Se connecter"), self)
        self.submit_button.setDefault(True)
        self.submit_button.clicked.connect(self.submit)
        self.recovery_button = QPushButton(self.tr("Code de récupération…"), self)
        self.recovery_button.setFlat(True)
        self.recovery_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.recovery_button.clicked.connect(self.open_recovery)
        self.login_edit.returnPressed.connect(self.password_edit.setFocus)
        self.password_edit.returnPressed.connect(self.submit)

        buttons = QHBoxLayout()
        buttons.addWidget(self.recovery_button)
        buttons.addStretch(1)
        buttons.addWidget(self.submit_button)

        box = QVBoxLayout(self)
        box.setContentsMargins(32, 28, 32, 28)
        box.setSpacing(12)
        box.addWidget(title)
        box.addWidget(subtitle)
        box.addWidget(self.demo_banner)
        box.addSpacing(8)
        box.addLayout(form)
        box.addWidget(self.error_label)
        box.addWidget(self.notice_label)
        box.addWidget(self.progress_label)
        box.addWidget(self.progress)
        box.addStretch(1)
        box.addLayout(buttons)

        self.setTabOrder(self.login_edit, self.password_edit)
        self.setTabOrder(self.password_edit, self.submit_button)
        self.setTabOrder(self.submit_button, self.recovery_button)
        self.login_edit.setMinimumWidth(300)
        self.resize(540, 360)
        self.login_edit.setFocus()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        (self.password_edit if self.login_edit.text() else self.login_edit).setFocus()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit_wrapped_labels()

    def _fit_wrapped_labels(self) -> None:
        # Top-level layouts ignore height-for-width: give wrapped labels their real height so
        # that the window grows when an error appears instead of squeezing the banner.
        for label in (self.demo_banner, self.error_label, self.notice_label):
            if label.isVisible():
                label.setMinimumHeight(label.heightForWidth(max(1, label.width())))

    def submit(self) -> None:
        login_name = self.login_edit.text().strip()
        password = self.password_edit.text()
        if not login_name or not password:
            self._failed(self.tr("Saisissez votre identifiant et votre mot de passe."))
            return
        self._set_busy(True)
        self.error_label.clear_message()
        self.notice_label.hide()
        self._runner.run_write(
            lambda: self._authenticate(login_name, password), self._succeeded, self._failed
        )

    def reset(self) -> None:
        """Back to an empty password after a logout; the identifier stays for convenience."""
        self.password_edit.clear()
        self.error_label.clear_message()
        self._set_busy(False)

    def open_recovery(self) -> None:
        dialog = RecoveryDialog(self._recover, self._runner, self.login_edit.text().strip(), self)
        dialog.sig_done.connect(lambda _value: self._recovered(dialog.recovered_login))
        dialog.open()

    def _recovered(self, login_name: str) -> None:
        self.login_edit.setText(login_name)
        self.password_edit.clear()
        self.error_label.clear_message()
        self.notice_label.setText(
            self.tr(
                "Nouveau mot de passe enregistré pour « %1 ». Vous pouvez vous connecter."
            ).replace("%1", login_name)
        )
        self.notice_label.show()
        self._fit_wrapped_labels()
        self.password_edit.setFocus()

    def _succeeded(self, session: object) -> None:
        self._set_busy(False)
        self.password_edit.clear()
        self.sig_logged_in.emit(session)

    def _failed(self, message: str) -> None:
        self._set_busy(False)
        self.password_edit.clear()
        self.error_label.show_message(message)
        self._fit_wrapped_labels()
        (self.password_edit if self.login_edit.text().strip() else self.login_edit).setFocus()

    def _set_busy(self, busy: bool) -> None:
        for widget in (
            self.login_edit,
            self.password_edit,
            self.submit_button,
            self.recovery_button,
        ):
            widget.setEnabled(not busy)
        self.submit_button.setText(self.tr("Connexion…") if busy else self.tr("Se connecter"))
        self.progress.setVisible(busy)
        self.progress_label.setVisible(busy)
        self.progress_label.setText(
            self.tr("Vérification du mot de passe et ouverture de la base chiffrée…")
            if busy
            else ""
        )
        if busy:
            self.setCursor(Qt.CursorShape.BusyCursor)
        else:
            self.unsetCursor()
