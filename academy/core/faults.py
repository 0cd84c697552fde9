"""Which faults are the machine's, not the code's: the database unreachable, the disk full.

Error pages answer these with their own status (503 with Retry-After, 507) and a sentence that
names the problem, so a learner knows to try again and an operator knows where to look
(docs/operations.md). The checks walk the whole exception chain, because SQLAlchemy wraps the
driver's error and our own code may wrap an OSError.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

# Seconds a client is told to wait after a database outage: a PostgreSQL restart takes a few.
RETRY_AFTER_SECONDS = 10
_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
# SQLite's SQLITE_FULL; PostgreSQL's disk_full (53100) class.
_FULL_TEXTS = ("database or disk is full", "no space left on device", "could not extend file")


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend([current.__cause__, current.__context__, getattr(current, "orig", None)])


def is_storage_full(error: BaseException) -> bool:
    """The data directory's or the database's disk is full (ENOSPC, quota, SQLITE_FULL)."""
    for current in _chain(error):
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return True
        if getattr(current, "sqlstate", None) == "53100":
            return True
        if isinstance(current, (sa_exc.DBAPIError, sqlite3.DatabaseError)) and any(
            text in str(current).lower() for text in _FULL_TEXTS
        ):
            return True
    return False


def is_database_unavailable(error: BaseException) -> bool:
    """The database cannot be reached or used just now (stopped, restarting, locked past the
    busy timeout, the pool exhausted): trying again later will work, the code is not at fault."""
    if is_storage_full(error):
        return False
    for current in _chain(error):
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, sa_exc.OperationalError | sa_exc.InterfaceError):
            return True
        if isinstance(current, sa_exc.TimeoutError):  # no pooled connection came free
            return True
    return False


def free_space(path: str | Path) -> dict[str, Any]:
    """Free and total bytes of the filesystem holding `path` (its nearest existing parent)."""
    target = Path(path)
    while not target.exists() and target != target.parent:
        target = target.parent
    usage = shutil.disk_usage(target)
    return {"path": str(path), "free_bytes": usage.free, "total_bytes": usage.total}


# When this app (this process) last failed to store something for want of space: admins are
# warned even if a few bytes came free since, until the window has passed.
RECENT_FULL_SECONDS = 15 * 60
_LAST_FULL = "academy_storage_full_at"


def note_storage_full(app: Flask) -> None:
    app.extensions[_LAST_FULL] = time.monotonic()


def storage_report(app: Flask) -> dict[str, Any]:
    """Free space where Academy writes: the SQLite database's disk (a PostgreSQL server's is
    its own to watch) and DATA_DIR's, each with `warning` when below the threshold."""
    threshold = int(app.config["STORAGE_WARNING_FREE_BYTES"])
    places: dict[str, Any] = {}
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        places["database"] = free_space(url.database)
    places["data_dir"] = free_space(app.config["DATA_DIR"])
    for place in places.values():
        place["warning"] = place["free_bytes"] < threshold
    last_full = app.extensions.get(_LAST_FULL)
    recent = last_full is not None and time.monotonic() - last_full < RECENT_FULL_SECONDS
    return {
        **places,
        "threshold_bytes": threshold,
        "recently_full": recent,
        "warning": recent or any(place["warning"] for place in places.values()),
    }
