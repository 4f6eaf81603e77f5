"""Administration › « Praticiens »: the agenda's columns and their ranges. Staff columns
come with the clinician's account (Comptes); visiting practitioners without an account
(vaccination team, CPAM agent, social worker, addiction counselling) are added here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from cms_desktop.services.actor import Actor
from cms_desktop.services.agenda import resources
from cms_desktop.services.agenda.common import PractitionerView
from cms_desktop.services.workspace import Workspace
from cms_desktop.ui.agenda.schedule_page import PractitionerSchedulePage
from cms_desktop.ui.forms import ServiceDialog
from cms_desktop.ui.tasks import TaskRunner

# Partners who hold permanences at a CMS, offered as examples (typed freely).
PARTNER_EXAMPLES = "ex. Équipe mobile de vaccination, Agent CPAM, Assistante sociale, CSAPA"


class VisitingPractitionerDialog(ServiceDialog):
    """A practitioner or partner without an account: what the agenda column shows."""

    def __init__(
        self, ws: Workspace, actor: Actor, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(
            self.tr("Nouveau praticien extérieur"), self.tr("Créer la colonne"), runner, parent
        )
        self._ws, self._actor = ws, actor
        self.name_edit = QLineEdit(self)
        self.name_edit.setPlaceholderText(self.tr(PARTNER_EXAMPLES))
        self.title_edit = QLineEdit(self)
        self.title_edit.setMaxLength(20)
        self.title_edit.setPlaceholderText(self.tr("ex. Dr, Mme"))
        self.profession_edit = QLineEdit(self)
        self.profession_edit.setPlaceholderText(self.tr("ex. Infirmier, Agent d'accueil CPAM"))
        self.specialty_edit = QLineEdit(self)
        self.rpps_edit = QLineEdit(self)
        self.rpps_edit.setMaxLength(11)
        self.rpps_edit.setPlaceholderText(self.tr("11 chiffres, pour un professionnel de santé"))
        self.colour_edit = QLineEdit("#7030a0", self)
        self.colour_edit.setMaxLength(7)
        self.form.addRow(self.tr("&Nom *"), self.name_edit)
        self.form.addRow(self.tr("&Titre"), self.title_edit)
        self.form.addRow(self.tr("&Profession"), self.profession_edit)
        self.form.addRow(self.tr("&Spécialité"), self.specialty_edit)
        self.form.addRow(self.tr("N° RPP&S"), self.rpps_edit)
        self.form.addRow(self.tr("&Couleur"), self.colour_edit)
        self.name_edit.setFocus()

    def prepare(self) -> Callable[[], Any]:
        draft = resources.PractitionerDraft(
            full_name=self.name_edit.text(),
            title=self.title_edit.text(),
            profession=self.profession_edit.text(),
            specialty=self.specialty_edit.text(),
            rpps=self.rpps_edit.text().strip(),
            colour=self.colour_edit.text().strip(),
            visiting=True,
        )
        ws, actor = self._ws, self._actor
        return lambda: resources.create_practitioner(ws, actor, draft)


class PractitionersPage(QWidget):
    def __init__(
        self, ws: Workspace, actor: Actor, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ws, self._actor, self._runner = ws, actor, runner
        self.new_visiting_button = QPushButton(self.tr("Nouveau praticien extérieur…"), self)
        self.new_visiting_button.clicked.connect(self.new_visiting)
        hint = QLabel(
            self.tr(
                "Un compte de soignant (onglet Comptes) crée sa colonne d'agenda. Ajoutez ici "
                "les intervenants sans compte, puis les plages de chacun avec leur salle."
            ),
            self,
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.schedule = PractitionerSchedulePage(ws, actor, runner, None, self)
        top = QHBoxLayout()
        top.addWidget(self.new_visiting_button)
        top.addWidget(hint, 1)
        box = QVBoxLayout(self)
        box.addLayout(top)
        box.addWidget(self.schedule, 1)

    def reload(self) -> None:
        """Columns may have come with a new account: list them again."""
        self.schedule.reload_practitioners()

    def new_visiting(self) -> None:
        dialog = VisitingPractitionerDialog(self._ws, self._actor, self._runner, self)
        dialog.sig_done.connect(self._created)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def _created(self, view: object) -> None:
        if isinstance(view, PractitionerView):
            self.schedule.reload_practitioners(view.id)
