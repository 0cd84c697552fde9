"""Declarative base, naming convention and the engine settings every database needs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import click
from flask import has_request_context, request
from sqlalchemy import BigInteger, MetaData, String, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import DateTime, TypeDecorator

from academy.core.clock import utcnow

# Named constraints make migrations reproducible on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """Stores UTC, always returns aware datetimes: SQLite would otherwise hand back naive ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def new_uuid() -> str:
    return str(uuid4())


class GlobalId:
    """A row that travels between servers (docs/sync.md): named everywhere by its UUID, so a
    school server's rows and the city's never collide, whatever their integer keys."""

    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)


class Stamped:
    """A row its owner pushes to the city (docs/sync.md): `sync_seq` is set by a database
    trigger on every insert and update (academy/sync/stamps.py) from one counter, so changes are
    read in commit order whatever wrote them. The application never writes it."""

    sync_seq: Mapped[int | None] = mapped_column(BigInteger, index=True)


# How long a command-line write waits for SQLite's write lock (20 parallel scripts on a busy
# 2-core server each hold it for about a second).
CLI_BUSY_TIMEOUT_MS = 120_000


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """WAL lets readers and one writer work at once; the busy timeout queues writers instead of
    failing with "database is locked" when a whole room submits in the same second."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # A command-line run has nobody waiting on a page: it queues as long as it takes.
        timeout = max(busy_timeout_ms, CLI_BUSY_TIMEOUT_MS) if _command_line() else busy_timeout_ms
        cursor.execute(f"PRAGMA busy_timeout={int(timeout)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if may_write():
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def may_write() -> bool:
    """Whether this transaction should take SQLite's write lock up front (BEGIN IMMEDIATE).

    A request that will write (POST and friends) and any command-line run (`flask academy
    ...`, scripts creating a class in parallel) do: concurrent writers then queue on the busy
    timeout, instead of failing with "database is locked" when a read transaction tries to
    upgrade to a write (SQLite refuses that at once rather than wait). Page views, and the
    app used from plain Python (tests), begin deferred, so readers never wait for writers
    under WAL."""
    if has_request_context():
        return request.method not in ("GET", "HEAD", "OPTIONS")
    return _command_line()


def _command_line() -> bool:
    """Inside a `flask ...` command. Not merely inside some click program: granian is one,
    and its forked workers' main thread inherits its click context."""
    from flask.cli import AppGroup

    context = click.get_current_context(silent=True)
    return context is not None and isinstance(context.find_root().command, AppGroup)


def insert_ignoring_duplicates(session: Any, model: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for the session's database (SQLite or PostgreSQL):
    a row that may already exist goes in without an error, a SAVEPOINT or a second query;
    `.values(...)` it and read `rowcount` (1 inserted, 0 already there)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model).on_conflict_do_nothing()
