"""Each peer's software version and schema as its last HELLO announced them, for the
Synchronisation page (#20: which station still needs the update).

Local table (not replicated); additive columns with a server default.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 15:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "sync_peers",
        sa.Column("app_version", sa.String(length=32), nullable=False, server_default=""),
    )
    op.add_column(
        "sync_peers", sa.Column("schema", sa.Integer(), nullable=False, server_default="0")
    )


def downgrade() -> None:
    with op.batch_alter_table("sync_peers", schema=None) as batch_op:
        batch_op.drop_column("schema")
        batch_op.drop_column("app_version")
