"""Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import secrets

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from cms_desktop.storage import migrations
from cms_desktop.storage.engine import create_encrypted_engine
from cms_desktop.storage.models import Base


def test_upgrade_head_on_empty_database_matches_models(tmp_path) -> None:
    engine = create_encrypted_engine(tmp_path / "m.db", secrets.token_bytes(32))
    migrations.upgrade(engine)
    assert migrations.current_revision(engine) == migrations.head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    engine.dispose()
    assert diff == []


def test_schema_version_is_the_head_number() -> None:
    assert migrations.schema_version() == int(migrations.head_revision().split("_")[0]) >= 1
