"""Patient coverage (scheme, C2S/AME, complementary), contact, médecin traitant, ALD list.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:08:59.080329
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patient_ald",
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_patient_ald_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_ald")),
    )
    with op.batch_alter_table("patient_ald", schema=None) as batch_op:
        batch_op.create_index("ix_patient_ald_patient", ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_patient_ald_version"), ["version"], unique=False)

    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("used_given_name", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("birth_place_label", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("identity_checked_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("contact_name", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("contact_relation", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("contact_phone", sa.String(length=20), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("gp_user_id", sa.String(length=36), nullable=True))
        batch_op.add_column(
            sa.Column("gp_outside_name", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("scheme", sa.String(length=32), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("c2s_until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("ame_until", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "complementary_insurer", sa.String(length=200), nullable=False, server_default=""
            )
        )
        batch_op.add_column(
            sa.Column(
                "complementary_number", sa.String(length=50), nullable=False, server_default=""
            )
        )
        batch_op.add_column(sa.Column("complementary_until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("merged_into_id", sa.String(length=36), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_patients_gp_user_id_users"), "users", ["gp_user_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_patients_merged_into_id_patients"),
            "patients",
            ["merged_into_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_patients_merged_into_id_patients"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_patients_gp_user_id_users"), type_="foreignkey")
        batch_op.drop_column("merged_into_id")
        batch_op.drop_column("complementary_until")
        batch_op.drop_column("complementary_number")
        batch_op.drop_column("complementary_insurer")
        batch_op.drop_column("ame_until")
        batch_op.drop_column("c2s_until")
        batch_op.drop_column("scheme")
        batch_op.drop_column("gp_outside_name")
        batch_op.drop_column("gp_user_id")
        batch_op.drop_column("contact_phone")
        batch_op.drop_column("contact_relation")
        batch_op.drop_column("contact_name")
        batch_op.drop_column("identity_checked_on")
        batch_op.drop_column("birth_place_label")
        batch_op.drop_column("used_given_name")

    with op.batch_alter_table("patient_ald", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_ald_version"))
        batch_op.drop_index("ix_patient_ald_patient")

    op.drop_table("patient_ald")
