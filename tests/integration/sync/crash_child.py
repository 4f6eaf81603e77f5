"""Child process of the crash tests: applies entries (JSON) to a station, batch by batch."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from cms_desktop.domain.oplog import OpEntry
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.store import Store
from cms_desktop.sync.db_store import DbReplicaStore


def main(data_dir: str, key_hex: str, entries_path: str, batch: int) -> None:
    store = Store.open(DataDir(Path(data_dir)), bytes.fromhex(key_hex))
    replica = DbReplicaStore(store)
    entries = [OpEntry.from_dict(e) for e in json.loads(Path(entries_path).read_text())]
    origin = entries[0].origin
    seq, _ = replica.chain_tip(origin)
    todo = [e for e in entries if e.seq > seq]
    for start in range(0, len(todo), batch):
        replica.apply_batch(origin, todo[start : start + batch])
        print(todo[min(start + batch, len(todo)) - 1].seq, flush=True)
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
