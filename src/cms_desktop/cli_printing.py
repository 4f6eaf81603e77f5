"""``cms-desktop import bdpm FOLDER``: load the public drug database files on this station."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from cms_desktop.services import medicines
from cms_desktop.services.workspace import login
from cms_desktop.storage.datadir import DataDir

MAX_PRINTED_PROBLEMS = 20


class _Secrets(Protocol):
    def read(self, prompt: str) -> str: ...


def register(imp: Any, with_auth: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``bdpm`` to the ``import`` sub-commands."""
    bdpm = imp.add_parser(
        "bdpm", help="importer la base de données publique des médicaments (fichiers ANSM)"
    )
    bdpm.add_argument(
        "folder", help="dossier contenant CIS_bdpm.txt et CIS_COMPO_bdpm.txt (et CIS_CIP_bdpm.txt)"
    )
    with_auth(bdpm)
    bdpm.set_defaults(import_handler=cmd_import_bdpm)


def cmd_import_bdpm(data_dir: DataDir, args: argparse.Namespace, secrets: _Secrets) -> int:
    ws, actor = login(data_dir, args.as_login, secrets.read(f"Mot de passe de {args.as_login}"))
    try:
        report = medicines.import_bdpm(ws, actor, Path(args.folder))
    finally:
        ws.close()
    print(report.summary)
    for problem in report.problems[:MAX_PRINTED_PROBLEMS]:
        print(f"  ignorée : {problem}", file=sys.stderr)
    if len(report.problems) > MAX_PRINTED_PROBLEMS:
        print(f"  … et {len(report.problems) - MAX_PRINTED_PROBLEMS} autre(s)", file=sys.stderr)
    return 0
