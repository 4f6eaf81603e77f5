"""Alembic environment: runs on the application's own (encrypted) connection.

The app passes its connection in ``config.attributes["connection"]``; there is no URL
and no alembic.ini, so the packaged application migrates itself at start-up.
"""

from __future__ import annotations

from alembic import context

from cms_desktop.storage.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("cms-desktop migrations run only through cms_desktop.storage.migrations")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
