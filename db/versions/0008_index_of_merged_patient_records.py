"""Index of merged patient records (every opening of a file looks them up)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 11:45:33.779233
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain CREATE INDEX: a batch rebuild of ``patients`` would drop the search triggers.
    op.create_index("ix_patients_merged_into", "patients", ["merged_into_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_patients_merged_into", table_name="patients")
