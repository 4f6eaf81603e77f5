"""Signed clinical acts and witnessed audit heads (#17).

``signing_keys`` is insert-only (a reset password gives a new key pair; the old public key
stays to verify old acts). ``consultations`` and ``prescriptions`` get two nullable columns
by plain ADD COLUMN: the tables are not rebuilt, so their insert-only triggers stay. Rows
signed before this revision keep NULL there (« non vérifiable »). ``audit_heads`` (insert-only)
holds the audit chain heads each station saw, signed with its station key.

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-06 15:05:13.429893
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None

_SIGNED = ("consultations", "prescriptions")


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_signing_keys_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_keys")),
    )
    op.create_index("ix_signing_keys_user", "signing_keys", ["user_id"], unique=False)
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER signing_keys_no_{action.lower()} BEFORE {action} "
            "ON signing_keys BEGIN SELECT RAISE(ABORT, 'signing keys are immutable'); END"
        )
    for table in _SIGNED:
        op.add_column(table, sa.Column("signing_key_id", sa.String(length=36), nullable=True))
        op.add_column(table, sa.Column("signature", sa.Text(), nullable=True))
    op.create_table(
        "audit_heads",
        sa.Column("witness_id", sa.String(length=64), nullable=False),
        sa.Column("origin_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_heads")),
    )
    op.create_index("ix_audit_heads_origin_seq", "audit_heads", ["origin_id", "seq"])
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_heads_no_{action.lower()} BEFORE {action} "
            "ON audit_heads BEGIN SELECT RAISE(ABORT, 'audit heads are immutable'); END"
        )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_heads_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_heads_no_delete")
    op.drop_index("ix_audit_heads_origin_seq", table_name="audit_heads")
    op.drop_table("audit_heads")
    for table in _SIGNED:
        # ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): no rebuild, the triggers stay.
        op.drop_column(table, "signature")
        op.drop_column(table, "signing_key_id")
    op.execute("DROP TRIGGER IF EXISTS signing_keys_no_update")
    op.execute("DROP TRIGGER IF EXISTS signing_keys_no_delete")
    op.drop_index("ix_signing_keys_user", table_name="signing_keys")
    op.drop_table("signing_keys")
