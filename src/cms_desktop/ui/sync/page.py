"""The Synchronisation page: this station, its peers, a pairing code, and the conflicts.

Conflicts show the value every station displays next to the value set aside; a person
allowed to change that kind of data keeps one or the other (F5 refreshes).
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.paris_time import paris_text
from cms_desktop.domain.permissions import Permission
from cms_desktop.services import sync_admin, sync_conflicts
from cms_desktop.services.actor import Actor
from cms_desktop.services.sync_admin import PairingHandle, PeerView, SyncOverview
from cms_desktop.services.sync_conflicts import ConflictChoice, ConflictView
from cms_desktop.services.workspace import Workspace
from cms_desktop.ui.tasks import TaskRunner
from cms_desktop.ui.widgets import ErrorLabel, ask

FIELD_LABELS = {
    "birth_name": "Nom de naissance",
    "used_name": "Nom utilisé",
    "first_given_name": "Premier prénom",
    "given_names": "Prénoms",
    "birth_date": "Date de naissance",
    "sex": "Sexe",
    "address": "Adresse",
    "postcode": "Code postal",
    "city": "Ville",
    "phone_mobile": "Téléphone portable",
    "phone_home": "Téléphone fixe",
    "email": "Courriel",
    "nir": "NIR",
}


def _version(peer: PeerView, overview: SyncOverview) -> str:
    """The peer's version as its last exchange told it, and whether it needs the update."""
    if not peer.app_version:
        # Never met, or a version older than 0.1 that did not announce itself.
        return "inconnue" if peer.last_contact else ""
    if peer.schema and peer.schema < overview.schema:
        return f"{peer.app_version} (à mettre à jour)"
    if peer.schema > overview.schema:
        return f"{peer.app_version} (plus récente : mettez ce poste à jour)"
    return peer.app_version


def _when(moment: datetime | None) -> str:
    return paris_text(moment) if moment else "jamais"


def _with_source(value: str, source: str) -> str:
    return f"{value}\n{source}" if source else value


def _table(headers: list[str], parent: QWidget) -> QTableWidget:
    table = QTableWidget(0, len(headers), parent)
    table.setHorizontalHeaderLabels(headers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.verticalHeader().hide()
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    table.setTabKeyNavigation(False)
    return table


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))


