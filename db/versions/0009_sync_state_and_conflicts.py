"""sync state and conflicts

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 11:37:02.183503
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_conflicts",
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("row_id", sa.String(length=36), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("kept_value", sa.Text(), nullable=False),
        sa.Column("kept_version", sa.String(length=64), nullable=False),
        sa.Column("kept_origin", sa.String(length=36), nullable=False),
        sa.Column("permission", sa.String(length=64), nullable=False),
        sa.Column("detected_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=False),
        sa.Column("resolved_by", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_conflicts")),
    )
    with op.batch_alter_table("sync_conflicts", schema=None) as batch_op:
        batch_op.create_index("ix_sync_conflicts_row", ["entity", "row_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_conflicts_version"), ["version"], unique=False)

    op.create_table(
        "sync_held",
        sa.Column("origin", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("origin", "seq", name=op.f("pk_sync_held")),
    )
    op.create_table(
        "sync_peers",
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("last_contact", sa.DateTime(), nullable=True),
        sa.Column("acked_seq", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("unreachable_since", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("station_id", name=op.f("pk_sync_peers")),
    )
    op.create_table(
        "sync_stations",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("cert_pem", sa.Text(), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_stations")),
    )
    with op.batch_alter_table("sync_stations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_stations_version"), ["version"], unique=False)

    op.create_table(
        "sync_vector",
        sa.Column("origin", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("origin", name=op.f("pk_sync_vector")),
    )


def downgrade() -> None:
    op.drop_table("sync_vector")
    with op.batch_alter_table("sync_stations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_stations_version"))

    op.drop_table("sync_stations")
    op.drop_table("sync_peers")
    op.drop_table("sync_held")
    with op.batch_alter_table("sync_conflicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_conflicts_version"))
        batch_op.drop_index("ix_sync_conflicts_row")

    op.drop_table("sync_conflicts")
