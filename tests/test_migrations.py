"""The schema comes only from migrations: on an empty database they build exactly the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from academy import create_app
from academy.extensions import db
from tests.conftest import PG_URL, TEST_CONFIG


def _fresh_database_url(tmp_path) -> str:
    if not PG_URL:
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    admin = create_engine(make_url(PG_URL).set(drivername="postgresql+psycopg"),
                          isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "academy_migrations" WITH (FORCE)'))
        conn.execute(text('CREATE DATABASE "academy_migrations"'))
    admin.dispose()
    return (
        make_url(PG_URL)
        .set(drivername="postgresql+psycopg", database="academy_migrations")
        .render_as_string(hide_password=False)
    )


def test_migrations_match_the_models(tmp_path, worker_name):
    url = _fresh_database_url(tmp_path)
    app = create_app(dict(TEST_CONFIG, SQLALCHEMY_DATABASE_URI=url), str(tmp_path))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ; run `flask db migrate`: {diff}"
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
