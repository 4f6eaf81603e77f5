"""« À propos » : the version, where this station keeps its data, the licences of the bundled
libraries (the text shipped in resources/, the same file the Debian package installs)."""

from __future__ import annotations

import platform
from pathlib import Path

import PySide6
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from cms_desktop import __version__
from cms_desktop.resources import resource_path

LICENCES_FILE = "THIRD-PARTY-LICENSES.txt"


def licences_text() -> str:
    try:
        return resource_path(LICENCES_FILE).read_text(encoding="utf-8")
    except OSError:
        return (
            "La liste des licences des bibliothèques incluses est introuvable "
            f"({LICENCES_FILE}) : réinstallez le logiciel."
        )


class AboutDialog(QDialog):
    def __init__(self, data_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("À propos de cms-desktop"))
        title = QLabel(f"cms-desktop {__version__}", self)
        title.setObjectName("pageTitle")
        self.version_label = title
        runtime = QLabel(
            f"Qt {qVersion()} — PySide6 {PySide6.__version__} — Python {platform.python_version()}",
            self,
        )
        runtime.setObjectName("hint")
        self.data_dir_edit = QLineEdit(str(data_dir), self)
        self.data_dir_edit.setReadOnly(True)
        self.data_dir_edit.setAccessibleName(self.tr("Dossier des données de ce poste"))
        self.licences = QPlainTextEdit(licences_text(), self)
        self.licences.setReadOnly(True)
        self.licences.setAccessibleName(self.tr("Licences des bibliothèques incluses"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)

        box = QVBoxLayout(self)
        box.addWidget(title)
        box.addWidget(runtime)
        box.addSpacing(8)
        box.addWidget(QLabel(self.tr("Dossier des données de ce poste :"), self))
        box.addWidget(self.data_dir_edit)
        box.addSpacing(8)
        box.addWidget(QLabel(self.tr("Logiciels tiers inclus et leurs licences :"), self))
        box.addWidget(self.licences, 1)
        box.addWidget(buttons)
        # Fits 1366x728 with room to spare; the licences scroll.
        self.resize(720, 560)
