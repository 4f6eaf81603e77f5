"""``cms-desktop import patients FILE.csv``: import a patient list (see docs/IMPORT_PATIENTS.md).

Exit code 0 once the file has been processed, even if some rows were refused (each is
listed with its line number); 1 if the file cannot be read or the login fails.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cms_desktop.services.errors import ServiceError
from cms_desktop.services.workspace import login
from cms_desktop.storage.datadir import DataDir


class ImportFileError(ServiceError):
    pass


def register(imp: Any, with_auth: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``patients`` to the ``import`` group of sub-commands."""
    sp = imp.add_parser("patients", help="importer une liste de patients (CSV)")
    sp.add_argument("file", help="fichier CSV (UTF-8 ou Windows-1252, séparateur ; ou ,)")
    with_auth(sp)


def cmd_import_patients(data_dir: DataDir, args: argparse.Namespace, secrets: Any) -> int:
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"impossible de lire {path} : {exc.strerror}") from None
    from cms_desktop.services.patient_import import import_patients_csv  # not at start-up

    ws, actor = login(data_dir, args.as_login, secrets.read(f"Mot de passe de {args.as_login}"))
    try:
        report = import_patients_csv(ws, actor, data)
    finally:
        ws.close()
    print(f"Fichier lu en {report.encoding}, séparateur « {report.delimiter} ».")
    if report.ignored_columns:
        print("Colonnes ignorées : " + ", ".join(report.ignored_columns))
    problems = sorted(report.invalid + report.duplicates, key=lambda p: p.line)
    for problem in problems:
        print(f"ligne {problem.line} : {problem.message}")
    print(report.summary)
    return 0
