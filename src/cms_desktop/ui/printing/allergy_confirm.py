"""The dialog that holds a prescription line matching a recorded allergy until the
prescriber either removes it or keeps it with a reason (stored with the line, audited)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from cms_desktop.domain.allergy_check import AllergyMatch
from cms_desktop.ui.widgets import ErrorLabel

_WARNING = (
    "QLabel { background: #b00020; color: white; font-weight: 600; padding: 8px 10px; "
    "border-radius: 3px; }"
)


class AllergyConfirmDialog(QDialog):
    """Shows why the line is held; ``sig_confirmed`` carries the reason typed."""

    sig_confirmed = Signal(str)
    """The prescriber keeps the line; the reason (not yet checked by the service)."""

    def __init__(
        self, line_text: str, matches: tuple[AllergyMatch, ...], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Allergie connue — ligne bloquée"))
        self.setMinimumWidth(560)
        title = QLabel(self.tr("⚠ Cette ligne correspond à une allergie du patient"), self)
        title.setStyleSheet(_WARNING)
        title.setWordWrap(True)
        line = QLabel(line_text, self)
        line.setWordWrap(True)
        line.setObjectName("allergyLine")
        self.reasons = QLabel("\n".join(f"• {m.message}" for m in matches), self)
        self.reasons.setWordWrap(True)
        sources = sorted({m.class_label for m in matches if m.class_label})
        hint = QLabel(
            self.tr(
                "Retirez la ligne, ou gardez-la en indiquant le motif (par exemple : tests "
                "allergologiques négatifs, réaction ancienne non allergique). Le motif est "
                "conservé avec l'ordonnance et tracé."
            ),
            self,
        )
        hint.setWordWrap(True)
        self.reason = QLineEdit(self)
        self.reason.setPlaceholderText(self.tr("Motif de la prescription malgré l'allergie"))
        self.error_label = ErrorLabel(self)
        self.buttons = QDialogButtonBox(self)
        self.keep_button = self.buttons.addButton(
            self.tr("Prescrire malgré l'allergie"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.remove_button = self.buttons.addButton(
            self.tr("Retirer la ligne"), QDialogButtonBox.ButtonRole.RejectRole
        )
        self.remove_button.setDefault(True)
        box = QVBoxLayout(self)
        box.addWidget(title)
        box.addWidget(line)
        box.addWidget(self.reasons)
        if sources:
            classes = QLabel(self.tr("Classes concernées : ") + ", ".join(sources), self)
            classes.setWordWrap(True)
            classes.setObjectName("hint")
            box.addWidget(classes)
        box.addWidget(hint)
        box.addWidget(self.reason)
        box.addWidget(self.error_label)
        box.addWidget(self.buttons)
        self.keep_button.clicked.connect(self._keep)
        self.remove_button.clicked.connect(self.reject)

    def _keep(self) -> None:
        text = " ".join(self.reason.text().split())
        if len(text) < 3:
            self.error_label.show_message(
                self.tr("Indiquez le motif pour lequel vous prescrivez malgré l'allergie.")
            )
            self.reason.setFocus()
            return
        self.sig_confirmed.emit(text)

    def show_error(self, message: str) -> None:
        self.error_label.show_message(message)
