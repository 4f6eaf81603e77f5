"""What an insider reads in a data directory with the database key (#17, legacy sealing):
every page of the SQLCipher file decrypted on its own, free pages and freed cells included,
without the project's store code nor SQLite (SQLCipher 4's page format, opened with
``cryptography``'s AES-CBC: no hand-made primitive)."""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from cms_desktop.storage import keyslots
from cms_desktop.storage.datadir import DataDir

PAGE = 4096
RESERVE = 80  # SQLCipher 4: a 16-byte IV and a 64-byte HMAC-SHA512 at the end of each page
SALT = 16  # the first page starts with the file's salt


def database_key(data_dir: DataDir, login: str, password: str) -> bytes:
    """The database key as the project's own slot code gives it to ``login``."""
    return keyslots.unwrap_all(keyslots.load(data_dir.key_slots), login, password).db_key


def every_page_in_clear(data_dir: DataDir, db_key: bytes) -> bytes:
    """The database file and its WAL, page by page, decrypted with ``db_key``."""
    out: list[bytes] = []
    for path, offset in (
        (data_dir.database, 0),
        (data_dir.database.with_name(data_dir.database.name + "-wal"), 32),
    ):
        if not path.exists():
            continue
        data = path.read_bytes()[offset:]
        step = PAGE + (24 if offset else 0)  # a WAL frame has a 24-byte header
        for start in range(0, len(data) - step + 1, step):
            page = data[start + (24 if offset else 0) : start + step]
            head = SALT if (not offset and start == 0) else 0
            iv = page[PAGE - RESERVE : PAGE - RESERVE + 16]
            decryptor = Cipher(algorithms.AES(db_key), modes.CBC(iv)).decryptor()
            out.append(decryptor.update(page[head : PAGE - RESERVE]) + decryptor.finalize())
    return b"".join(out)
