"""The allergy banner shown above every clinical tab of a patient."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QLabel, QWidget

from cms_desktop.domain.synthesis import SEVERITY_LABELS, AllergyKind
from cms_desktop.services.synthesis import SynthesisItem

_ALERT = (
    "QLabel { background: #b00020; color: white; font-weight: 600; padding: 6px 10px; "
    "border-radius: 3px; }"
)
_CLEAR = "QLabel { background: #e8f3ea; color: #1d5a2c; padding: 6px 10px; border-radius: 3px; }"


class AllergyBanner(QLabel):
    """Red with every active allergy and intolerance, green-grey when none is known."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("allergyBanner")
        self.setWordWrap(True)
        self.set_allergies(())

    def set_allergies(self, items: Sequence[SynthesisItem]) -> None:
        self.has_allergies = bool(items)
        if not items:
            self.setText(self.tr("Aucune allergie connue"))
            self.setStyleSheet(_CLEAR)
            return
        parts = []
        for item in items:
            entry = item.entry
            what = self.tr("intolérance") if entry.kind is AllergyKind.INTOLERANCE else ""
            detail = ", ".join(
                p for p in (what, entry.reaction, SEVERITY_LABELS[entry.severity].lower()) if p
            )
            parts.append(f"{entry.substance} ({detail})")
        self.setText(self.tr("⚠ Allergies : ") + " ; ".join(parts))
        self.setStyleSheet(_ALERT)
