"""The clinical key (#17): accounts' X25519 public keys, sealed grants, encrypted vitals.

``agreement_keys`` and ``clinical_key_grants`` are insert-only (triggers as in 0017). The
consultation tables get a nullable ``vitals`` text column by plain ADD COLUMN (no rebuild:
the insert-only triggers of ``consultations`` stay); notes written under the clinical key
hold their measurements there, encrypted, and leave the REAL columns NULL.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 17:28:41.897016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_INSERT_ONLY = ("agreement_keys", "clinical_key_grants")
_NOTES = ("consultation_drafts", "consultations")


def _replicated_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "agreement_keys",
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        *_replicated_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_keys")),
    )
    op.create_index("ix_agreement_keys_login", "agreement_keys", ["login"], unique=False)
    op.create_table(
        "clinical_key_grants",
        sa.Column("key_id", sa.String(length=36), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("recipient_login", sa.String(length=64), nullable=False),
        sa.Column("recipient_key_id", sa.String(length=36), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=False),
        *_replicated_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinical_key_grants")),
    )
    op.create_index(
        "ix_clinical_key_grants_recipient",
        "clinical_key_grants",
        ["recipient_key_id"],
        unique=False,
    )
    for table in _INSERT_ONLY:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} "
                f"ON {table} BEGIN SELECT RAISE(ABORT, '{table} are immutable'); END"
            )
    for table in _NOTES:
        op.add_column(table, sa.Column("vitals", sa.Text(), nullable=True))


def downgrade() -> None:
    for table in _NOTES:
        op.drop_column(table, "vitals")
    for table in _INSERT_ONLY:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
    op.drop_index("ix_clinical_key_grants_recipient", table_name="clinical_key_grants")
    op.drop_table("clinical_key_grants")
    op.drop_index("ix_agreement_keys_login", table_name="agreement_keys")
    op.drop_table("agreement_keys")
