"""Screen lock: the inactivity watcher and the page that covers the work until the password is typed."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.ui.tasks import TaskRunner
from cms_desktop.ui.widgets import ErrorLabel, password_edit

DEFAULT_AUTO_LOCK_MINUTES = 10

_ACTIVITY = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)


class InactivityWatcher(QObject):
    """Emits ``sig_idle`` once no key or mouse event has reached the application for a while."""

    sig_idle = Signal()
    """The delay passed without any keyboard or mouse activity."""

    def __init__(
        self, minutes: float = DEFAULT_AUTO_LOCK_MINUTES, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.sig_idle)
        self.set_delay_ms(int(minutes * 60_000))
        self._installed = False

    def set_delay_ms(self, ms: int) -> None:
        self._timer.setInterval(max(1, ms))
        if self._timer.isActive():
            self._timer.start()

    def delay_ms(self) -> int:
        return self._timer.interval()

    def start(self) -> None:
        app = QApplication.instance()
        if app is not None and not self._installed:
            app.installEventFilter(self)
            self._installed = True
        self._timer.start()

    def stop(self) -> None:
        app = QApplication.instance()
        if app is not None and self._installed:
            app.removeEventFilter(self)
            self._installed = False
        self._timer.stop()

    def is_running(self) -> bool:
        return self._timer.isActive()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY and self._timer.isActive():
            self._timer.start()
        return False


class LockPage(QWidget):
    """Covers the main content; only the same user's password (or a logout) gets past it."""

    sig_unlocked = Signal()
    """The password was right: the work underneath may show again."""
    sig_switch_user = Signal()
    """The user asked to log out and let someone else log in."""

    def __init__(
        self,
        user_label: str,
        unlock: Callable[[str], None],
        runner: TaskRunner,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._unlock = unlock
        self._runner = runner
        title = QLabel(self.tr("Session verrouillée"), self)
        title.setObjectName("pageTitle")
        who = QLabel(
            self.tr(
                "Session de %1. Saisissez votre mot de passe pour reprendre "
                "votre travail là où vous l'avez laissé."
            ).replace("%1", user_label),
            self,
        )
        who.setWordWrap(True)
        self.password_edit = password_edit(self)
        self.password_edit.setAccessibleName(self.tr("Mot de passe"))
        self.password_edit.returnPressed.connect(self.submit)
        self.error_label = ErrorLabel(self)
        self.unlock_button = QPushButton(self.tr("Déverrouiller"), self)
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self.submit)
        self.switch_button = QPushButton(self.tr("Changer d'utilisateur…"), self)
        self.switch_button.clicked.connect(self.sig_switch_user)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(self.tr("&Mot de passe"), self.password_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.switch_button)
        buttons.addStretch(1)
        buttons.addWidget(self.unlock_button)

        panel = QWidget(self)
        panel.setMaximumWidth(520)
        inner = QVBoxLayout(panel)
        inner.setSpacing(12)
        inner.addWidget(title)
        inner.addWidget(who)
        inner.addLayout(form)
        inner.addWidget(self.error_label)
        inner.addLayout(buttons)

        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(panel, 2)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.setTabOrder(self.password_edit, self.unlock_button)
        self.setTabOrder(self.unlock_button, self.switch_button)

    def prepare(self) -> None:
        self.password_edit.clear()
        self.error_label.clear_message()
        self._set_busy(False)
        self.password_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def submit(self) -> None:
        password = self.password_edit.text()
        if not password:
            self.error_label.show_message(self.tr("Saisissez votre mot de passe."))
            return
        self._set_busy(True)
        self._runner.run_write(lambda: self._unlock(password), self._succeeded, self._failed)

    def _succeeded(self, _value: object) -> None:
        self._set_busy(False)
        self.password_edit.clear()
        self.error_label.clear_message()
        self.sig_unlocked.emit()

    def _failed(self, message: str) -> None:
        self._set_busy(False)
        self.password_edit.clear()
        self.error_label.show_message(message)
        self.password_edit.setFocus()

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.password_edit, self.unlock_button, self.switch_button):
            widget.setEnabled(not busy)
