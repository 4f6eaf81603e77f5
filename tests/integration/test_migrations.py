"""Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import secrets

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from cms_desktop.storage import migrations
from cms_desktop.storage.engine import create_encrypted_engine
from cms_desktop.storage.models import Base


def test_upgrade_head_on_empty_database_matches_models(tmp_path) -> None:
    engine = create_encrypted_engine(tmp_path / "m.db", secrets.token_bytes(32))
    migrations.upgrade(engine)
    assert migrations.current_revision(engine) == migrations.head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    engine.dispose()
    assert diff == []


def test_schema_version_is_the_head_number() -> None:
    assert migrations.schema_version() == int(migrations.head_revision().split("_")[0]) >= 1


def test_upgrade_keeps_the_data_of_an_older_centre(tmp_path) -> None:
    """A centre created at revision 0002 (patients and signed notes) upgrades to head: the
    rows survive the table rebuilds, new columns get their defaults, the search index is
    filled, and signed notes stay immutable."""
    import pytest
    from alembic import command
    from sqlalchemy import exc, text

    engine = create_encrypted_engine(tmp_path / "old.db", secrets.token_bytes(32))
    with engine.begin() as conn:
        command.upgrade(migrations.alembic_config(conn), "0002")
        conn.execute(
            text(
                "INSERT INTO users (id, version, deleted, created_at, updated_at, login, "
                "full_name, role, password_hash, active, profession, specialty, rpps, title) "
                "VALUES ('u1', '', 0, '2020-01-01', '2020-01-01', 'dr.old', 'Dr Ancien', "
                "'doctor', 'x', 1, '', '', '', '')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO patients (id, version, deleted, created_at, updated_at, birth_name, "
                "used_name, first_given_name, given_names, birth_date, sex, birth_place_code, "
                "birth_country, identity_status, identity_document, nir, address, postcode, "
                "city, phone_mobile, phone_home, email) VALUES ('p1', '', 0, '2020-01-01', "
                "'2020-01-01', 'LÉGER', '', 'Amélie', 'Amélie', '1961-05-04', 'F', '', '', "
                "'provisional', '', '', '', '', '', '', '', '')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO consultations (id, version, deleted, created_at, updated_at, "
                "patient_id, author_id, seen_at, reason, examination, diagnosis, "
                "diagnosis_code, treatment, conclusion, signed_at) VALUES ('c1', '', 0, "
                "'2020-01-01', '2020-01-01', 'p1', 'u1', '2020-01-01', 'Toux', '', '', '', "
                "'', '', '2020-01-01')"
            )
        )
    migrations.upgrade(engine)
    with engine.begin() as conn:
        row = conn.execute(
            text("SELECT birth_name, scheme, merged_into_id FROM patients WHERE id = 'p1'")
        ).one()
        assert tuple(row) == ("LÉGER", "", None)
        keys = conn.execute(
            text("SELECT count(*) FROM patient_search WHERE patient_id = 'p1'")
        ).scalar_one()
        assert keys > 0
        assert conn.execute(text("SELECT reason FROM consultations")).scalar_one() == "Toux"
    with pytest.raises(exc.DatabaseError), engine.begin() as conn:
        conn.execute(text("UPDATE consultations SET reason = 'changé'"))
    engine.dispose()
