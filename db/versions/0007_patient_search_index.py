"""Patient search index (local, derived): table, triggers on patients, backfill.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 11:17:05.320149
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cms_desktop.storage import patient_index

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patient_search",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("sort_key", sa.String(length=220), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_patient_search_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("key", "sort_key", "patient_id", name=op.f("pk_patient_search")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("patient_search", schema=None) as batch_op:
        batch_op.create_index("ix_patient_search_patient", ["patient_id", "key"], unique=False)
    bind = op.get_bind()
    # The app's engine registers the functions on connect; a bare connection does not.
    patient_index.register_functions(bind.connection.driver_connection)
    for sql in patient_index.TRIGGERS.values():
        op.execute(sql)
    patient_index.rebuild(bind)


def downgrade() -> None:
    for name in patient_index.TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("patient_search", schema=None) as batch_op:
        batch_op.drop_index("ix_patient_search_patient")

    op.drop_table("patient_search")
