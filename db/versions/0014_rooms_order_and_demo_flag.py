"""Rooms get an order for the agenda; the centre says whether it is the demo centre; the
médecin-traitant waiting list counts its contact attempts.

Additive columns with a server default (rows made by older stations get 0 / false), as
the sync design asks: nothing renamed or reused.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 12:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "rooms", sa.Column("sort_order", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("centre", sa.Column("is_demo", sa.Boolean(), nullable=False, server_default="0"))
    op.add_column(
        "waiting_list",
        sa.Column("contact_attempts", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("waiting_list", sa.Column("last_contact_on", sa.Date(), nullable=True))
    op.add_column("waiting_list", sa.Column("patient_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("waiting_list", schema=None) as batch_op:
        batch_op.drop_column("patient_id")
        batch_op.drop_column("last_contact_on")
        batch_op.drop_column("contact_attempts")
    with op.batch_alter_table("centre", schema=None) as batch_op:
        batch_op.drop_column("is_demo")
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.drop_column("sort_order")
