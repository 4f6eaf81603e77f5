"""Where a workstation keeps its files: ``--data-dir``, then ``CMS_DATA_DIR``, then the OS default."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir

APP_NAME = "cms-desktop"
ENV_VAR = "CMS_DATA_DIR"


class DataDirError(Exception):
    """The data directory cannot be created or written."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class DataDir:
    path: Path

    @property
    def database(self) -> Path:
        return self.path / "centre.db"

    @property
    def key_slots(self) -> Path:
        return self.path / "keyslots.json"

    @property
    def initialised(self) -> bool:
        return self.key_slots.exists() or self.database.exists()

    def ensure_writable(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
            with tempfile.NamedTemporaryFile(dir=self.path, prefix=".probe-"):
                pass
        except OSError as exc:
            raise DataDirError(self.path, exc.strerror or str(exc)) from None


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None, demo: bool = False) -> DataDir:
    if explicit:
        base = Path(explicit)
    elif os.environ.get(ENV_VAR):
        base = Path(os.environ[ENV_VAR])
    else:
        base = Path(user_data_dir(APP_NAME, appauthor=False))
        if demo:
            base = base / "demo"
    return DataDir(base.expanduser())
