"""Drop the index on ``version`` of every replicated table.

Rows are always found by id (the merge reads versions by id, nothing filters or sorts on
``version``), so these indexes only cost one more B-tree write on every insert and update.
Plain DROP INDEX: no table is rebuilt, so the insert-only tables keep their triggers.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 16:53:22.112109
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = (
    "account_key_slots",
    "agenda_closures",
    "agenda_settings",
    "appointment_types",
    "appointments",
    "audit_log",
    "centre",
    "consultation_drafts",
    "consultations",
    "documents",
    "patient_ald",
    "patients",
    "practitioner_absences",
    "practitioner_ranges",
    "practitioners",
    "prescription_templates",
    "prescriptions",
    "record_access_requests",
    "rooms",
    "sync_conflicts",
    "sync_stations",
    "synthesis_allergies",
    "synthesis_history",
    "synthesis_problems",
    "synthesis_risk_factors",
    "synthesis_screenings",
    "synthesis_treatments",
    "synthesis_vaccinations",
    "users",
    "waiting_list",
)


def upgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_version", table_name=table)


def downgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_version", table, ["version"], unique=False)
