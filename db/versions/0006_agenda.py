"""agenda

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 11:14:23.198770
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agenda_closures",
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_closures")),
    )
    with op.batch_alter_table("agenda_closures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agenda_closures_version"), ["version"], unique=False)

    op.create_table(
        "agenda_settings",
        sa.Column("hours_json", sa.Text(), nullable=False),
        sa.Column("saturday_ranks", sa.String(length=20), nullable=False),
        sa.Column("holiday_zone", sa.String(length=20), nullable=False),
        sa.Column("slot_step_minutes", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_settings")),
    )
    with op.batch_alter_table("agenda_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agenda_settings_version"), ["version"], unique=False)

    op.create_table(
        "appointment_types",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("default_minutes", sa.Integer(), nullable=False),
        sa.Column("colour", sa.String(length=7), nullable=False),
        sa.Column("released_same_day", sa.Boolean(), nullable=False),
        sa.Column("home_visit", sa.Boolean(), nullable=False),
        sa.Column("blocks_time", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_types")),
        sa.UniqueConstraint("code", name=op.f("uq_appointment_types_code")),
    )
    with op.batch_alter_table("appointment_types", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appointment_types_version"), ["version"], unique=False)

    op.create_table(
        "practitioners",
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=20), nullable=False),
        sa.Column("profession", sa.String(length=100), nullable=False),
        sa.Column("specialty", sa.String(length=100), nullable=False),
        sa.Column("rpps", sa.String(length=11), nullable=False),
        sa.Column("colour", sa.String(length=7), nullable=False),
        sa.Column("visiting", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_practitioners_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practitioners")),
    )
    with op.batch_alter_table("practitioners", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_practitioners_version"), ["version"], unique=False)

    op.create_table(
        "appointments",
        sa.Column("practitioner_id", sa.String(length=36), nullable=False),
        sa.Column("room_id", sa.String(length=36), nullable=True),
        sa.Column("patient_id", sa.String(length=36), nullable=True),
        sa.Column("type_code", sa.String(length=32), nullable=False),
        sa.Column("start_at", sa.DateTime(), nullable=False),
        sa.Column("end_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("booked_at", sa.DateTime(), nullable=False),
        sa.Column("booked_by", sa.String(length=36), nullable=True),
        sa.Column("arrived_at", sa.DateTime(), nullable=True),
        sa.Column("called_at", sa.DateTime(), nullable=True),
        sa.Column("seen_at", sa.DateTime(), nullable=True),
        sa.Column("no_show_at", sa.DateTime(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("cancel_reason", sa.String(length=200), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("series_id", sa.String(length=36), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_appointments_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioners.id"],
            name=op.f("fk_appointments_practitioner_id_practitioners"),
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_appointments_room_id_rooms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_appointments_patient_start", ["patient_id", "start_at"], unique=False
        )
        batch_op.create_index(
            "ix_appointments_practitioner_start", ["practitioner_id", "start_at"], unique=False
        )
        batch_op.create_index("ix_appointments_room_start", ["room_id", "start_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointments_series_id"), ["series_id"], unique=False)
        batch_op.create_index("ix_appointments_start", ["start_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointments_version"), ["version"], unique=False)

    op.create_table(
        "practitioner_absences",
        sa.Column("practitioner_id", sa.String(length=36), nullable=False),
        sa.Column("start_at", sa.DateTime(), nullable=False),
        sa.Column("end_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioners.id"],
            name=op.f("fk_practitioner_absences_practitioner_id_practitioners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practitioner_absences")),
    )
    with op.batch_alter_table("practitioner_absences", schema=None) as batch_op:
        batch_op.create_index(
            "ix_practitioner_absences_practitioner", ["practitioner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_practitioner_absences_version"), ["version"], unique=False
        )

    op.create_table(
        "practitioner_ranges",
        sa.Column("practitioner_id", sa.String(length=36), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.String(length=5), nullable=False),
        sa.Column("end_time", sa.String(length=5), nullable=False),
        sa.Column("room_id", sa.String(length=36), nullable=True),
        sa.Column("pattern", sa.String(length=20), nullable=False),
        sa.Column("nth", sa.Integer(), nullable=True),
        sa.Column("interval_weeks", sa.Integer(), nullable=True),
        sa.Column("anchor", sa.Date(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("own_hours", sa.Boolean(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioners.id"],
            name=op.f("fk_practitioner_ranges_practitioner_id_practitioners"),
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_practitioner_ranges_room_id_rooms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practitioner_ranges")),
    )
    with op.batch_alter_table("practitioner_ranges", schema=None) as batch_op:
        batch_op.create_index(
            "ix_practitioner_ranges_practitioner", ["practitioner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_practitioner_ranges_version"), ["version"], unique=False
        )

    op.create_table(
        "waiting_list",
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("converted_patient_id", sa.String(length=36), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["converted_patient_id"],
            ["patients.id"],
            name=op.f("fk_waiting_list_converted_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waiting_list")),
    )
    with op.batch_alter_table("waiting_list", schema=None) as batch_op:
        batch_op.create_index("ix_waiting_list_status", ["status", "priority"], unique=False)
        batch_op.create_index(batch_op.f("ix_waiting_list_version"), ["version"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("waiting_list", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_waiting_list_version"))
        batch_op.drop_index("ix_waiting_list_status")

    op.drop_table("waiting_list")
    with op.batch_alter_table("practitioner_ranges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_practitioner_ranges_version"))
        batch_op.drop_index("ix_practitioner_ranges_practitioner")

    op.drop_table("practitioner_ranges")
    with op.batch_alter_table("practitioner_absences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_practitioner_absences_version"))
        batch_op.drop_index("ix_practitioner_absences_practitioner")

    op.drop_table("practitioner_absences")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointments_version"))
        batch_op.drop_index("ix_appointments_start")
        batch_op.drop_index(batch_op.f("ix_appointments_series_id"))
        batch_op.drop_index("ix_appointments_room_start")
        batch_op.drop_index("ix_appointments_practitioner_start")
        batch_op.drop_index("ix_appointments_patient_start")

    op.drop_table("appointments")
    with op.batch_alter_table("practitioners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_practitioners_version"))

    op.drop_table("practitioners")
    with op.batch_alter_table("appointment_types", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_types_version"))

    op.drop_table("appointment_types")
    with op.batch_alter_table("agenda_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_settings_version"))

    op.drop_table("agenda_settings")
    with op.batch_alter_table("agenda_closures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_closures_version"))

    op.drop_table("agenda_closures")
