"""Sealing the clinical rows written before the clinical key (#17, item 5).

``legacy_seals`` is insert-only and replicated (triggers as in 0017); ``legacy_seal_pending``
is local. ``op_log.redacted_by`` is added by plain ADD COLUMN (no rebuild of the op-log,
which is the largest table of a centre): it names the seal that replaced an entry's
plaintext values.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 23:02:55.784805
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "legacy_seal_pending",
        sa.Column("seal_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("seal_id", name=op.f("pk_legacy_seal_pending")),
    )
    op.create_table(
        "legacy_seals",
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("row_id", sa.String(length=36), nullable=False),
        sa.Column("sealed_by", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=36), nullable=False),
        sa.Column("row_json", sa.Text(), nullable=False),
        sa.Column("entries_json", sa.Text(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legacy_seals")),
    )
    op.create_index("ix_legacy_seals_target", "legacy_seals", ["entity", "row_id"], unique=False)
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER legacy_seals_no_{action.lower()} BEFORE {action} "
            "ON legacy_seals BEGIN SELECT RAISE(ABORT, 'legacy_seals are immutable'); END"
        )
    # Every seal that reaches this station, made here, merged or copied by a snapshot,
    # waits to be applied (sync.legacy_seal.apply_pending).
    op.execute(
        "CREATE TRIGGER legacy_seals_to_apply AFTER INSERT ON legacy_seals "
        "BEGIN INSERT OR IGNORE INTO legacy_seal_pending (seal_id) VALUES (NEW.id); END"
    )
    op.add_column("op_log", sa.Column("redacted_by", sa.String(length=36), nullable=True))


def downgrade() -> None:
    op.drop_column("op_log", "redacted_by")
    op.execute("DROP TRIGGER IF EXISTS legacy_seals_to_apply")
    for action in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS legacy_seals_no_{action}")
    op.drop_index("ix_legacy_seals_target", table_name="legacy_seals")
    op.drop_table("legacy_seals")
    op.drop_table("legacy_seal_pending")
