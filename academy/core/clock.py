"""Time in one place: instants are stored in UTC; days and months are those of the configured
timezone (BABEL_DEFAULT_TIMEZONE, Asia/Bangkok by default), because a report's "December" or a
join code's "last day" is the one people live in, not UTC's.

Everything here reads the clock through `utcnow()` so tests can freeze or move it
(time-machine) and so a caller can pass `now` instead.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import func

DEFAULT_TIMEZONE = "Asia/Bangkok"


def utcnow() -> datetime:
    return datetime.now(UTC)


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone_name() -> str:
    if has_app_context():
        return current_app.config.get("BABEL_DEFAULT_TIMEZONE") or DEFAULT_TIMEZONE
    return DEFAULT_TIMEZONE


def local_zone() -> ZoneInfo:
    return _zone(zone_name())


def to_local(value: datetime) -> datetime:
    """The same instant on the configured timezone's wall clock (a naive value is UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(local_zone())


def local_now() -> datetime:
    return to_local(utcnow())


def local_date(value: date | datetime) -> date:
    """The local calendar day of an instant; a date is already one."""
    return to_local(value).date() if isinstance(value, datetime) else value


def local_day_start(day: date) -> datetime:
    """The UTC instant at which `day` begins in the configured timezone."""
    return datetime.combine(day, time(), local_zone()).astimezone(UTC)


def local_month_key(value: datetime) -> str:
    """'YYYY-MM' of an instant, in the configured timezone (the reports' months)."""
    return to_local(value).strftime("%Y-%m")


def local_month_start(year: int, month: int) -> datetime:
    """The UTC instant at which that local month begins."""
    return local_day_start(date(year, month, 1))


def local_month_keys(months: int, now: datetime | None = None) -> list[str]:
    """The last `months` local months, oldest first, ending with the one `now` is in."""
    local = to_local(now or utcnow())
    year, month = local.year, local.month
    keys = []
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return keys[::-1]


def month_key_sql(column: Any, dialect: str) -> Any:
    """local_month_key() in SQL. PostgreSQL converts with the zone's rules; SQLite knows no
    zones, so it shifts by the zone's offset now, which is exact for zones without daylight
    saving (Asia/Bangkok) and may misplace an hour around a DST change elsewhere."""
    if dialect == "postgresql":
        return func.to_char(func.timezone(zone_name(), column), "YYYY-MM")
    offset = utcnow().astimezone(local_zone()).utcoffset() or timedelta()
    return func.strftime("%Y-%m", column, f"{int(offset.total_seconds() // 60):+d} minutes")
