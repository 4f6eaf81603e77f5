"""One signed consultation per draft: ``consultations.draft_id`` with a unique index.

Signing the same draft twice would make two signed notes; the service refuses it, and the
unique index makes SQLite refuse it too, whatever code runs. A plain ADD COLUMN and CREATE
INDEX: the table is not rebuilt, so its insert-only triggers stay. Notes signed before this
revision and amendments have no draft (NULL, which a unique index allows many times).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 12:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("consultations", sa.Column("draft_id", sa.String(length=36), nullable=True))
    op.create_index("uq_consultations_draft_id", "consultations", ["draft_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_consultations_draft_id", table_name="consultations")
    # ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): no rebuild, the triggers stay.
    op.drop_column("consultations", "draft_id")
