"""« Aucune allergie connue » stated by a clinician (dated, by whom), replicated per field.

Without a statement nor an allergy, the record says « Allergies non renseignées ».

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 12:29:11.868829
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "synthesis_allergy_statements",
        sa.Column("stated_on", sa.Date(), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("author_id", sa.String(length=36), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_synthesis_allergy_statements_author_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_synthesis_allergy_statements_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_synthesis_allergy_statements")),
    )
    with op.batch_alter_table("synthesis_allergy_statements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_synthesis_allergy_statements_patient", ["patient_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("synthesis_allergy_statements", schema=None) as batch_op:
        batch_op.drop_index("ix_synthesis_allergy_statements_patient")

    op.drop_table("synthesis_allergy_statements")
