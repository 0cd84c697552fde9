"""Shared fixtures: a real app on a real database (SQLite by default, PostgreSQL when
ACADEMY_TEST_DATABASE_URL is set), a test client that sends CSRF tokens like a browser, and
factory fixtures in tests/fixtures/ (one module per feature, loaded automatically)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from hypothesis import settings as hypothesis_settings
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from academy import create_app
from academy.extensions import db as _db
from tests.clock import academy_test_clock

pytest_plugins = sorted(
    f"tests.fixtures.{p.stem}"
    for p in (Path(__file__).parent / "fixtures").glob("*.py")
    if p.stem != "__init__"
)

PG_URL = os.environ.get("ACADEMY_TEST_DATABASE_URL")

# Speed goals belong in bench/, not in tests: no per-example deadline, which fails at random on
# a busy machine (several test runs sharing two cores).
hypothesis_settings.register_profile("academy", deadline=None)
hypothesis_settings.load_profile("academy")


# ACADEMY_TEST_CLOCK="2027-01-01T00:30+07:00" runs the whole suite as if the machine's clock
# said that moment (ticking on from there), to prove no test depends on the day it runs:
# `make test-clocks` runs it at the awkward moments (new year in Bangkok but not in UTC, leap
# day, month ends). The pytest process, its xdist workers (which inherit the environment), the
# servers tests start (gunicorn, flask: via tests/clock/sitecustomize.py on their PYTHONPATH)
# and the browser pages (Playwright's clock, tests/browser/conftest.py) all show one moment.
TEST_CLOCK = os.environ.get(academy_test_clock.CLOCK)


def pytest_configure(config):
    if not TEST_CLOCK:
        return
    try:
        academy_test_clock.parse(TEST_CLOCK)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    folder = str(Path(__file__).parent / "clock")
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if folder not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([folder, *filter(None, paths)])
    academy_test_clock.start()


def pytest_report_header(config):
    clock = f", clock: {TEST_CLOCK}" if TEST_CLOCK else ""
    return f"database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite'}{clock}"


def pytest_collection_modifyitems(config, items):
    if PG_URL:
        return
    skip = pytest.mark.skip(reason="PostgreSQL only: runs in the PostgreSQL pass of make test")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def worker_name(request) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker_name) -> str:
    if not PG_URL:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    # One database per xdist worker on the throwaway cluster that make test starts.
    name = f"academy_test_{worker_name}"
    admin = create_engine(make_url(PG_URL).set(drivername="postgresql+psycopg"),
                          isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return (
        make_url(PG_URL)
        .set(drivername="postgresql+psycopg", database=name)
        .render_as_string(hide_password=False)
    )


TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-not-for-production",
    "SERVER_NAME": None,
}


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    config = dict(TEST_CONFIG, SQLALCHEMY_DATABASE_URI=database_url)
    app = create_app(config, instance_path=str(instance))
    app.test_client_class = AcademyClient
    with app.app_context():
        # The schema of the models; tests/test_migrations.py proves the migrations build the
        # same one, so feature work can run its tests before its migration is written.
        _db.create_all()
    yield app
    with app.app_context():
        _db.engine.dispose()


@pytest.fixture(autouse=True)
def _app_context(request):
    """Every test runs inside an app context with an empty database afterwards."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        yield
        _db.session.rollback()
        _db.session.remove()
        empty_database()


def empty_database() -> None:
    tables = list(reversed(_db.metadata.sorted_tables))
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def db(app):
    return _db


class AcademyClient(FlaskClient):
    """Sends a valid CSRF token with every form POST, as a browser with our pages would;
    pass csrf=False to leave it out."""

    def open(self, *args, csrf: bool = True, **kwargs):
        # Tests keep one app context open, and Flask reuses it for requests; start each request
        # with an empty `g` as a real one would (Flask-Login caches the signed-in user there).
        if has_app_context():
            g.__dict__.clear()
        method = kwargs.get("method", "GET")
        data = kwargs.get("data")
        if csrf and method in ("POST", "PUT", "PATCH", "DELETE") and kwargs.get("json") is None:
            data = dict(data or {})
            data.setdefault("csrf_token", self.csrf_token())
            kwargs["data"] = data
        elif csrf and kwargs.get("json") is not None:
            headers = dict(kwargs.get("headers") or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        import secrets

        with self.session_transaction() as session:
            raw = session.get("csrf_token")
            if raw is None:
                raw = session["csrf_token"] = secrets.token_hex(20)
        serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
        return serializer.dumps(raw)

    def login(self, user) -> AcademyClient:
        """Sign in without the password round trip (the sign-in form has its own tests), with
        a session recorded on the server as the sign-in form makes one."""
        from academy.auth.services import start_session

        token = start_session(user)
        _db.session.commit()
        with self.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
            session["sid"] = token
        return self

    def logout(self) -> AcademyClient:
        with self.session_transaction() as session:
            session.clear()
        return self


@pytest.fixture
def client(app) -> AcademyClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
