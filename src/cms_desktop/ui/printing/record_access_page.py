"""The register of record-access requests: deadlines, overdue rows in red, new request
(reception too, at the desk), delivery with the copying fee and the copy generated then
previewed (the medical director).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from PySide6.QtCore import QDate, QDateTime
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDoubleSpinBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.paris_time import paris_text
from cms_desktop.domain.permissions import Permission
from cms_desktop.domain.record_access import (
    HEIR_REASON_LABELS,
    REQUESTER_LABELS,
    HeirReason,
    RequesterKind,
)
from cms_desktop.services import record_access as ra
from cms_desktop.services.errors import ValidationFailed
from cms_desktop.ui.areas import AreaContext
from cms_desktop.ui.forms import ServiceDialog
from cms_desktop.ui.printing.documents import PatientSearch
from cms_desktop.ui.printing.preview import preview_pdf
from cms_desktop.ui.widgets import ErrorLabel

OVERDUE = QColor("#f8d7da")
COLUMNS = ("Référence", "Patient", "Demandeur", "Reçue le", "Remise dès le", "Échéance", "État")


class NewRequestDialog(ServiceDialog):
    def __init__(self, ctx: AreaContext, parent: QWidget | None = None) -> None:
        super().__init__("Nouvelle demande d'accès au dossier", "Enregistrer", ctx.runner, parent)
        self._ctx = ctx
        self.patient = PatientSearch(ctx, self)
        self.kind = QComboBox(self)
        for kind, label in REQUESTER_LABELS.items():
            self.kind.addItem(label, kind.value)
        self.name = QLineEdit(self)
        self.received = QDateTimeEdit(QDateTime.currentDateTime(), self)
        self.received.setDisplayFormat("dd/MM/yyyy HH:mm")
        self.received.setCalendarPopup(True)
        self.identity = QCheckBox(self.tr("Justificatif d'identité vérifié"), self)
        self.identity_doc = QLineEdit(self)
        self.identity_doc.setPlaceholderText(self.tr("carte d'identité, passeport…"))
        self.quality = QCheckBox(
            self.tr("Justificatif de qualité vérifié (représentant, ayant droit)")
        )
        self.deceased = QCheckBox(self.tr("Patient décédé"), self)
        self.heir_reason = QComboBox(self)
        self.heir_reason.addItem("—", "")
        for reason, label in HEIR_REASON_LABELS.items():
            self.heir_reason.addItem(label, reason.value)
        self.scope = QComboBox(self)
        for scope, label in ra.SCOPE_LABELS.items():
            if scope is not ra.AccessScope.CONSULTATIONS:
                self.scope.addItem(label, scope.value)
        self.period_from = QDateEdit(QDate.currentDate().addYears(-1), self)
        self.period_to = QDateEdit(QDate.currentDate(), self)
        for edit in (self.period_from, self.period_to):
            edit.setDisplayFormat("dd/MM/yyyy")
            edit.setCalendarPopup(True)
        self.delivery = QComboBox(self)
        for mode, label in ra.DELIVERY_LABELS.items():
            self.delivery.addItem(label, mode.value)
        period = QHBoxLayout()
        period.addWidget(self.period_from)
        period.addWidget(self.period_to)
        self.form.addRow(self.tr("Patient :"), self.patient)
        self.form.addRow(self.tr("Demandeur :"), self.kind)
        self.form.addRow(self.tr("Nom du demandeur :"), self.name)
        self.form.addRow(self.tr("Reçue le :"), self.received)
        self.form.addRow("", self.identity)
        self.form.addRow(self.tr("Pièce :"), self.identity_doc)
        self.form.addRow("", self.quality)
        self.form.addRow("", self.deceased)
        self.form.addRow(self.tr("Motif (ayant droit) :"), self.heir_reason)
        self.form.addRow(self.tr("Demande :"), self.scope)
        self.form.addRow(self.tr("Période :"), period)
        self.form.addRow(self.tr("Remise :"), self.delivery)

    def prepare(self) -> Callable[[], Any]:
        patient_id = self.patient.current_id()
        if patient_id is None:
            raise ValidationFailed(self.tr("Choisissez le patient concerné."))
        reason = self.heir_reason.currentData()
        scope = ra.AccessScope(self.scope.currentData())
        moment = self.received.dateTime().toPython()
        assert isinstance(moment, datetime)
        received = moment.astimezone(UTC)
        start, end = self.period_from.date().toPython(), self.period_to.date().toPython()
        assert isinstance(start, date) and isinstance(end, date)
        draft = ra.AccessRequestDraft(
            patient_id=patient_id,
            requester_kind=RequesterKind(self.kind.currentData()),
            requester_name=self.name.text(),
            received_at=received,
            identity_document_checked=self.identity.isChecked(),
            identity_document=self.identity_doc.text(),
            quality_proof_checked=self.quality.isChecked(),
            heir_reason=HeirReason(reason) if reason else None,
            patient_deceased=self.deceased.isChecked(),
            scope=scope,
            period_from=start if scope is ra.AccessScope.PERIOD else None,
            period_to=end if scope is ra.AccessScope.PERIOD else None,
            delivery_mode=ra.DeliveryMode(self.delivery.currentData()),
        )
        ws, actor = self._ctx.workspace, self._ctx.actor
        return lambda: ra.register_request(ws, actor, draft)


class DeliverDialog(ServiceDialog):
    def __init__(self, ctx: AreaContext, request_id: str, parent: QWidget | None = None) -> None:
        super().__init__("Remise du dossier", "Enregistrer la remise", ctx.runner, parent)
        self._ctx = ctx
        self._request_id = request_id
        self.fee = QDoubleSpinBox(self)
        self.fee.setRange(0, 1000)
        self.fee.setDecimals(2)
        self.fee.setSuffix(" €")
        self.form.addRow(self.tr("Frais de copie et d'envoi :"), self.fee)

    def prepare(self) -> Callable[[], Any]:
        ws, actor, rid = self._ctx.workspace, self._ctx.actor, self._request_id
        cents = round(self.fee.value() * 100)
        return lambda: ra.mark_delivered(ws, actor, rid, fee_cents=cents)


class RecordAccessPage(QWidget):
    def __init__(self, ctx: AreaContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._views: list[ra.AccessRequestView] = []
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels([self.tr(c) for c in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.new_button = QPushButton(self.tr("Nouvelle demande…"), self)
        self.deliver_button = QPushButton(self.tr("Marquer remis…"), self)
        self.copy_button = QPushButton(self.tr("Générer la copie…"), self)
        self.error_label = ErrorLabel(self)
        bar = QHBoxLayout()
        bar.addWidget(self.new_button)
        bar.addStretch(1)
        bar.addWidget(self.copy_button)
        bar.addWidget(self.deliver_button)
        box = QVBoxLayout(self)
        box.addWidget(self.table, 1)
        box.addWidget(self.error_label)
        box.addLayout(bar)
        self.new_button.clicked.connect(self.new_request)
        self.deliver_button.clicked.connect(self.deliver)
        self.copy_button.clicked.connect(self.generate_copy)
        self.table.itemActivated.connect(lambda _item: self.generate_copy())
        # Reception registers and follows; the copy and its delivery stay with the director.
        manage = ctx.actor.can(Permission.RECORD_ACCESS_MANAGE)
        self.copy_button.setVisible(manage)
        self.deliver_button.setVisible(manage)
        self.reload()

    def reload(self) -> None:
        ws, actor = self._ctx.workspace, self._ctx.actor
        self._ctx.runner.run_read(
            lambda: ra.list_requests(ws, actor), self._show, self.error_label.show_message
        )

    def _show(self, views: list[ra.AccessRequestView]) -> None:
        self._views = views
        self.table.setRowCount(len(views))
        for row, view in enumerate(views):
            state = (
                f"Remis le {paris_text(view.delivered_at)}"
                if view.delivered_at
                else ("EN RETARD" if view.overdue else "À traiter")
            )
            deadline = f"{view.last_day:%d/%m/%Y}" + (" (2 mois)" if view.extended else "")
            cells = (
                view.reference,
                view.patient_name,
                f"{view.requester_name} — {view.requester_label}",
                paris_text(view.received_at),
                paris_text(view.not_before),
                deadline,
                state,
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if view.overdue:
                    item.setBackground(QBrush(OVERDUE))
                    item.setForeground(QBrush(QColor("#8a1020")))
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        if views:
            self.table.selectRow(0)

    def selected(self) -> ra.AccessRequestView | None:
        row = self.table.currentRow()
        return self._views[row] if 0 <= row < len(self._views) else None

    def new_request(self) -> None:
        dialog = NewRequestDialog(self._ctx, self)
        dialog.sig_done.connect(lambda _v: self.reload())
        dialog.open()
        self.dialog: ServiceDialog = dialog

    def deliver(self) -> None:
        view = self.selected()
        if view is None:
            return
        dialog = DeliverDialog(self._ctx, view.id, self)
        dialog.sig_done.connect(lambda _v: self.reload())
        dialog.open()
        self.dialog = dialog

    def generate_copy(self) -> None:
        view = self.selected()
        if view is None or not self._ctx.actor.can(Permission.RECORD_ACCESS_MANAGE):
            return
        ws, actor = self._ctx.workspace, self._ctx.actor
        draft = view.delivered_at is None and not view.may_deliver_now
        title = (
            "Copie du dossier (projet) — " if draft else "Copie du dossier — "
        ) + view.reference
        self._ctx.runner.run_write(
            lambda: ra.generate_copy(ws, actor, view.id),
            # The generation itself is audited as an export by the service.
            lambda pdf: setattr(self, "preview_dialog", preview_pdf(self, title, pdf)),
            self.error_label.show_message,
        )


def overdue_rows(page: RecordAccessPage) -> list[int]:
    """Rows painted as overdue (for tests and accessibility checks)."""
    return [
        row
        for row in range(page.table.rowCount())
        if (item := page.table.item(row, 0)) is not None and item.background().color() == OVERDUE
    ]


__all__ = ["DeliverDialog", "NewRequestDialog", "RecordAccessPage", "overdue_rows"]
