"""The allergy banner shown above every clinical tab of a patient."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QLabel, QWidget

from cms_desktop.domain.synthesis import SEVERITY_LABELS, AllergyKind
from cms_desktop.services.allergy_status import AllergyState, AllergyStatus
from cms_desktop.services.synthesis import SynthesisItem

_ALERT = (
    "QLabel { background: #b00020; color: white; font-weight: 600; padding: 6px 10px; "
    "border-radius: 3px; }"
)
_CLEAR = "QLabel { background: #e8f3ea; color: #1d5a2c; padding: 6px 10px; border-radius: 3px; }"
# Not knowing is not « none »: amber, so that the question gets asked.
_UNKNOWN = (
    "QLabel { background: #fff3cd; color: #5c4400; font-weight: 600; padding: 6px 10px; "
    "border-radius: 3px; }"
)


class AllergyBanner(QLabel):
    """Red with every active allergy and intolerance; green when a clinician stated
    « Aucune allergie connue » (with when and who); amber while nobody has said."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("allergyBanner")
        self.setWordWrap(True)
        self.set_allergies((), AllergyStatus(AllergyState.NOT_STATED))

    def set_allergies(self, items: Sequence[SynthesisItem], status: AllergyStatus) -> None:
        self.has_allergies = bool(items)
        self.state = AllergyState.ALLERGIES if items else status.state
        if not items and status.state is AllergyState.NONE_KNOWN:
            text = self.tr("Aucune allergie connue")
            if status.stated_on is not None:
                text += self.tr(" — déclaré le %1").replace("%1", f"{status.stated_on:%d/%m/%Y}")
            if status.stated_by:
                text += self.tr(" par %1").replace("%1", status.stated_by)
            self.setText(text)
            self.setStyleSheet(_CLEAR)
            return
        if not items:
            self.setText(self.tr("Allergies non renseignées — à demander au patient"))
            self.setStyleSheet(_UNKNOWN)
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
