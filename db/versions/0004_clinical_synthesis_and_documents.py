"""Clinical synthesis (fiche de synthèse) entries, documents and their chunked content.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:15:55.392454
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blob_chunks",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", "idx", name=op.f("pk_blob_chunks")),
    )
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("total_chunks", sa.Integer(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_blobs")),
    )
    op.create_table(
        "documents",
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("document_date", sa.Date(), nullable=True),
        sa.Column("author_id", sa.String(length=36), nullable=False),
        sa.Column("mime_type", sa.String(length=50), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("original_filename", sa.String(length=255), nullable=False),
        sa.Column("supersedes_id", sa.String(length=36), nullable=True),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_documents_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_documents_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["documents.id"], name=op.f("fk_documents_supersedes_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index("ix_documents_patient", ["patient_id"], unique=False)
        batch_op.create_index("ix_documents_sha256", ["sha256"], unique=False)
        batch_op.create_index("ix_documents_supersedes", ["supersedes_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_version"), ["version"], unique=False)

    op.create_table(
        "synthesis_allergies",
        sa.Column("substance", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reaction", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("author_id", sa.String(length=36), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_synthesis_allergies_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_synthesis_allergies_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_synthesis_allergies")),
    )
    with op.batch_alter_table("synthesis_allergies", schema=None) as batch_op:
        batch_op.create_index("ix_synthesis_allergies_patient", ["patient_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_synthesis_allergies_version"), ["version"], unique=False
        )

    op.create_table(
        "synthesis_history",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("author_id", sa.String(length=36), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_synthesis_history_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_synthesis_history_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_synthesis_history")),
    )
    with op.batch_alter_table("synthesis_history", schema=None) as batch_op:
        batch_op.create_index("ix_synthesis_history_patient", ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_synthesis_history_version"), ["version"], unique=False)

    op.create_table(
        "synthesis_problems",
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("author_id", sa.String(length=36), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_synthesis_problems_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_synthesis_problems_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_synthesis_problems")),
    )
    with op.batch_alter_table("synthesis_problems", schema=None) as batch_op:
        batch_op.create_index("ix_synthesis_problems_patient", ["patient_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_synthesis_problems_version"), ["version"], unique=False
        )

    op.create_table(
        "synthesis_risk_factors",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=50), nullable=False),
        sa.Column("pack_years", sa.Float(), nullable=True),
        sa.Column("units_per_week", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("author_id", sa.String(length=36), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_synthesis_risk_factors_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_synthesis_risk_factors_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_synthesis_risk_factors")),
    )
    with op.batch_alter_table("synthesis_risk_factors", schema=None) as batch_op:
        batch_op.create_index("ix_synthesis_risk_factors_patient", ["patient_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_synthesis_risk_factors_version"), ["version"], unique=False
        )

    op.create_table(
        "synthesis_screenings",
        sa.Column("programme", sa.String(length=16), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("result", sa.String(length=200), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("author_id", sa.String(length=36), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_synthesis_screenings_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_synthesis_screenings_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_synthesis_screenings")),
    )
    with op.batch_alter_table("synthesis_screenings", schema=None) as batch_op:
        batch_op.create_index("ix_synthesis_screenings_patient", ["patient_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_synthesis_screenings_version"), ["version"], unique=False
        )

    op.create_table(
        "synthesis_treatments",
        sa.Column("medicine", sa.String(length=200), nullable=False),
        sa.Column("dosage", sa.String(length=200), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("prescriber", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("author_id", sa.String(length=36), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_synthesis_treatments_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_synthesis_treatments_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_synthesis_treatments")),
    )
    with op.batch_alter_table("synthesis_treatments", schema=None) as batch_op:
        batch_op.create_index("ix_synthesis_treatments_patient", ["patient_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_synthesis_treatments_version"), ["version"], unique=False
        )

    op.create_table(
        "synthesis_vaccinations",
        sa.Column("vaccine", sa.String(length=200), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("lot", sa.String(length=50), nullable=False),
        sa.Column("dose", sa.String(length=50), nullable=False),
        sa.Column("given_by", sa.String(length=200), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("author_id", sa.String(length=36), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_synthesis_vaccinations_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_synthesis_vaccinations_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_synthesis_vaccinations")),
    )
    with op.batch_alter_table("synthesis_vaccinations", schema=None) as batch_op:
        batch_op.create_index("ix_synthesis_vaccinations_patient", ["patient_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_synthesis_vaccinations_version"), ["version"], unique=False
        )

    # A plain CREATE INDEX: a batch operation could rebuild the table and lose its triggers.
    op.create_index("ix_consultations_amends", "consultations", ["amends_id"], unique=False)
    # Document metadata is immutable: a correction or withdrawal is a new row.
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER documents_no_{action.lower()} BEFORE {action} ON documents "
            "BEGIN SELECT RAISE(ABORT, 'document metadata is immutable'); END"
        )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS documents_no_update")
    op.execute("DROP TRIGGER IF EXISTS documents_no_delete")
    op.drop_index("ix_consultations_amends", table_name="consultations")

    with op.batch_alter_table("synthesis_vaccinations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_synthesis_vaccinations_version"))
        batch_op.drop_index("ix_synthesis_vaccinations_patient")

    op.drop_table("synthesis_vaccinations")
    with op.batch_alter_table("synthesis_treatments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_synthesis_treatments_version"))
        batch_op.drop_index("ix_synthesis_treatments_patient")

    op.drop_table("synthesis_treatments")
    with op.batch_alter_table("synthesis_screenings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_synthesis_screenings_version"))
        batch_op.drop_index("ix_synthesis_screenings_patient")

    op.drop_table("synthesis_screenings")
    with op.batch_alter_table("synthesis_risk_factors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_synthesis_risk_factors_version"))
        batch_op.drop_index("ix_synthesis_risk_factors_patient")

    op.drop_table("synthesis_risk_factors")
    with op.batch_alter_table("synthesis_problems", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_synthesis_problems_version"))
        batch_op.drop_index("ix_synthesis_problems_patient")

    op.drop_table("synthesis_problems")
    with op.batch_alter_table("synthesis_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_synthesis_history_version"))
        batch_op.drop_index("ix_synthesis_history_patient")

    op.drop_table("synthesis_history")
    with op.batch_alter_table("synthesis_allergies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_synthesis_allergies_version"))
        batch_op.drop_index("ix_synthesis_allergies_patient")

    op.drop_table("synthesis_allergies")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_version"))
        batch_op.drop_index("ix_documents_supersedes")
        batch_op.drop_index("ix_documents_sha256")
        batch_op.drop_index("ix_documents_patient")

    op.drop_table("documents")
    op.drop_table("blobs")
    op.drop_table("blob_chunks")
