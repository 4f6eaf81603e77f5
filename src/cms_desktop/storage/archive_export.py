"""A whole-centre archive for long retention (medical records: 20 years), and its reader.

The archive is a SQLCipher 4 database protected by a passphrase with SQLCipher's own
default key derivation (PBKDF2-HMAC-SHA512), so that in twenty years it opens with the
standard ``sqlcipher`` tool (``PRAGMA key = '…';``) as well as with this application's
reader, without this application's key slots. It is self-describing: ``archive_about``
says what it is and how to read it (in French), ``archive_tables`` describes each table
and its columns. It is made by ``sqlcipher_export`` inside one read transaction of the
live database (a consistent snapshot while people work). What only makes sense on one
workstation is left out: ``local_state`` (the station's sync keys) and password hashes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import Engine

from cms_desktop.storage.backup_archive import fsync_dir
from cms_desktop.storage.blobs import CHUNK_SIZE
from cms_desktop.storage.clinical_crypto import BYTES_PREFIX, FIELD_PREFIX
from cms_desktop.storage.models.base import Base

FORMAT = "cms-archive-1"
SUFFIX = ".cmsarchive"
HOW_TO_READ = (
    "Archive du dossier médical d'un centre municipal de santé (logiciel cms-desktop). "
    "Base SQLCipher 4 chiffrée par une phrase de passe (paramètres SQLCipher 4 par défaut). "
    "Lecture : « cms-desktop archive read FICHIER », ou l'outil sqlcipher : "
    "PRAGMA key = 'phrase de passe'; puis SELECT * FROM archive_tables; "
    "Dates et heures en UTC (ISO 8601). Rien n'y est effacé : les lignes marquées "
    "deleted = 1 sont des suppressions, les consultations signées ne sont jamais modifiées. "
    "Le contenu médical, chiffré dans le logiciel par la clé du dossier médical, y est en "
    "clair (colonne vitals : constantes en JSON ; contenu des documents dans blob_chunks, "
    "par documents.sha256) ; seul l'historique op_log le garde chiffré."
)

# (table, row id, field, stored) -> clear value: the clinical fields, opened by a holder of
# the clinical key (#17) so that the archive reads with its passphrase alone in 20 years.
TextOpener = Callable[[str, str, str, str], str]
BytesOpener = Callable[[str, str, str, bytes], bytes]


class ArchiveUnreadable(Exception):
    """Wrong passphrase, or not an archive; ``str()`` is a French sentence."""


@dataclass(frozen=True)
class ArchiveFacts:
    path: str
    row_counts: dict[str, int]


def _descriptions() -> dict[str, str]:
    found: dict[str, str] = {}
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        table = getattr(cls, "__tablename__", None)
        if table:
            found[str(table)] = " ".join((cls.__doc__ or "").split())
    return found


def _describe_into(conn: Any, counts: dict[str, int], about: dict[str, str]) -> None:
    """The two tables that make the archive readable without this software."""
    conn.execute("CREATE TABLE archive.archive_about (key TEXT PRIMARY KEY, value TEXT)")
    conn.executemany(
        "INSERT INTO archive.archive_about VALUES (?, ?)",
        [("format", FORMAT), ("how_to_read", HOW_TO_READ), *about.items()],
    )
    conn.execute(
        "CREATE TABLE archive.archive_tables "
        "(name TEXT PRIMARY KEY, description TEXT, columns TEXT, row_count INTEGER)"
    )
    described = _descriptions()
    for table in sorted(counts):
        columns = [
            {"name": str(c[1]), "type": str(c[2])}
            for c in conn.execute(f'PRAGMA archive.table_info("{table}")')
        ]
        conn.execute(
            "INSERT INTO archive.archive_tables VALUES (?, ?, ?, ?)",
            (table, described.get(table, ""), json.dumps(columns), counts[table]),
        )


def _open_sealed(conn: Any, open_text: TextOpener, open_bytes: BytesOpener) -> None:
    """Replace every sealed value of the archive's tables (not the op-log's history) by
    its clear text. The copy's insert-only triggers do not fire here: ``sqlcipher_export``
    writes them into the copy's schema, which this connection loads only when reopened
    (and the patients-only copy makes tables alone)."""
    tables = [
        r[0]
        for r in conn.execute("SELECT name FROM archive.sqlite_master WHERE type = 'table'")
        if r[0] not in ("op_log", "archive_about", "archive_tables")
    ]
    text_prefix, blob_prefix = FIELD_PREFIX + "%", BYTES_PREFIX
    for table in tables:
        columns = [c[1] for c in conn.execute(f'PRAGMA archive.table_info("{table}")')]
        if "id" not in columns:
            continue
        for column in columns:
            quoted = f'"{column}"'
            found = conn.execute(
                f'SELECT id, {quoted} FROM archive."{table}" '
                f"WHERE (typeof({quoted}) = 'text' AND {quoted} LIKE ?) "
                f"OR (typeof({quoted}) = 'blob' AND substr({quoted}, 1, ?) = ?)",
                (text_prefix, len(blob_prefix), blob_prefix),
            ).fetchall()
            for row_id, stored in found:
                clear: str | bytes = (
                    open_text(table, row_id, column, stored)
                    if isinstance(stored, str)
                    else open_bytes(table, row_id, column, bytes(stored))
                )
                conn.execute(
                    f'UPDATE archive."{table}" SET "{column}" = ? WHERE id = ?', (clear, row_id)
                )


def _open_documents(conn: Any, open_bytes: BytesOpener) -> None:
    """Replace each sealed document content (#17) by its clear bytes, addressed by their
    own SHA-256 as plaintext documents are: in the archive ``blob_chunks`` joined on
    ``documents.sha256`` give the file. The content is bound to the id of the document
    that imported it (a withdrawal marker shares its blob), as ``services.documents``."""
    docs = conn.execute("SELECT id, sha256, supersedes_id FROM archive.documents").fetchall()
    by_id = {row_id: (sha, supersedes) for row_id, sha, supersedes in docs}
    owners: dict[str, str] = {}
    for row_id, sha, supersedes in docs:
        previous = by_id.get(supersedes) if supersedes else None
        if previous is None or previous[0] != sha:
            owners.setdefault(sha, row_id)
    for sha, owner in owners.items():
        parts = conn.execute(
            "SELECT data FROM archive.blob_chunks WHERE sha256 = ? ORDER BY idx", (sha,)
        ).fetchall()
        stored = b"".join(bytes(p[0]) for p in parts)
        if not stored.startswith(BYTES_PREFIX):
            continue  # plaintext (administrative, or written before the clinical key)
        clear = open_bytes("documents", owner, "content", stored)
        clear_sha = hashlib.sha256(clear).hexdigest()
        chunks = [clear[i : i + CHUNK_SIZE] for i in range(0, len(clear), CHUNK_SIZE)] or [b""]
        conn.execute("DELETE FROM archive.blob_chunks WHERE sha256 = ?", (sha,))
        conn.execute("DELETE FROM archive.blobs WHERE sha256 = ?", (sha,))
        conn.execute(
            "INSERT OR IGNORE INTO archive.blobs (sha256, size, total_chunks, complete) "
            "VALUES (?, ?, ?, 1)",
            (clear_sha, len(clear), len(chunks)),
        )
        conn.executemany(
            "INSERT OR IGNORE INTO archive.blob_chunks (sha256, idx, data) VALUES (?, ?, ?)",
            [(clear_sha, i, chunk) for i, chunk in enumerate(chunks)],
        )
        conn.execute("UPDATE archive.documents SET sha256 = ? WHERE sha256 = ?", (clear_sha, sha))


def _whole_centre(conn: Any) -> dict[str, int]:
    conn.execute("SELECT sqlcipher_export('archive')")
    conn.execute("DELETE FROM archive.local_state")
    conn.execute("UPDATE archive.users SET password_hash = ''")
    return _counts(conn)


def _counts(conn: Any) -> dict[str, int]:
    tables = [
        str(r[0])
        for r in conn.execute(
            "SELECT name FROM archive.sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return {
        t: int(conn.execute(f'SELECT count(*) FROM archive."{t}"').fetchone()[0]) for t in tables
    }


# The patients' own rows, by the column that names the patient.
_PATIENT_TABLES = {
    "patients": "id",
    "appointments": "patient_id",
    "consultations": "patient_id",
    "consultation_drafts": "patient_id",
    "documents": "patient_id",
    "patient_ald": "patient_id",
    "prescriptions": "patient_id",
    "record_access_requests": "patient_id",
    "synthesis_allergies": "patient_id",
    "synthesis_allergy_statements": "patient_id",
    "synthesis_history": "patient_id",
    "synthesis_problems": "patient_id",
    "synthesis_risk_factors": "patient_id",
    "synthesis_screenings": "patient_id",
    "synthesis_treatments": "patient_id",
    "synthesis_vaccinations": "patient_id",
    "waiting_list": "converted_patient_id",
}
# Who wrote, where and for which centre: names the records need, no other patient in them.
_CONTEXT_TABLES = ("centre", "users", "practitioners", "rooms", "appointment_types")


def _patients_only(conn: Any, patient_ids: list[str]) -> dict[str, int]:
    """Only the rows of ``patient_ids``: their tables, their documents' contents, the audit
    entries aimed at them or at their rows, and the context the records name."""
    schema = dict(
        conn.execute("SELECT name, sql FROM main.sqlite_master WHERE type = 'table'").fetchall()
    )
    missing = (set(_PATIENT_TABLES) | set(_CONTEXT_TABLES)) - set(schema)
    tables = [*_PATIENT_TABLES, *_CONTEXT_TABLES, "blobs", "blob_chunks", "audit_log"]
    for table in tables:
        if table in missing:
            continue
        ddl = re.sub(r"^CREATE TABLE\s+", "CREATE TABLE archive.", str(schema[table]), count=1)
        conn.execute(ddl)
    conn.execute("CREATE TEMP TABLE archived_ids (id TEXT PRIMARY KEY)")
    conn.executemany(
        "INSERT OR IGNORE INTO temp.archived_ids VALUES (?)", [(i,) for i in patient_ids]
    )
    # The context first: the patients' rows refer to it (foreign keys are enforced).
    for table in _CONTEXT_TABLES:
        if table not in missing:
            conn.execute(f'INSERT INTO archive."{table}" SELECT * FROM main."{table}"')
    for table, column in _PATIENT_TABLES.items():
        if table not in missing:
            conn.execute(
                f'INSERT INTO archive."{table}" SELECT * FROM main."{table}" '
                f'WHERE "{column}" IN (SELECT id FROM temp.archived_ids)'
            )
    conn.execute("UPDATE archive.users SET password_hash = ''")
    conn.execute(
        "INSERT INTO archive.blobs SELECT * FROM main.blobs "
        "WHERE sha256 IN (SELECT sha256 FROM archive.documents)"
    )
    conn.execute(
        "INSERT INTO archive.blob_chunks SELECT * FROM main.blob_chunks "
        "WHERE sha256 IN (SELECT sha256 FROM archive.documents)"
    )
    owned = " UNION ".join(
        f'SELECT id FROM archive."{t}"'
        for t in ("patients", "appointments", "consultations", "documents", "prescriptions")
    )
    conn.execute(
        f"INSERT INTO archive.audit_log SELECT * FROM main.audit_log WHERE target_id IN ({owned})"
    )
    conn.execute("DROP TABLE temp.archived_ids")
    return _counts(conn)


def export(
    engine: Engine,
    dest_folder: Path,
    name: str,
    passphrase: str,
    about: dict[str, str],
    patient_ids: list[str] | None = None,
    openers: tuple[TextOpener, BytesOpener] | None = None,
) -> ArchiveFacts:
    """Write the archive ``dest_folder/name`` atomically (temp name, fsync, rename): the
    whole centre, or only the records of ``patient_ids``."""
    final = dest_folder / name
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".partial", dir=dest_folder)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # SQLCipher creates it, keyed from its first page
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert conn is not None
        conn.execute("BEGIN")
        try:
            conn.execute("ATTACH DATABASE ? AS archive KEY ?", (str(tmp), passphrase))
            if patient_ids is None:
                counts = _whole_centre(conn)
            else:
                counts = _patients_only(conn, patient_ids)
            if openers is not None:
                _open_sealed(conn, *openers)
                _open_documents(conn, openers[1])
                counts = _counts(conn)  # an opened document may share a clear blob
            _describe_into(conn, counts, about)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            with contextlib.suppress(sqlcipher.Error):
                conn.execute("DETACH DATABASE archive")
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    finally:
        raw.close()
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, final)
    fsync_dir(dest_folder)
    return ArchiveFacts(str(final), counts)


@contextlib.contextmanager
def open_archive(path: Path, passphrase: str) -> Iterator[Any]:
    if not path.is_file():
        raise ArchiveUnreadable(f"Fichier introuvable : {path}.")
    conn = sqlcipher.connect(f"file:{path}?mode=ro", uri=True)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = {_quoted(passphrase)}")
        try:
            about = dict(conn.execute("SELECT key, value FROM archive_about").fetchall())
        except sqlcipher.DatabaseError:
            raise ArchiveUnreadable(
                f"{path.name} : phrase de passe incorrecte, ou ce fichier n'est pas une archive."
            ) from None
        if about.get("format") != FORMAT:
            raise ArchiveUnreadable(f"{path.name} n'est pas une archive du logiciel.")
        yield conn
    finally:
        conn.close()


def _quoted(text: str) -> str:
    # PRAGMA takes no bound parameter: a SQL string literal, quotes doubled.
    return "'" + text.replace("'", "''") + "'"


def describe(conn: Any) -> tuple[dict[str, str], list[tuple[str, str, int]]]:
    about = dict(conn.execute("SELECT key, value FROM archive_about").fetchall())
    tables = [
        (str(n), str(d), int(c))
        for n, d, c in conn.execute(
            "SELECT name, description, row_count FROM archive_tables ORDER BY name"
        )
    ]
    return about, tables


def rows(conn: Any, table: str) -> Iterator[dict[str, Any]]:
    known = {str(r[0]) for r in conn.execute("SELECT name FROM archive_tables")}
    if table not in known:
        raise ArchiveUnreadable(f"L'archive n'a pas de table « {table} ».")
    cursor = conn.execute(f'SELECT * FROM "{table}"')
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield {n: (v.hex() if isinstance(v, bytes) else v) for n, v in zip(names, row, strict=True)}
