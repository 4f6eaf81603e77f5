"""Consultation notes: editable drafts and signed, insert-only consultations.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:33:09.397507
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consultation_drafts",
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("author_id", sa.String(length=36), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("examination", sa.Text(), nullable=False),
        sa.Column("diagnosis", sa.Text(), nullable=False),
        sa.Column("diagnosis_code", sa.String(length=16), nullable=False),
        sa.Column("treatment", sa.Text(), nullable=False),
        sa.Column("conclusion", sa.Text(), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=True),
        sa.Column("height_cm", sa.Float(), nullable=True),
        sa.Column("systolic", sa.Float(), nullable=True),
        sa.Column("diastolic", sa.Float(), nullable=True),
        sa.Column("heart_rate", sa.Float(), nullable=True),
        sa.Column("temperature_c", sa.Float(), nullable=True),
        sa.Column("glucose_g_l", sa.Float(), nullable=True),
        sa.Column("hba1c_pct", sa.Float(), nullable=True),
        sa.Column("spo2_pct", sa.Float(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_consultation_drafts_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_consultation_drafts_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_drafts")),
    )
    with op.batch_alter_table("consultation_drafts", schema=None) as batch_op:
        batch_op.create_index("ix_consultation_drafts_patient", ["patient_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_consultation_drafts_version"), ["version"], unique=False
        )

    op.create_table(
        "consultations",
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.Column("amends_id", sa.String(length=36), nullable=True),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("author_id", sa.String(length=36), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("examination", sa.Text(), nullable=False),
        sa.Column("diagnosis", sa.Text(), nullable=False),
        sa.Column("diagnosis_code", sa.String(length=16), nullable=False),
        sa.Column("treatment", sa.Text(), nullable=False),
        sa.Column("conclusion", sa.Text(), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=True),
        sa.Column("height_cm", sa.Float(), nullable=True),
        sa.Column("systolic", sa.Float(), nullable=True),
        sa.Column("diastolic", sa.Float(), nullable=True),
        sa.Column("heart_rate", sa.Float(), nullable=True),
        sa.Column("temperature_c", sa.Float(), nullable=True),
        sa.Column("glucose_g_l", sa.Float(), nullable=True),
        sa.Column("hba1c_pct", sa.Float(), nullable=True),
        sa.Column("spo2_pct", sa.Float(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["consultations.id"],
            name=op.f("fk_consultations_amends_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_consultations_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_consultations_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultations")),
    )
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consultations_patient_seen", ["patient_id", "seen_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_consultations_version"), ["version"], unique=False)
    # Signed notes are immutable (corrections are amendments), whatever SQL is run.
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER consultations_no_{action.lower()} BEFORE {action} ON consultations "
            "BEGIN SELECT RAISE(ABORT, 'signed consultations are immutable'); END"
        )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS consultations_no_update")
    op.execute("DROP TRIGGER IF EXISTS consultations_no_delete")
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultations_version"))
        batch_op.drop_index("ix_consultations_patient_seen")

    op.drop_table("consultations")
    with op.batch_alter_table("consultation_drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultation_drafts_version"))
        batch_op.drop_index("ix_consultation_drafts_patient")

    op.drop_table("consultation_drafts")
