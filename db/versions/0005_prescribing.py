"""prescriptions, templates, bdpm reference, record access register

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 11:14:20.926813
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bdpm_compositions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cis", sa.String(length=8), nullable=False),
        sa.Column("substance", sa.String(length=300), nullable=False),
        sa.Column("substance_key", sa.String(length=300), nullable=False),
        sa.Column("strength", sa.String(length=200), nullable=False),
        sa.Column("nature", sa.String(length=2), nullable=False),
        sa.Column("link", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bdpm_compositions")),
    )
    with op.batch_alter_table("bdpm_compositions", schema=None) as batch_op:
        batch_op.create_index("ix_bdpm_compositions_cis", ["cis"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_bdpm_compositions_substance_key"), ["substance_key"], unique=False
        )

    op.create_table(
        "bdpm_imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("medicines", sa.Integer(), nullable=False),
        sa.Column("compositions", sa.Integer(), nullable=False),
        sa.Column("presentations", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bdpm_imports")),
    )
    op.create_table(
        "bdpm_medicines",
        sa.Column("cis", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("name_key", sa.String(length=400), nullable=False),
        sa.Column("form", sa.String(length=200), nullable=False),
        sa.Column("routes", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=100), nullable=False),
        sa.Column("marketed", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("cis", name=op.f("pk_bdpm_medicines")),
    )
    with op.batch_alter_table("bdpm_medicines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bdpm_medicines_name_key"), ["name_key"], unique=False)

    op.create_table(
        "bdpm_presentations",
        sa.Column("cip13", sa.String(length=13), nullable=False),
        sa.Column("cis", sa.String(length=8), nullable=False),
        sa.Column("label", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("cip13", name=op.f("pk_bdpm_presentations")),
    )
    with op.batch_alter_table("bdpm_presentations", schema=None) as batch_op:
        batch_op.create_index("ix_bdpm_presentations_cis", ["cis"], unique=False)

    op.create_table(
        "prescription_templates",
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("bizone", sa.Boolean(), nullable=False),
        sa.Column("lines_json", sa.Text(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_prescription_templates_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescription_templates")),
    )
    with op.batch_alter_table("prescription_templates", schema=None) as batch_op:
        batch_op.create_index("ix_prescription_templates_owner", ["owner_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_prescription_templates_version"), ["version"], unique=False
        )

    op.create_table(
        "prescriptions",
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("consultation_id", sa.String(length=36), nullable=True),
        sa.Column("author_id", sa.String(length=36), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("lines_json", sa.Text(), nullable=False),
        sa.Column("renews_id", sa.String(length=36), nullable=True),
        sa.Column("page_size", sa.String(length=4), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_prescriptions_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_prescriptions_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["renews_id"],
            ["prescriptions.id"],
            name=op.f("fk_prescriptions_renews_id_prescriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescriptions")),
    )
    with op.batch_alter_table("prescriptions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_prescriptions_author_issued", ["author_id", "issued_at"], unique=False
        )
        batch_op.create_index(
            "ix_prescriptions_patient_issued", ["patient_id", "issued_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_prescriptions_version"), ["version"], unique=False)

    op.create_table(
        "record_access_requests",
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("requester_kind", sa.String(length=32), nullable=False),
        sa.Column("heir_reason", sa.String(length=32), nullable=False),
        sa.Column("requester_name", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("identity_document_checked", sa.Boolean(), nullable=False),
        sa.Column("identity_document", sa.String(length=100), nullable=False),
        sa.Column("quality_proof_checked", sa.Boolean(), nullable=False),
        sa.Column("patient_deceased", sa.Boolean(), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=True),
        sa.Column("period_to", sa.Date(), nullable=True),
        sa.Column("scope_details", sa.Text(), nullable=False),
        sa.Column("delivery_mode", sa.String(length=32), nullable=False),
        sa.Column("oldest_information_date", sa.Date(), nullable=True),
        sa.Column("not_before", sa.DateTime(), nullable=False),
        sa.Column("deadline", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("fee_cents", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_record_access_requests_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_access_requests")),
    )
    with op.batch_alter_table("record_access_requests", schema=None) as batch_op:
        batch_op.create_index("ix_record_access_requests_patient", ["patient_id"], unique=False)
        batch_op.create_index("ix_record_access_requests_reference", ["reference"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_record_access_requests_version"), ["version"], unique=False
        )

    # Printed prescriptions are kept exactly as printed, whatever SQL is run.
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER prescriptions_no_{action.lower()} BEFORE {action} ON prescriptions "
            "BEGIN SELECT RAISE(ABORT, 'printed prescriptions are immutable'); END"
        )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS prescriptions_no_update")
    op.execute("DROP TRIGGER IF EXISTS prescriptions_no_delete")
    with op.batch_alter_table("record_access_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_access_requests_version"))
        batch_op.drop_index("ix_record_access_requests_reference")
        batch_op.drop_index("ix_record_access_requests_patient")

    op.drop_table("record_access_requests")
    with op.batch_alter_table("prescriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prescriptions_version"))
        batch_op.drop_index("ix_prescriptions_patient_issued")
        batch_op.drop_index("ix_prescriptions_author_issued")

    op.drop_table("prescriptions")
    with op.batch_alter_table("prescription_templates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prescription_templates_version"))
        batch_op.drop_index("ix_prescription_templates_owner")

    op.drop_table("prescription_templates")
    with op.batch_alter_table("bdpm_presentations", schema=None) as batch_op:
        batch_op.drop_index("ix_bdpm_presentations_cis")

    op.drop_table("bdpm_presentations")
    with op.batch_alter_table("bdpm_medicines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bdpm_medicines_name_key"))

    op.drop_table("bdpm_medicines")
    op.drop_table("bdpm_imports")
    with op.batch_alter_table("bdpm_compositions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bdpm_compositions_substance_key"))
        batch_op.drop_index("ix_bdpm_compositions_cis")

    op.drop_table("bdpm_compositions")
