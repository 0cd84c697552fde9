"""Attendance in the admin reports: a local month's periods by school or by computer room
(the room the period met in), with how many learner-periods were present, late, absent and
excused. Each mark is read as the class's own attendance page reads it (periods.attendance:
the teacher's correction, else the learner's activity), in a fixed number of statements for
the whole month; only the counting per school or room happens here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from academy.classes.models import Room, School
from academy.extensions import db
from academy.periods.attendance import marks, month_bounds
from academy.periods.models import ABSENT, EXCUSED, LATE, PRESENT, Period

BY = ("school", "room")


@dataclass
class AttendanceRow:
    key: int | None
    label: str
    periods: set[int] = field(default_factory=set)
    counts: dict[str, int] = field(
        default_factory=lambda: {PRESENT: 0, LATE: 0, ABSENT: 0, EXCUSED: 0}
    )

    @property
    def marks(self) -> int:
        return sum(self.counts.values())

    @property
    def rate(self) -> float:
        """Present or late, of every learner-period (excused ones count as not there)."""
        return (self.counts[PRESENT] + self.counts[LATE]) / self.marks if self.marks else 0.0


def attendance(
    by: str, month: str, now: datetime, school_id: int | None = None
) -> list[AttendanceRow]:
    """Rows by school or room for the local month "YYYY-MM" (ServiceError if malformed)."""
    lo, hi = month_bounds(month)
    query = (
        select(Period.id, Room.id, Room.name, School.id, School.name)
        .outerjoin(Room, Room.id == Period.room_id)
        .outerjoin(School, School.id == Room.school_id)
        .where(Period.started_at >= lo, Period.started_at < hi)
    )
    if school_id:
        query = query.where(School.id == school_id)
    places = {row[0]: row[1:] for row in db.session.execute(query)}
    if not places:
        return []
    rows: dict[int | None, AttendanceRow] = {}
    key_of: dict[int, int | None] = {}
    for period_id, (room_id, room, school_key, school) in places.items():
        if by == "room":
            key, label = room_id, f"{school} · {room}" if room_id else _("No room")
        else:
            key, label = school_key, school or _("No school")
        rows.setdefault(key, AttendanceRow(key, label)).periods.add(period_id)
        key_of[period_id] = key
    for (period_id, _user_id), mark in marks(list(places), now).items():
        rows[key_of[period_id]].counts[mark.status] += 1
    return sorted(rows.values(), key=lambda r: r.label)


def total(rows: list[AttendanceRow]) -> AttendanceRow:
    whole = AttendanceRow(None, "")
    for row in rows:
        whole.periods |= row.periods
        for status, n in row.counts.items():
            whole.counts[status] += n
    return whole


CSV_HEADER = ("periods", "present", "late", "absent", "excused", "attendance_rate")


def csv_rows(rows: list[AttendanceRow]):
    for r in rows:
        yield (
            r.label, len(r.periods), r.counts[PRESENT], r.counts[LATE], r.counts[ABSENT],
            r.counts[EXCUSED], f"{r.rate:.4f}",
        )  # fmt: skip
