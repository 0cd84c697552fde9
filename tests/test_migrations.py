"""The schema comes only from migrations: on an empty database they build exactly the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from academy import create_app
from academy.extensions import db
from tests.conftest import TEST_CONFIG
from tests.fixtures.databases import fresh_database


def test_migrations_match_the_models(tmp_path, worker_name):
    url = fresh_database(tmp_path, "academy_migrations")
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
