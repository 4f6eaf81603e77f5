"""replicated account key slots

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 12:06:47.114361
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_key_slots",
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("slot_json", sa.Text(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_key_slots")),
    )
    with op.batch_alter_table("account_key_slots", schema=None) as batch_op:
        batch_op.create_index("ix_account_key_slots_login", ["login"], unique=False)
        batch_op.create_index(batch_op.f("ix_account_key_slots_version"), ["version"], unique=False)

    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER account_key_slots_no_{action.lower()} BEFORE {action} "
            "ON account_key_slots BEGIN SELECT RAISE(ABORT, 'key slot rows are immutable'); END"
        )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS account_key_slots_no_update")
    op.execute("DROP TRIGGER IF EXISTS account_key_slots_no_delete")
    with op.batch_alter_table("account_key_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_key_slots_version"))
        batch_op.drop_index("ix_account_key_slots_login")

    op.drop_table("account_key_slots")
