"""The main window's areas: who may see each one and how its page is built.

A feature plugs its page in by replacing the ``factory`` of its ``AreaSpec`` below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from cms_desktop.domain.permissions import Permission
from cms_desktop.services.actor import Actor
from cms_desktop.services.workspace import Workspace
from cms_desktop.ui.tasks import TaskRunner


@dataclass(frozen=True)
class AreaContext:
    """What a page needs to work: the open centre, who is acting, the task runner."""

    workspace: Workspace
    actor: Actor
    runner: TaskRunner


@dataclass(frozen=True)
class AreaSpec:
    key: str
    title: str
    shortcut: str
    allowed: Callable[[Actor], bool]
    factory: Callable[[AreaContext], QWidget]


def placeholder(title: str, sentence: str) -> QWidget:
    page = QWidget()
    heading = QLabel(title, page)
    heading.setObjectName("pageTitle")
    text = QLabel(sentence, page)
    text.setWordWrap(True)
    text.setObjectName("hint")
    box = QVBoxLayout(page)
    box.setContentsMargins(24, 20, 24, 20)
    box.addWidget(heading)
    box.addWidget(text)
    box.addStretch(1)
    heading.setAlignment(Qt.AlignmentFlag.AlignLeft)
    return page


def _tr(text: str) -> str:
    return QCoreApplication.translate("areas", text)


def _admin_page(ctx: AreaContext) -> QWidget:
    from cms_desktop.ui.admin.area import AdminArea  # loaded only for the roles that use it

    return AdminArea(ctx.workspace, ctx.actor, ctx.runner)


def _printing_page(ctx: AreaContext) -> QWidget:
    from cms_desktop.ui.printing.area import ImpressionsArea

    return ImpressionsArea(ctx)


def _agenda_page(ctx: AreaContext) -> QWidget:
    from cms_desktop.ui.agenda.page import AgendaPage

    return AgendaPage(ctx.workspace, ctx.actor, ctx.runner)


def _patients_page(ctx: AreaContext) -> QWidget:
    from cms_desktop.ui.patients.area import PatientsArea
    from cms_desktop.ui.record import build_clinical_page

    return PatientsArea(ctx, clinical_page_factory=build_clinical_page)


def _sync_page(ctx: AreaContext) -> QWidget:
    from cms_desktop.ui.sync.page import SyncPage

    return SyncPage(ctx.workspace, ctx.actor, ctx.runner)


def default_areas() -> list[AreaSpec]:
    return [
        AreaSpec(
            "agenda",
            _tr("Agenda"),
            "Ctrl+1",
            lambda a: a.can(Permission.AGENDA_READ) or a.can(Permission.AGENDA_OWN),
            _agenda_page,
        ),
        AreaSpec(
            "patients",
            _tr("Patients"),
            "Ctrl+2",
            lambda a: a.can(Permission.PATIENT_IDENTITY_READ),
            _patients_page,
        ),
        AreaSpec(
            "printing",
            _tr("Impressions"),
            "Ctrl+3",
            lambda a: a.can(Permission.PRINT_ADMIN) or a.can(Permission.PRINT_CLINICAL),
            _printing_page,
        ),
        AreaSpec(
            "admin",
            _tr("Administration"),
            "Ctrl+4",
            # The medical director reads the audit trail here without managing accounts.
            lambda a: any(
                a.can(p)
                for p in (
                    Permission.USERS_MANAGE,
                    Permission.SETTINGS_MANAGE,
                    Permission.AUDIT_READ,
                )
            ),
            _admin_page,
        ),
        AreaSpec(
            "sync",
            _tr("Synchronisation"),
            "Ctrl+9",
            lambda a: a.can(Permission.SYNC_MANAGE) or a.can(Permission.PATIENT_IDENTITY_WRITE),
            _sync_page,
        ),
    ]
