"""``cms-desktop agenda …``: export a practitioner's agenda as an iCalendar file.

The file carries no patient data (see services.agenda.ical).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from cms_desktop.services.errors import ServiceError
from cms_desktop.services.workspace import login
from cms_desktop.storage.datadir import DataDir


class AgendaCliError(ServiceError):
    """A bad argument of the agenda command; ``str()`` is a French one-liner."""


class _Secrets(Protocol):
    def read(self, prompt: str) -> str: ...


def register(sub: Any, with_auth: Callable[[argparse.ArgumentParser], None]) -> None:
    agenda = sub.add_parser("agenda", help="agenda des praticiens").add_subparsers(
        dest="agenda_command", required=True
    )
    exp = agenda.add_parser("export-ical", help="exporter un agenda au format iCalendar (.ics)")
    exp.add_argument("--practitioner", required=True, help="identifiant de connexion ou id")
    exp.add_argument("--from", dest="start", required=True, help="jj/mm/aaaa")
    exp.add_argument("--to", dest="end", required=True, help="jj/mm/aaaa")
    exp.add_argument("--output", required=True, help="fichier .ics à écrire")
    with_auth(exp)


def _day(text: str) -> date:
    try:
        return datetime.strptime(text.strip(), "%d/%m/%Y").date()
    except ValueError:
        raise AgendaCliError(f"date invalide « {text} » (attendu jj/mm/aaaa)") from None


def cmd_agenda(data_dir: DataDir, args: argparse.Namespace, secrets: _Secrets) -> int:
    # The agenda services are imported here, not at start-up: the app's login window
    # does not need them (they follow in the background, see app.py).
    from cms_desktop.services.agenda.ical import export_ical
    from cms_desktop.services.agenda.views import find_practitioner

    start, end = _day(args.start), _day(args.end)
    ws, actor = login(data_dir, args.as_login, secrets.read(f"Mot de passe de {args.as_login}"))
    try:
        match = find_practitioner(ws, actor, args.practitioner)
        if match is None:
            raise AgendaCliError(f"aucun praticien « {args.practitioner} »")
        data = export_ical(ws, actor, match.id, start, end)
    finally:
        ws.close()
    try:
        Path(args.output).write_bytes(data)
    except OSError as exc:
        raise AgendaCliError(f"impossible d'écrire {args.output} : {exc.strerror}") from None
    print(f"Agenda de {match.display_name} exporté dans {args.output}.")
    return 0
