"""Declarative base, naming convention and the engine settings every database needs."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
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


class QueuedWriterConnection(sqlite3.Connection):
    """A SQLite connection whose writing transactions queue on a lock file before they ask for
    SQLite's write lock.

    SQLite makes a writer that finds the lock taken sleep and try again, in growing steps up to
    100 ms, while any other writer may take the lock meanwhile: with a room of 40 saving
    answers, a few requests lost every race and waited a second (bench `quiz-answer`: p99 about
    1 s at 40 connections, 0.2 s with the queue). An flock(2) on `<database>-writers` is a
    queue the kernel keeps: a waiter wakes the moment the lock is let go. SQLite's own lock and
    busy timeout still guard against writers outside the app (a `sqlite3` shell), and a
    process that dies lets go of its flock with it. The file is opened for each transaction,
    so a forked worker never shares another process's lock."""

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        name = database.decode() if isinstance(database, bytes) else os.fspath(database)
        path = name.split("?", 1)[0].removeprefix("file:")
        in_memory = path in ("", ":memory:") or "mode=memory" in name
        self._queue_path = None if in_memory else path + "-writers"
        self._queue_fd: int | None = None

    def queue_for_writing(self) -> None:
        """Wait for this database's writer queue (once per transaction). A thread that already
        holds it through another connection goes straight to SQLite's lock, as before, rather
        than wait for itself."""
        if self._queue_path is None or self._queue_fd is not None or _writers.held:
            return
        fd = os.open(self._queue_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._queue_fd, _writers.held = fd, True

    def _leave_queue(self) -> None:
        fd, self._queue_fd = self._queue_fd, None
        if fd is not None:
            _writers.held = False
            os.close(fd)  # closing the file lets go of its flock

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._leave_queue()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._leave_queue()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._leave_queue()


class _Writers(threading.local):
    held = False


_writers = _Writers()


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
            dbapi_connection = conn.connection.dbapi_connection
            if isinstance(dbapi_connection, QueuedWriterConnection):
                dbapi_connection.queue_for_writing()
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
