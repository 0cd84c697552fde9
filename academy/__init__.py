"""Academy: a light, offline-first learning management system.

`create_app()` builds the app: defaults (academy/config.py), then instance/config.py, then
ACADEMY_* environment variables and DATABASE_URL, then the `config` argument (tests).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from academy.core import (
    __version__,  # noqa: F401 - the version lives with the shared code
    memory,
)
from academy.core.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent

# Feature packages, lowest first (see docs/architecture.md): each may have models, views (a
# blueprint named bp), cli (commands on the `academy` group) and init_app(app) in its __init__.
FEATURES = (
    "main",
    "auth",
    "admin",
    "courses",
    "quizzes",
    "classes",
    "assignments",
    "studio",
    "progress",
    "certificates",
    "periods",
    "coaching",
    "reports",
    "sync",
)


def create_app(
    config: dict[str, Any] | None = None, instance_path: str | None = None, *, serving: bool = False
) -> Flask:
    """The app. `serving=True` builds it only to answer requests (the servers' `wsgi:served`):
    it leaves out the `flask db` commands, whose Flask-Migrate brings alembic, mako and
    pygments, about 11 MB in every worker that never migrates."""
    instance_path = (
        instance_path or os.environ.get("ACADEMY_INSTANCE_PATH") or str(ROOT / "instance")
    )
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.from_object("academy.config")
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("ACADEMY")
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if config:
        app.config.update(config)

    _configure_logging(app)
    memory.give_back_large_blocks()
    _configure_paths_and_secret(app)
    _configure_database(app)
    _init_extensions(app, commands=not serving)
    _register_features(app)
    _register_web(app)
    return app


def _configure_logging(app: Flask) -> None:
    # One readable line per event on stderr; gunicorn and systemd collect it from there.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(str(app.config.get("LOG_LEVEL", "INFO")).upper())


def _configure_paths_and_secret(app: Flask) -> None:
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config["DATA_DIR"] = str(Path(app.config.get("DATA_DIR") or instance / "data"))
    Path(app.config["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        key_file = instance / "secret_key"
        if not key_file.exists():
            # Written once, readable only by the service account; several app servers must
            # share the same key (set ACADEMY_SECRET_KEY), see docs/deploy.md.
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        app.config["SECRET_KEY"] = key_file.read_text().strip()


def _configure_database(app: Flask) -> None:
    uri = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        uri = f"sqlite:///{Path(app.instance_path) / 'academy.db'}"
    try:
        url = make_url(uri)
    except ArgumentError as exc:
        raise ConfigError(f"DATABASE_URL is not a database URL: {uri!r} ({exc})") from None
    # postgres:// and postgresql:// mean PostgreSQL through psycopg 3, the driver we install.
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"DATABASE_URL must be sqlite:///PATH or postgresql://...; got {url.drivername!r}"
        )
    app.config["SQLALCHEMY_DATABASE_URI"] = url.render_as_string(hide_password=False)
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if url.get_backend_name() == "sqlite":
        from academy.core.db import QueuedWriterConnection

        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("factory", QueuedWriterConnection)
        options["connect_args"] = connect_args
    if url.get_backend_name() == "postgresql":
        options.setdefault("pool_pre_ping", True)
        options.setdefault("pool_size", 5)
        options.setdefault("max_overflow", 10)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _init_extensions(app: Flask, *, commands: bool) -> None:
    from academy.core import assets, i18n, transaction
    from academy.core.db import configure_sqlite
    from academy.core.i18n import select_locale
    from academy.extensions import babel, csrf, db, login_manager

    db.init_app(app)
    if commands:
        from flask_migrate import Migrate

        Migrate(
            app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True
        )
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.session_protection = "basic"
    translation_dirs = [str(ROOT / "academy" / "translations")] + [
        str(ROOT / "academy" / name / "translations") for name in FEATURES
    ]
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=";".join(translation_dirs),
    )
    i18n.init_app(app)
    assets.init_app(app)
    transaction.init_app(app)

    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
        try:
            with engine.connect():
                pass
        except Exception as exc:
            safe = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string()
            raise ConfigError(f"cannot connect to the database {safe}: {exc}") from None

    @login_manager.user_loader
    def load_user(user_id: str):
        # The cookie holds "id:session_version" and a session token; a bumped version
        # (password changed, signed out by an admin) or a deleted session row (signed out)
        # makes the cookie invalid on every app server.
        from flask import session

        from academy.auth.services import session_user

        return session_user(user_id, session.get("sid"))


def _register_features(app: Flask) -> None:
    from academy.core.cli import academy_cli

    importlib.import_module("academy.core.models")
    for name in FEATURES:
        package = f"academy.{name}"
        for part in ("models", "views", "cli"):
            if importlib.util.find_spec(f"{package}.{part}") is None:
                continue
            module = importlib.import_module(f"{package}.{part}")
            if part == "views":
                app.register_blueprint(module.bp)
        init = getattr(importlib.import_module(package), "init_app", None)
        if init is not None:
            init(app)
    importlib.import_module("academy.demo")  # the seed-demo command
    app.cli.add_command(academy_cli)


def _register_web(app: Flask) -> None:
    from academy.core import web

    web.init_app(app)
