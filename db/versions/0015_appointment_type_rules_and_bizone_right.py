"""Appointment types carry their rules (a centre can add its own types); accounts carry the
right to prescribe on the bizone (ALD) form.

Additive columns with a server default, as the sync design asks. The built-in types'
rows get the rules their code always had; accounts that could prescribe before this
version (doctors, dentists, medical directors) keep the bizone right they used.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 15:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# (needs_room, in_centre_hours, in_practitioner_ranges) of the built-in types that are not
# all true, as in domain.agenda.appointments.
_BUILTIN_RULES = {
    "home_visit": (False, False, True),
    "coordination_meeting": (True, True, False),
    "blocked": (False, False, False),
}


def upgrade() -> None:
    for name in ("needs_room", "in_centre_hours", "in_practitioner_ranges", "reception_books"):
        op.add_column(
            "appointment_types",
            sa.Column(name, sa.Boolean(), nullable=False, server_default="1"),
        )
    op.add_column(
        "users",
        sa.Column("may_prescribe_bizone", sa.Boolean(), nullable=False, server_default="0"),
    )
    types = sa.table(
        "appointment_types",
        sa.column("code", sa.String),
        sa.column("needs_room", sa.Boolean),
        sa.column("in_centre_hours", sa.Boolean),
        sa.column("in_practitioner_ranges", sa.Boolean),
    )
    for code, (room, hours, ranges) in _BUILTIN_RULES.items():
        op.execute(
            types.update()
            .where(types.c.code == code)
            .values(needs_room=room, in_centre_hours=hours, in_practitioner_ranges=ranges)
        )
    users = sa.table("users", sa.column("role", sa.String), sa.column("may_prescribe_bizone"))
    op.execute(
        users.update()
        .where(users.c.role.in_(("doctor", "dentist", "medical_director")))
        .values(may_prescribe_bizone=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("may_prescribe_bizone")
    with op.batch_alter_table("appointment_types", schema=None) as batch_op:
        for name in ("reception_books", "in_practitioner_ranges", "in_centre_hours", "needs_room"):
            batch_op.drop_column(name)
