"""The role-aware shell: navigation between areas, who is logged in, lock, status bar."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from cms_desktop import __version__
from cms_desktop.domain.permissions import ROLE_LABELS, Permission
from cms_desktop.services import clinical_access, clinical_fields, legacy_sealing
from cms_desktop.services import workspace as workspace_service
from cms_desktop.services.actor import Actor
from cms_desktop.services.clinical_fields import CLINICAL_ACCESS_TABLES
from cms_desktop.services.workspace import Workspace
from cms_desktop.ui import widgets
from cms_desktop.ui.areas import AreaContext, AreaSpec, default_areas
from cms_desktop.ui.changes import ChangeHub
from cms_desktop.ui.lock import DEFAULT_AUTO_LOCK_MINUTES, InactivityWatcher, LockPage
from cms_desktop.ui.tasks import TaskRunner, user_message

log = logging.getLogger(__name__)


@dataclass
class _Area:
    key: str
    title: str
    holder: QWidget  # the page in the stack; the area's widget goes in it once built
    item: QListWidgetItem
    shortcut: QShortcut | None
    factory: Callable[[], QWidget] | None = None
    widget: QWidget | None = None


class MainWindow(QMainWindow):
    """One logged-in user's window; closing it or switching user logs out."""

    sig_logged_out = Signal()
    """The user logged out to let someone else log in (the window is about to close)."""

    def __init__(
        self,
        workspace: Workspace,
        actor: Actor,
        runner: TaskRunner,
        centre_name: str = "",
        auto_lock_minutes: float = DEFAULT_AUTO_LOCK_MINUTES,
        areas: Sequence[AreaSpec] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.actor = actor
        self._runner = runner
        self._areas: dict[str, _Area] = {}
        self._logged_out = False
        # Called before the store closes at logout (e.g. the LAN sync service stops).
        self.before_store_closes: list[Callable[[], None]] = []
        self._hidden_dialogs: list[QDialog] = []
        # Who is working where first, as the taskbar shows it; the version last, for the
        # centre's IT updating the stations one at a time (#20).
        who = f"{actor.full_name} ({ROLE_LABELS[actor.role]})"
        place = f"{centre_name} — {who}" if centre_name else who
        self.setWindowTitle(f"{place} — cms-desktop {__version__}")

        self.navigation = QListWidget(self)
        self.navigation.setObjectName("navigation")
        self.navigation.setFixedWidth(190)
        self.navigation.setAccessibleName(self.tr("Navigation"))
        self.pages = QStackedWidget(self)
        self.navigation.currentRowChanged.connect(self._row_changed)

        self.content = QWidget(self)
        content_box = QVBoxLayout(self.content)
        content_box.setContentsMargins(0, 0, 0, 0)
        content_box.setSpacing(0)
        content_box.addWidget(self._header(centre_name))
        body = QHBoxLayout()
        body.setSpacing(0)
        body.addWidget(self.navigation)
        body.addWidget(self.pages, 1)
        content_box.addLayout(body, 1)

        self.lock_page = LockPage(self._user_label(), self._unlock, runner, self)
        self.lock_page.sig_unlocked.connect(self.unlock_screen)
        self.lock_page.sig_switch_user.connect(self.switch_user)

        # The lock page sits over the content in a stack: the pages underneath, and what
        # is typed in them, stay alive while the screen is locked.
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.content)
        self.stack.addWidget(self.lock_page)
        self.setCentralWidget(self.stack)

        self.database_label = QLabel(self.tr("Base chiffrée : ouverte"), self)
        self.sync_label = QLabel(self.tr("Synchronisation : non configurée"), self)
        self.statusBar().addPermanentWidget(self.database_label)
        self.statusBar().addPermanentWidget(self.sync_label)

        self.lock_shortcut = QShortcut(QKeySequence("Ctrl+L"), self)
        self.lock_shortcut.activated.connect(self.lock_screen)
        self.about_shortcut = QShortcut(QKeySequence("F1"), self)
        self.about_shortcut.activated.connect(self.show_about)

        self.watcher = InactivityWatcher(auto_lock_minutes, self)
        self.watcher.sig_idle.connect(self.lock_screen)

        # One change signal after each local save (the store's commit listener) and each
        # sync merge (connected by the shell); the areas refresh from it.
        self.changes = ChangeHub(self)
        self._store_listener = self.changes.notify
        workspace.store.commit_listeners.append(self._store_listener)
        self.changes.changed.connect(self._data_changed)

        self._when_built: dict[str, list[Callable[[QWidget], None]]] = {}
        context = AreaContext(workspace, actor, runner)
        # Areas are built when first shown: logging in builds the first one only.
        for spec in default_areas() if areas is None else areas:
            if spec.allowed(actor):
                self.add_lazy_area(
                    spec.key, spec.title, partial(spec.factory, context), spec.shortcut
                )
        if self.navigation.count():
            self.navigation.setCurrentRow(0)
        widgets.fit_to_screen(self, 1280, 800)
        self.check_waiting_accounts()
        self.seal_legacy_rows()

    def seal_legacy_rows(self) -> None:
        """A holder's window seals, in the background and in batches, what an earlier
        version wrote in clear (#17); nothing to do costs one indexed query."""
        if (
            not self.actor.can(Permission.CLINICAL_READ)
            or self.workspace.clinical_writing_key is None
        ):
            return
        self._runner.run_write(
            lambda: legacy_sealing.seal_legacy_rows(self.workspace, self.actor),
            self._legacy_sealed,
            lambda _message: None,  # tried again at the next login or key received
        )

    def _legacy_sealed(self, result: object) -> None:
        message = getattr(result, "message", "")
        if message:
            self.statusBar().showMessage(message, 10_000)
        if getattr(result, "remaining", False):
            QTimer.singleShot(1_000, self.seal_legacy_rows)  # leaves the writer to the user

    def _user_label(self) -> str:
        return f"{self.actor.full_name} ({ROLE_LABELS[self.actor.role]})"

    def _header(self, centre_name: str) -> QWidget:
        bar = QWidget(self)
        bar.setObjectName("headerBar")
        bar.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        centre = QLabel(centre_name or "cms-desktop", bar)
        centre.setObjectName("pageTitle")
        self.user_label = QLabel(
            f"<b>{self.actor.full_name}</b><br>{ROLE_LABELS[self.actor.role]}", bar
        )
        self.user_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.about_button = QPushButton(self.tr("À propos"), bar)
        self.about_button.setToolTip(
            self.tr("Version, dossier des données de ce poste, licences (F1)")
        )
        self.about_button.clicked.connect(self.show_about)
        # Shown to a holder of the clinical key while accounts wait for it (#17).
        self.access_button = QPushButton(bar)
        self.access_button.setObjectName("accessButton")
        self.access_button.setToolTip(
            self.tr("Des comptes soignants attendent la clé du dossier médical")
        )
        self.access_button.clicked.connect(self.show_clinical_access)
        self.access_button.hide()
        self.lock_button = QPushButton(self.tr("Verrouiller (Ctrl+L)"), bar)
        self.lock_button.setToolTip(self.tr("Verrouiller l'écran pendant votre absence"))
        self.lock_button.clicked.connect(self.lock_screen)
        row = QHBoxLayout(bar)
        row.setContentsMargins(16, 8, 16, 8)
        row.addWidget(centre, 1)
        row.addWidget(self.user_label)
        row.addSpacing(12)
        row.addWidget(self.access_button)
        row.addWidget(self.about_button)
        row.addWidget(self.lock_button)
        return bar

    def show_clinical_access(self) -> None:
        """The holder's list of accounts waiting, or this account's hand-over dialog."""
        from cms_desktop.ui.clinical_access import ReceiveKeyDialog, WaitingAccountsDialog

        if self.is_locked():
            return
        dialog: QDialog
        if self._needs_key():
            receive = ReceiveKeyDialog(self.workspace, self.actor, self._runner, self)
            receive.sig_received.connect(self._key_received)
            dialog = receive
        else:
            waiting = WaitingAccountsDialog(self.workspace, self.actor, self._runner, self)
            waiting.sig_changed.connect(self._show_waiting)
            dialog = waiting
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.open()

    def _needs_key(self) -> bool:
        return (
            self.actor.can(Permission.CLINICAL_READ) and self.workspace.clinical_writing_key is None
        )

    def _key_received(self, holder: str) -> None:
        self.statusBar().showMessage(
            self.tr("Clé du dossier médical reçue de {0}.").format(holder), 15_000
        )
        self.check_waiting_accounts()
        self.seal_legacy_rows()

    def check_waiting_accounts(self) -> None:
        """Show the hand-over button to an account without the key, or to a holder the
        count of accounts waiting (at login, after a sync)."""
        if not self.actor.can(Permission.CLINICAL_READ):
            return
        if self._needs_key():
            self.access_button.setText(self.tr("Recevoir la clé du dossier médical"))
            self.access_button.setVisible(True)
            return
        self._runner.run_read(
            lambda: len(clinical_access.waiting_for_key(self.workspace, self.actor)),
            self._show_waiting,
            lambda _message: None,  # counted again at the next change
        )

    def _show_waiting(self, count: object) -> None:
        waiting = count if isinstance(count, int) else 0
        self.access_button.setText(self.tr("Accès au dossier : {0} en attente").format(waiting))
        self.access_button.setVisible(waiting > 0)

    def show_about(self) -> None:
        from cms_desktop.ui.about import AboutDialog

        if self.is_locked():
            return
        dialog = AboutDialog(self.workspace.data_dir.path, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.open()

    # --- areas -----------------------------------------------------------------------
    def add_area(self, key: str, title: str, widget: QWidget, shortcut: str | None = None) -> None:
        """Add a page to the navigation; ``shortcut`` (e.g. "Ctrl+2") switches to it."""
        self._add(key, title, shortcut, None, widget)

    def add_lazy_area(
        self, key: str, title: str, factory: Callable[[], QWidget], shortcut: str | None = None
    ) -> None:
        """As add_area, the page being built by ``factory`` when first shown or asked for."""
        self._add(key, title, shortcut, factory, None)

    def _add(
        self,
        key: str,
        title: str,
        shortcut: str | None,
        factory: Callable[[], QWidget] | None,
        widget: QWidget | None,
    ) -> None:
        if key in self._areas:
            raise ValueError(f"area {key!r} already added")
        item = QListWidgetItem(title)
        if shortcut:
            item.setToolTip(f"{title} ({shortcut})")
        self.navigation.addItem(item)
        holder = QWidget(self.pages)
        box = QVBoxLayout(holder)
        box.setContentsMargins(0, 0, 0, 0)
        self.pages.addWidget(holder)
        action = None
        if shortcut:
            action = QShortcut(QKeySequence(shortcut), self)
            action.activated.connect(lambda k=key: self.show_area(k))
        area = _Area(key, title, holder, item, action, factory)
        self._areas[key] = area
        if widget is not None:
            self._install(area, widget)

    def _install(self, area: _Area, widget: QWidget) -> None:
        area.widget = widget
        layout = area.holder.layout()
        assert layout is not None
        layout.addWidget(widget)
        # Pages that can open a patient's record (the agenda, the waiting room) say so by
        # a ``sig_open_patient`` signal; looked up by name so as not to import each page.
        wanted = getattr(widget, "sig_open_patient", None)
        if wanted is not None:
            wanted.connect(self.open_patient)
        for callback in self._when_built.pop(area.key, []):
            callback(widget)

    def _built(self, area: _Area) -> QWidget:
        if area.widget is None:
            assert area.factory is not None
            self._install(area, area.factory())
        assert area.widget is not None
        return area.widget

    def _row_changed(self, row: int) -> None:
        area = next((a for a in self._areas.values() if self.navigation.row(a.item) == row), None)
        if area is not None:
            self._built(area)
        self.pages.setCurrentIndex(row)

    def when_built(self, key: str, callback: Callable[[QWidget], None]) -> None:
        """Run ``callback(widget)`` once the area exists (now if it does already)."""
        area = self._areas.get(key)
        if area is None:
            return
        if area.widget is not None:
            callback(area.widget)
        else:
            self._when_built.setdefault(key, []).append(callback)

    def built_widgets(self) -> list[QWidget]:
        return [a.widget for a in self._areas.values() if a.widget is not None]

    def area_keys(self) -> list[str]:
        return list(self._areas)

    def area_widget(self, key: str) -> QWidget:
        return self._built(self._areas[key])

    def show_area(self, key: str) -> None:
        if self.is_locked() or key not in self._areas:
            return
        self.navigation.setCurrentItem(self._areas[key].item)

    def open_patient(self, patient_id: str) -> None:
        """Show the patient's file in the Patients area (from the agenda, the waiting room)."""
        if "patients" not in self._areas or self.is_locked():
            return
        self.show_area("patients")
        opener = getattr(self.area_widget("patients"), "open_patient", None)
        if callable(opener):
            opener(patient_id)

    def _data_changed(self, tables: frozenset[str]) -> None:
        if tables & CLINICAL_ACCESS_TABLES and self.actor.can(Permission.CLINICAL_READ):
            # A sync brought an account waiting for the clinical key, or a grant for us.
            self._runner.run_write(
                lambda: clinical_fields.refresh_clinical_access(self.workspace, self.actor),
                self._clinical_access_refreshed,
                lambda _message: None,  # tried again at the next change or login
            )
        # Looked up by method, as status_changed: each page knows which tables it shows.
        for widget in self.built_widgets():  # the others load afresh when first shown
            follow = getattr(widget, "data_changed", None)
            if callable(follow):
                follow(tables)

    def _clinical_access_refreshed(self, result: object) -> None:
        message = getattr(result, "message", "")
        if message:
            self.statusBar().showMessage(message, 15_000)
        self.check_waiting_accounts()

    def current_area(self) -> str | None:
        widget = self.pages.currentWidget()
        return next((a.key for a in self._areas.values() if a.holder is widget), None)

    def set_sync_state(self, text: str) -> None:
        self.sync_label.setText(text)
        # Pages that show sync state (the Synchronisation page) follow the status bar.
        # Looked up by method, not by class: this module must not import every page.
        for widget in self.built_widgets():
            follow = getattr(widget, "status_changed", None)
            if callable(follow):
                follow()

    # --- lock ------------------------------------------------------------------------
    def showEvent(self, event: object) -> None:
        super().showEvent(event)  # type: ignore[arg-type]
        if not self.is_locked():
            self.watcher.start()

    def is_locked(self) -> bool:
        return self.stack.currentWidget() is self.lock_page

    def lock_screen(self) -> None:
        if self.is_locked() or self._logged_out:
            return
        self.watcher.stop()
        # Back at the field the user was typing in once unlocked.
        self._focus_before_lock = QApplication.focusWidget()
        # Open dialogs are hidden with the work, not closed: what they hold is kept.
        self._hidden_dialogs = [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, QDialog) and w.isVisible() and self._owns(w)
        ]
        for dialog in self._hidden_dialogs:
            dialog.hide()
        self.stack.setCurrentWidget(self.lock_page)
        self._set_shortcuts_enabled(False)
        self.lock_page.prepare()
        self._runner.run_write(
            lambda: workspace_service.record_lock(self.workspace, self.actor),
            None,
            lambda message: log.warning("Screen lock could not be recorded"),
        )

    def _owns(self, widget: QWidget) -> bool:
        # isAncestorOf() stops at window boundaries; dialogs are windows of their own.
        parent = widget.parentWidget()
        while parent is not None:
            if parent is self:
                return True
            parent = parent.parentWidget()
        return False

    def unlock_screen(self) -> None:
        self.stack.setCurrentWidget(self.content)
        self._set_shortcuts_enabled(True)
        for dialog in self._hidden_dialogs:
            dialog.show()
        self._hidden_dialogs = []
        focus = getattr(self, "_focus_before_lock", None)
        self._focus_before_lock = None
        if isinstance(focus, QWidget) and self._is_alive(focus) and focus.isVisible():
            focus.window().activateWindow()
            focus.setFocus(Qt.FocusReason.OtherFocusReason)
        self.watcher.start()

    @staticmethod
    def _is_alive(widget: QWidget) -> bool:
        try:
            widget.objectName()  # raises once the C++ widget is gone
        except RuntimeError:
            return False
        return True

    def _unlock(self, password: str) -> None:
        workspace_service.unlock(self.workspace, self.actor, password)

    def _set_shortcuts_enabled(self, enabled: bool) -> None:
        self.lock_shortcut.setEnabled(enabled)
        for area in self._areas.values():
            if area.shortcut is not None:
                area.shortcut.setEnabled(enabled)

    # --- logout ----------------------------------------------------------------------
    def unsaved_areas(self) -> list[str]:
        """Titles of the areas holding edits not saved yet (notes are autosaved as drafts)."""
        return [
            area.title
            for area in self._areas.values()
            if area.widget is not None
            and getattr(area.widget, "has_unsaved_changes", lambda: False)()
        ]

    def _confirm_discard(self, title: str) -> bool:
        unsaved = self.unsaved_areas()
        if not unsaved:
            return True
        return widgets.ask(
            self,
            title,
            self.tr("Des modifications ne sont pas enregistrées (%1). Les abandonner ?").replace(
                "%1", ", ".join(unsaved)
            ),
        )

    def switch_user(self) -> None:
        if not self._confirm_discard(self.tr("Changer d'utilisateur")):
            return
        if not self.unsaved_areas() and not widgets.ask(
            self,
            self.tr("Changer d'utilisateur"),
            self.tr("Votre session sera fermée (les brouillons sont enregistrés). Continuer ?"),
        ):
            return
        self.logout()
        self.sig_logged_out.emit()
        self.close()

    def logout(self) -> None:
        """Write the logout entry and close the store (once; it runs before the app can quit)."""
        if self._logged_out:
            return
        self._logged_out = True
        self.watcher.stop()
        if self._store_listener in self.workspace.store.commit_listeners:
            self.workspace.store.commit_listeners.remove(self._store_listener)
        for stop in self.before_store_closes:
            try:
                stop()
            except Exception as exc:  # closing must go on whatever a background service does
                user_message(exc)
        self._runner.wait_idle()
        try:
            workspace_service.logout(self.workspace, self.actor)
        except Exception as exc:  # the window must close even if the store is gone
            user_message(exc)
            self.workspace.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._logged_out and not self._confirm_discard(self.tr("Quitter")):
            event.ignore()
            return
        self.logout()
        super().closeEvent(event)
