#!/usr/bin/env python3
"""Break each pinned security rule in a temporary copy of the project and check that the
tests meant to catch it fail. Prints one line per mutant and exits 1 if any survives.

    .venv/bin/python scripts/mutants.py            # every mutant
    .venv/bin/python scripts/mutants.py nir lock   # those whose name contains a word

A mutant is (name, file, the function it lives in, text, replacement, tests to run). The
text is looked for after ``def <function>(`` only, so the same line elsewhere is untouched.
Issue #18 lists the mutants; signing a draft twice is pinned by the #16 work, not here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MATRIX = "tests/integration/test_permission_matrix.py"
RULES = "tests/integration/test_security_rules.py"


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    function: str  # "" for module level
    text: str
    replacement: str
    tests: tuple[str, ...]
    # More (function, text, replacement) in the same file, when a rule is kept in two places.
    also: tuple[tuple[str, str, str], ...] = ()


MUTANTS = (
    Mutant(
        "stored_prescription without clinical.read",
        "src/cms_desktop/services/prescriptions.py",
        "stored_prescription",
        "actor.require(Permission.CLINICAL_READ)",
        "pass",
        (MATRIX, "-k", "stored_prescription"),
    ),
    Mutant(
        "audit_trail.recent without audit.read",
        "src/cms_desktop/services/audit_trail.py",
        "recent",
        "actor.require(Permission.AUDIT_READ)",
        "pass",
        (MATRIX, "-k", "audit_trail"),
    ),
    Mutant(
        "reset_password: any user resets anyone's password (!= -> ==)",
        "src/cms_desktop/services/users.py",
        "reset_password",
        "if user_id != actor.user_id:",
        "if user_id == actor.user_id:",
        (MATRIX, "-k", "reset_password"),
    ),
    Mutant(
        "open_patient_file without clinical.read",
        "src/cms_desktop/services/patient_file.py",
        "open_patient_file",
        "actor.require(Permission.CLINICAL_READ)",
        "pass",
        ("tests/integration/test_clinical_record.py", "-k", "refused"),
    ),
    Mutant(
        "conflicts shown to sync.manage (the old default)",
        "src/cms_desktop/services/sync_conflicts.py",
        "_may_resolve",
        "return info is not None and actor.can(info.permission)",
        "return actor.can(Permission.SYNC_MANAGE)",
        ("tests/integration/sync/test_conflict_visibility.py",),
    ),
    Mutant(
        "screen unlock without the lock-out check",
        "src/cms_desktop/services/workspace.py",
        "unlock",
        "if _locked_until(slots, session, actor.login, now) is not None:",
        "if False:",
        (RULES, "-k", "unlock"),
    ),
    Mutant(
        "screen unlock without the failed-attempt count",
        "src/cms_desktop/services/workspace.py",
        "unlock",
        "locked = _count_unlock_failure(data_dir, session, actor.login, now)",
        "locked = False",
        (RULES, "-k", "unlock"),
    ),
    Mutant(
        "screen unlock failures counted in the key-slot file only",
        "src/cms_desktop/services/workspace.py",
        "_count_unlock_failure",
        "in_database = lockout.record_failure(session, login_name, now)",
        "in_database = False",
        (RULES, "-k", "undo"),
    ),
    Mutant(
        "login locks kept in the key-slot file only (not copied to the database)",
        "src/cms_desktop/services/workspace.py",
        "_note_file_locks",
        "lockout.lock(session, login_name, datetime.fromisoformat(slot.locked_until))",
        "pass",
        (RULES, "-k", "survives"),
    ),
    Mutant(
        "login without the lock-out check (key-slot file and database)",
        "src/cms_desktop/services/workspace.py",
        "login",
        "keyslots.check_not_locked(slots, login_name, now)",
        "pass",
        (RULES, "-k", "login or command_line"),
        also=(
            (
                "login",
                "locked_in_database = lockout.locked_until(session, login_name, now)",
                "locked_in_database = None",
            ),
        ),
    ),
    Mutant(
        "login without the failed-attempt count",
        "src/cms_desktop/services/workspace.py",
        "count_failure",
        "locked = keyslots.record_failure(fresh, login_name, now)",
        "locked = False",
        (RULES, "-k", "login or command_line"),
    ),
    Mutant(
        "lock-out of 15 seconds instead of 15 minutes",
        "src/cms_desktop/storage/keyslots.py",
        "",
        "LOCKOUT = timedelta(minutes=15)",
        "LOCKOUT = timedelta(seconds=15)",
        (RULES, "-k", "locks or locked"),
    ),
    Mutant(
        "audit.verify without the prev_hash link check",
        "src/cms_desktop/storage/audit.py",
        "verify",
        "if entry.prev_hash != prev:",
        "if False:",
        (RULES, "-k", "link"),
    ),
    Mutant(
        "audit.verify without the sequence check (missing middle entry)",
        "src/cms_desktop/storage/audit.py",
        "verify",
        "if entry.seq != expected_seq:",
        "if False:",
        (RULES, "-k", "missing"),
    ),
    *(
        Mutant(
            f"{field} not hashed in the audit chain",
            "src/cms_desktop/storage/audit.py",
            "_entry_hash",
            f'"{field}": e.{field},',
            "",
            (RULES, "-k", "hashed_field"),
        )
        for field in ("user_login", "user_id", "action", "target_type", "target_id", "details")
    ),
    Mutant(
        "audit entry time not hashed",
        "src/cms_desktop/storage/audit.py",
        "_entry_hash",
        '"at": e.at.isoformat(),',
        "",
        (RULES, "-k", "hashed_field"),
    ),
    Mutant(
        "pairing listener serves one connection at a time",
        "src/cms_desktop/sync/pairing_net.py",
        "_loop",
        """threading.Thread(
                target=self._handle, args=(conn,), name="sync-pairing-conn", daemon=True
            ).start()""",
        "self._handle(conn)",
        ("tests/integration/sync/test_pairing_listener.py", "-k", "hold_up"),
    ),
    Mutant(
        "an empty centre.db opened (and filled) as a new centre",
        "src/cms_desktop/services/workspace.py",
        "open_store",
        "if data_dir.database.stat().st_size == 0:",
        "if False:",
        ("tests/integration/test_damaged_files.py", "-k", "empty"),
    ),
    Mutant(
        "no guessability check on passwords",
        "src/cms_desktop/domain/passwords.py",
        "check_password_strength",
        'if zxcvbn(password[:_ESTIMATED_CHARS], user_inputs=hints)["score"] < MIN_SCORE:',
        "if False:",
        ("tests/unit/test_passwords.py", "tests/integration/test_password_policy.py"),
    ),
    Mutant(
        "documents imported without the expansion limits",
        "src/cms_desktop/services/documents.py",
        "import_document",
        "check_expansion(mime, data)",
        "pass",
        ("tests/integration/test_documents.py", "-k", "bomb"),
    ),
    Mutant(
        "sync serve without the port range check",
        "src/cms_desktop/cli_sync.py",
        "check_port",
        "if port is not None and not 0 <= port <= 65535:",
        "if False:",
        ("tests/integration/test_cli_edges.py", "-k", "range"),
    ),
    Mutant(
        "NIR key 97 computed as 00",
        "src/cms_desktop/domain/nir.py",
        "compute_nir_key",
        "return 97 - _numeric_value(compact) % 97",
        "return (97 - _numeric_value(compact) % 97) % 97",
        ("tests/unit/test_nir.py",),
    ),
)


def _apply(copy: Path, mutant: Mutant) -> None:
    path = copy / mutant.path
    source = path.read_text(encoding="utf-8")
    for function, text, replacement in (
        (mutant.function, mutant.text, mutant.replacement),
        *mutant.also,
    ):
        start = source.index(f"def {function}(") if function else 0
        where = source.index(text, start)  # ValueError: the mutant no longer applies
        source = source[:where] + replacement + source[where + len(text) :]
    path.write_text(source, encoding="utf-8")


def _run(copy: Path, mutant: Mutant) -> bool:
    """True when the tests caught the mutant (they failed)."""
    env = dict(os.environ, PYTHONPATH=str(copy / "src"), QT_QPA_PLATFORM="offscreen")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-x",
            "-q",
            "-n",
            "0",
            "-p",
            "no:cacheprovider",
            *mutant.tests,
        ],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 5:  # no test selected: a broken selection, not a kill
        raise SystemExit(f"{mutant.name}: no test selected by {mutant.tests}")
    return result.returncode != 0


def main(words: list[str]) -> int:
    chosen = [m for m in MUTANTS if not words or any(w in m.name for w in words)]
    survivors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cms-mutants-") as tmp:
        pristine = Path(tmp) / "pristine"
        shutil.copytree(
            ROOT,
            pristine,
            ignore=shutil.ignore_patterns(
                ".venv", ".git", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"
            ),
        )
        for mutant in chosen:
            copy = Path(tmp) / "mutant"
            shutil.copytree(pristine, copy)
            try:
                _apply(copy, mutant)
                caught = _run(copy, mutant)
            finally:
                shutil.rmtree(copy)
            print(f"{'killed  ' if caught else 'SURVIVED'}  {mutant.name}", flush=True)
            if not caught:
                survivors.append(mutant.name)
    print(f"{len(chosen) - len(survivors)}/{len(chosen)} mutants killed")
    return 1 if survivors else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
