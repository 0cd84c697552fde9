"""The course outline kept per process, by course version (issue 15; docs/architecture.md).

Every course has `outline_version`, a token that changes whenever a row its outline shows
changes: a database trigger on each followed table (modules, lessons, and the tables of the
other features' outline items: quizzes, assignments) gives the course a new random token on
every insert, update and delete of one of its rows. Triggers, not ORM events or calls in
services, because outline rows are also written by `UPDATE ... WHERE` statements, cascading
deletes and raw SQL that the ORM never sees (as academy/sync/stamps.py does for the change
sequence): no write path can forget it. Random rather than counted, so a course deleted and
created again under the same id, a restored backup or an emptied test database never meets
an outline cached for other content under the same (id, version).

Each app keeps a bounded LRU of outlines keyed by (course id, version). The version comes with
the course row every page loads already (no extra query), so a worker reads an outline another
worker changed as soon as the change commits: never a stale one. Within a transaction that
changed outline rows itself (the loaded course's version would be the old one), the outline is
read from the database and not kept.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Callable
from threading import Lock
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Table, event, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

# The tables whose rows an outline shows, each with a `course_id` column (follow()).
FOLLOWED: set[str] = set()
_CHANGED = "academy.outline_changed"  # Session.info: this transaction wrote outline rows
_EXTENSION = "academy.outlines"


def new_version() -> int:
    """A course's first version (the triggers give the next ones)."""
    return secrets.randbits(62)


def follow(table: Table) -> None:
    """The rows of `table` are part of their course's outline: every insert, update and delete
    of one gives the course a new version. The trigger is installed with the table by
    create_all; migrations call install() with the tables they create."""
    FOLLOWED.add(table.name)
    event.listen(table, "after_create", _installed_with)


def _installed_with(table: Table, connection: Connection, **_kw: Any) -> None:
    install(connection, (table.name,))


# A new random token (signed 64-bit on both databases).
_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION outline_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    UPDATE courses SET outline_version = floor((random() - 0.5) * 9.2e18)::bigint
    WHERE id = OLD.course_id;
  END IF;
  IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.course_id IS DISTINCT FROM OLD.course_id) THEN
    UPDATE courses SET outline_version = floor((random() - 0.5) * 9.2e18)::bigint
    WHERE id = NEW.course_id;
  END IF;
  RETURN NULL;
END $$
"""
_SQLITE = {
    "insert": "AFTER INSERT ON {t} BEGIN UPDATE courses SET outline_version = random() "
    "WHERE id = NEW.course_id; END",
    "update": "AFTER UPDATE ON {t} BEGIN UPDATE courses SET outline_version = random() "
    "WHERE id IN (OLD.course_id, NEW.course_id); END",
    "delete": "AFTER DELETE ON {t} BEGIN UPDATE courses SET outline_version = random() "
    "WHERE id = OLD.course_id; END",
}


def install(connection: Connection, tables: tuple[str, ...]) -> None:
    """Create (or replace) the version triggers on `tables` (constant names, no input).

    On SQLite a migration that rebuilds one of these tables (batch_alter_table) drops its
    triggers and must call this again; one that rebuilds `courses` must uninstall() first (a
    rename fails while a trigger names a missing table) and install() after."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(_PG_FUNCTION)
        for t in tables:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS outline_version_{t} ON {t}")
            connection.exec_driver_sql(
                f"CREATE TRIGGER outline_version_{t} AFTER INSERT OR UPDATE OR DELETE ON {t} "
                "FOR EACH ROW EXECUTE FUNCTION outline_changed()"
            )
        return
    for t in tables:
        for op, body in _SQLITE.items():
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS outline_version_{op}_{t}")
            connection.exec_driver_sql(
                f"CREATE TRIGGER outline_version_{op}_{t} {body.format(t=t)}"
            )


def uninstall(connection: Connection, tables: tuple[str, ...]) -> None:
    if connection.dialect.name == "postgresql":
        for t in tables:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS outline_version_{t} ON {t}")
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS outline_changed()")
        return
    for t in tables:
        for op in _SQLITE:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS outline_version_{op}_{t}")


# --- this transaction's own changes -----------------------------------------------------------


def _flushed(session: Session, _context: Any) -> None:
    # after_flush: new, dirty and deleted still list what this flush wrote.
    for group in (session.new, session.dirty, session.deleted):
        for obj in group:
            if getattr(obj, "__tablename__", None) in FOLLOWED:
                session.info[_CHANGED] = True
                return


def _executed(state: ORMExecuteState) -> None:
    if state.is_select:
        return
    statement = state.statement
    # An INSERT, UPDATE or DELETE names its table; raw SQL other than a SELECT may touch one.
    table = getattr(statement, "table", None)
    if table is not None:
        if getattr(table, "name", None) in FOLLOWED:
            state.session.info[_CHANGED] = True
        return
    sql = getattr(statement, "text", None)
    if not (isinstance(sql, str) and sql.lstrip()[:6].upper() == "SELECT"):
        state.session.info[_CHANGED] = True


def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CHANGED, None)


def changed_here(session: Session) -> bool:
    """Whether this session's transaction wrote rows of an outline (its courses' loaded
    versions may be older than the database's)."""
    return _CHANGED in session.info


# --- the cache --------------------------------------------------------------------------------


class Outlines:
    """A bounded LRU of outlines by (course id, version), shared by a process's threads."""

    def __init__(self, size: int) -> None:
        self.size = max(0, size)
        self._entries: OrderedDict[tuple[int, int], Any] = OrderedDict()
        self._lock = Lock()

    def get(self, key: tuple[int, int]) -> Any:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: tuple[int, int], value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def outlines(app: Flask | None = None) -> Outlines:
    return (app or current_app).extensions[_EXTENSION]


def cached(session: Session, course: Any, build: Callable[[], Any]) -> Any:
    """The outline of `course` at its loaded version: kept, or built by `build()` and kept."""
    if changed_here(session):
        return build()
    cache = outlines()
    key = (course.id, course.outline_version)
    value = cache.get(key)
    if value is None:
        value = build()
        cache.put(key, value)
    return value


class Snapshot:
    """The loaded columns of an outline row, read-only and bound to no session: an outline
    kept across requests and threads must never lazy-load or be written through."""

    def __init__(self, obj: Any) -> None:
        state = inspect(obj)
        loaded = state.dict
        self.__dict__.update(
            (attr.key, loaded[attr.key]) for attr in state.mapper.column_attrs if attr.key in loaded
        )

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"an outline kept for many requests is read-only ({name})")

    def __repr__(self) -> str:
        return f"<Snapshot {self.__dict__.get('key')!r}>"


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = Outlines(app.config["OUTLINE_CACHE_COURSES"])
    if not event.contains(Session, "after_flush", _flushed):
        event.listen(Session, "after_flush", _flushed)
        event.listen(Session, "do_orm_execute", _executed)
        event.listen(Session, "after_transaction_end", _ended)
