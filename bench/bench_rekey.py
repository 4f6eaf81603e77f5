"""How long ``PRAGMA rekey`` takes on a centre's file (#17: the database key's rotation).

Each station rekeys its ``centre.db`` once, at its first open after a disabling. Measured
on a copy (the original is left as it is):

    PYTHONPATH=src python bench/bench_rekey.py --data-dir DIR --login L --password P
    PYTHONPATH=src python bench/bench_rekey.py --bigdb [--quick]   # bench/bigdb.py's centre
    PYTHONPATH=src python bench/bench_rekey.py --size-mb 300       # a synthetic file

Prints the file's size, the rekey time and the load (the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

from cms_desktop.storage import keyslots
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.engine import create_encrypted_engine, opens_with, rekey


def _synthetic(path: Path, size_mb: int) -> bytes:
    key = secrets.token_bytes(32)
    engine = create_encrypted_engine(path, key)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB)")
        chunk = 4000
        rows = size_mb * 1024 * 1024 // chunk
        for start in range(0, rows, 5000):
            with engine.begin() as conn:
                conn.exec_driver_sql(
                    "INSERT INTO filler (body) VALUES (?)",
                    [(os.urandom(chunk),) for _ in range(min(5000, rows - start))],
                )
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    return key


def _measure(database: Path, key: bytes) -> None:
    size = database.stat().st_size
    new = secrets.token_bytes(32)
    start = time.perf_counter()
    rekey(database, key, new)
    took = time.perf_counter() - start
    assert opens_with(database, new) and not opens_with(database, key)
    load = os.getloadavg()
    print(
        f"rekey of {size / 1e6:.0f} MB: {took:.2f} s ({size / 1e6 / took:.0f} MB/s); "
        f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--login", default="")
    parser.add_argument("--password", default="")
    parser.add_argument("--bigdb", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--size-mb", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-rekey-", dir=os.environ.get("TMPDIR")) as tmp:
        copy = Path(tmp) / "centre.db"
        if args.size_mb:
            key = _synthetic(copy, args.size_mb)
        else:
            if args.bigdb:
                sys.path.insert(0, str(Path(__file__).parent))
                from bigdb import PASSWORD, big_centre

                data_dir, login, password = big_centre(args.quick), "accueil", PASSWORD
            elif args.data_dir is not None:
                data_dir, login, password = DataDir(args.data_dir), args.login, args.password
            else:
                parser.error("--data-dir, --bigdb or --size-mb")
            key = keyslots.unwrap(keyslots.load(data_dir.key_slots), login, password)
            for suffix in ("", "-wal"):
                source = Path(str(data_dir.database) + suffix)
                if source.exists():
                    shutil.copy(source, Path(str(copy) + suffix))
        _measure(copy, key)


if __name__ == "__main__":
    main()