class SyncPage(QWidget):
    sync_now_requested = Signal()
    """« Synchroniser maintenant »: the running sync service makes a pass at once."""

    def __init__(
        self,
        ws: Workspace,
        actor: Actor,
        runner: TaskRunner,
        sync_port: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._ws, self._actor, self._runner = ws, actor, runner
        self._sync_port = sync_port
        self._pairing: PairingHandle | None = None
        self._conflicts: list[ConflictView] = []
        self._peers: list[PeerView] = []

        title = QLabel(self.tr("Synchronisation"), self)
        title.setObjectName("pageTitle")
        self.sync_button = QPushButton(self.tr("Synchroniser &maintenant"), self)
        self.sync_button.setToolTip(
            self.tr("Échanger tout de suite avec les autres postes (sinon : toutes les 5 s)")
        )
        self.sync_button.setEnabled(False)  # until the sync service of this session runs
        self.sync_button.clicked.connect(self._sync_now)
        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)
        self.station_label = QLabel(self)
        self.station_label.setObjectName("hint")
        self.error = ErrorLabel(self)

        peers_box = QGroupBox(self.tr("Postes du centre"), self)
        self.peers = _table(
            [
                self.tr("Poste"),
                self.tr("Adresse"),
                self.tr("Version"),
                self.tr("Dernier contact"),
                self.tr("État"),
            ],
            peers_box,
        )
        self.pair_button = QPushButton(self.tr("Afficher un code d'appairage"), peers_box)
        self.pair_button.setVisible(actor.can(Permission.SYNC_MANAGE))
        self.pair_button.clicked.connect(self.show_pairing_code)
        self.remove_button = QPushButton(self.tr("Retirer ce poste…"), peers_box)
        self.remove_button.setToolTip(
            self.tr("Révoque son certificat : ce poste ne pourra plus se synchroniser")
        )
        self.remove_button.setVisible(actor.can(Permission.SYNC_MANAGE))
        self.remove_button.clicked.connect(self.remove_selected_station)
        self.peers.itemSelectionChanged.connect(self._update_buttons)
        self.code_label = QLabel(peers_box)
        self.code_label.setObjectName("pairingCode")
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.code_label.setWordWrap(True)
        peers_layout = QVBoxLayout(peers_box)
        peers_layout.addWidget(self.peers)
        row = QHBoxLayout()
        row.addWidget(self.pair_button)
        row.addWidget(self.code_label, 1)
        row.addWidget(self.remove_button)
        peers_layout.addLayout(row)

        conflicts_box = QGroupBox(self.tr("Conflits à trancher"), self)
        self.conflicts = _table(
            [
                self.tr("Fiche"),
                self.tr("Champ"),
                self.tr("Valeur affichée"),
                self.tr("Autre valeur"),
                self.tr("Détecté le"),
            ],
            conflicts_box,
        )
        self.conflicts.itemSelectionChanged.connect(self._update_buttons)
        self.keep_shown = QPushButton(self.tr("Garder la valeur affichée"), conflicts_box)
        self.keep_other = QPushButton(self.tr("Reprendre l'autre valeur"), conflicts_box)
        self.keep_shown.clicked.connect(lambda: self.resolve(ConflictChoice.SHOWN))
        self.keep_other.clicked.connect(lambda: self.resolve(ConflictChoice.KEPT))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.keep_shown)
        buttons.addWidget(self.keep_other)
        conflicts_layout = QVBoxLayout(conflicts_box)
        conflicts_layout.addWidget(self.conflicts)
        conflicts_layout.addLayout(buttons)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        heading = QHBoxLayout()
        heading.addWidget(title)
        heading.addStretch(1)
        heading.addWidget(self.sync_button)
        layout.addLayout(heading)
        layout.addWidget(self.status_label)
        layout.addWidget(self.station_label)
        layout.addWidget(self.error)
        layout.addWidget(peers_box, 1)
        layout.addWidget(conflicts_box, 2)

        refresh = QShortcut(QKeySequence("F5"), self)
        refresh.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        refresh.activated.connect(self.refresh)
        self._update_buttons()
        self.refresh()

    # --- data ---------------------------------------------------------------------

    def showEvent(self, event: object) -> None:
        # Built at login, shown perhaps hours later: what it shows is read when it shows.
        super().showEvent(event)  # type: ignore[arg-type]
        self.refresh()

    def set_sync_available(self, available: bool) -> None:
        """The session's sync service runs (a paired station): passes can be asked for."""
        self.sync_button.setEnabled(available)

    def _sync_now(self) -> None:
        self.status_label.setText(self.tr("Synchronisation en cours…"))
        self.sync_now_requested.emit()

    def status_changed(self) -> None:
        """The sync service finished a pass: the peers' states and the conflicts may have
        changed (the status bar changes with them; this page must not contradict it)."""
        if self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        self._runner.run_read(
            lambda: sync_admin.overview(self._ws, self._actor), self._show_overview, self._fail
        )
        self._runner.run_read(
            lambda: sync_conflicts.list_conflicts(self._ws, self._actor),
            self._show_conflicts,
            self._fail,
        )

    def _fail(self, message: str) -> None:
        self.error.show_message(message)

    def _show_overview(self, overview: SyncOverview) -> None:
        advice = overview.status.advice
        self.status_label.setText(overview.status.text + (f"\n{advice}" if advice else ""))
        name = overview.station_name if overview.paired else self.tr("non appairé")
        self.station_label.setText(
            self.tr("Ce poste : ")
            + f"{name} ({overview.station_id}), "
            + self.tr("version ")
            + overview.app_version
        )
        self._peers = list(overview.peers)
        rows = []
        for peer in overview.peers:
            if peer.revoked:
                state = self.tr("retiré")
            elif peer.unreachable_since:
                state = self.tr("injoignable depuis le ") + _when(peer.unreachable_since)
            else:
                state = self.tr("joignable") if peer.last_contact else self.tr("pas encore joint")
            label = peer.name or peer.station_id
            rows.append(
                [label, peer.address, _version(peer, overview), _when(peer.last_contact), state]
            )
        _fill(self.peers, rows)
        self._update_buttons()

    def _show_conflicts(self, conflicts: list[ConflictView]) -> None:
        self._conflicts = conflicts
        _fill(
            self.conflicts,
            [
                [
                    f"{c.entity_label}\n{c.record_label}" if c.record_label else c.entity_label,
                    FIELD_LABELS.get(c.field, c.field),
                    _with_source(c.shown_value, c.shown_source),
                    _with_source(c.kept_value, c.kept_source),
                    _when(c.detected_at),
                ]
                for c in conflicts
            ],
        )
        self.conflicts.resizeRowsToContents()  # two lines: the value, then where and when
        self._update_buttons()

    def selected_conflict(self) -> ConflictView | None:
        row = self.conflicts.currentRow()
        selected = self.conflicts.selectionModel().hasSelection()
        return self._conflicts[row] if selected and 0 <= row < len(self._conflicts) else None

    def selected_peer(self) -> PeerView | None:
        row = self.peers.currentRow()
        selected = self.peers.selectionModel().hasSelection()
        return self._peers[row] if selected and 0 <= row < len(self._peers) else None

    def _update_buttons(self) -> None:
        conflict = self.selected_conflict()
        enabled = conflict is not None and conflict.can_resolve
        self.keep_shown.setEnabled(enabled)
        self.keep_other.setEnabled(enabled)
        peer = self.selected_peer()
        self.remove_button.setEnabled(peer is not None and peer.paired and not peer.revoked)

    # --- actions ------------------------------------------------------------------

    def resolve(self, choice: ConflictChoice) -> None:
        conflict = self.selected_conflict()
        if conflict is None:
            return
        self.error.clear_message()
        self._runner.run_write(
            lambda: sync_conflicts.resolve_conflict(self._ws, self._actor, conflict.id, choice),
            lambda _: self.refresh(),
            self._fail,
        )

    def remove_selected_station(self) -> None:
        """Revoke the selected station's certificate, after a question answered « Oui »."""
        peer = self.selected_peer()
        if peer is None or not peer.paired or peer.revoked:
            return
        label = peer.name or peer.station_id
        question = self.tr(
            "Retirer le poste « %1 » ? Son certificat sera révoqué sur tous les postes : il "
            "ne pourra plus se synchroniser, et l'appairer de nouveau demandera un code."
        ).replace("%1", label)
        if not ask(self, self.tr("Retirer un poste"), question):
            return
        self.error.clear_message()
        station_id = peer.station_id
        self._runner.run_write(
            lambda: sync_admin.remove_station(self._ws, self._actor, station_id),
            lambda _: self.refresh(),
            self._fail,
        )

    @property
    def pairing(self) -> PairingHandle | None:
        """The code on screen, if any (its listener stops when the page closes)."""
        return self._pairing

    def show_pairing_code(self) -> None:
        self.error.clear_message()
        if self._pairing is not None:
            self._pairing.stop()
        self._runner.run_write(
            lambda: sync_admin.start_pairing(self._ws, self._actor, self._sync_port),
            self._show_code,
            self._fail,
        )

    def _show_code(self, handle: PairingHandle) -> None:
        self._pairing = handle
        self.code_label.setText(
            self.tr(
                "Sur le nouveau poste, au premier lancement, choisissez « Ajouter ce poste à "
                "un centre déjà installé » et saisissez :<br>adresse <b>%1</b> — code "
                "<b>%2</b><br>(valable 10 minutes, une seule fois)"
            )
            .replace("%1", handle.address_text)
            .replace("%2", handle.code)
        )

    def closeEvent(self, event: object) -> None:
        if self._pairing is not None:
            self._pairing.stop()
        super().closeEvent(event)  # type: ignore[arg-type]
