"""Applies the Alembic migrations in ``db/`` at start-up, on the app's own connection."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine


def migrations_dir() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "db"
    return Path(__file__).resolve().parents[3] / "db"


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def head_revision() -> str:
    """Read once per process: loading the revision files costs tens of ms at each login."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def schema_version() -> int:
    """Revisions are numbered 0001, 0002…: the number is the schema version peers compare."""
    return int(head_revision().split("_")[0])


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


class MigrationFailed(RuntimeError):
    """The upgraded schema would break a foreign key: the upgrade was rolled back."""


def upgrade(engine: Engine) -> None:
    """Migrate to head in one transaction.

    SQLite rebuilds a table to alter it (batch mode); with foreign keys on, dropping the old
    ``patients`` would fail as soon as notes point at it. So, as SQLite's documentation
    prescribes for schema changes, foreign keys are switched off outside the transaction,
    checked with ``PRAGMA foreign_key_check`` before commit, and switched back on.
    """
    with engine.connect() as conn:
        # Already at head (every login but the first after an update): nothing to load.
        at_head = MigrationContext.configure(conn).get_current_revision() == head_revision()
        conn.rollback()  # the read began a transaction: the pragma below must come first
        if at_head:
            return
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys = OFF")  # no effect inside a transaction: set first
        try:
            with conn.begin():
                command.upgrade(alembic_config(conn), "head")
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise MigrationFailed(f"{len(broken)} broken foreign key(s) after upgrade")
        finally:
            raw.execute("PRAGMA foreign_keys = ON")
