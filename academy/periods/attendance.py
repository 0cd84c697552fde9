"""Attendance in a period (worked out from who signed in or worked, corrected by the teacher)
and the end of the period (signing out the room's computers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, case, delete, func, literal, select
from sqlalchemy.sql import ColumnElement

from academy.auth.models import User, UserSession
from academy.classes.models import Class, ClassMember
from academy.classes.services import members_of
from academy.core.clock import local_month_start
from academy.core.db import UTCDateTime
from academy.core.errors import ServiceError
from academy.extensions import db
from academy.periods import services
from academy.periods.models import (
    ABSENT,
    ATTENDANCE_STATUSES,
    LATE,
    PRESENT,
    Attendance,
    Period,
)
from academy.progress.models import ProgressEvent
from academy.quizzes.models import Attempt

# --- attendance -------------------------------------------------------------------------------


@dataclass
class Mark:
    """One learner in one period: the teacher's word if there is one, else read from when the
    learner was first seen (present, late after LATE_AFTER, absent if never)."""

    status: str
    note: str
    first_seen_at: datetime | None
    corrected: bool


@dataclass
class AttendanceRow(Mark):
    user: User | None = None


def _window_end(now: datetime) -> ColumnElement:
    """A period's end as SQL: when it ended, its set end once past, or now while it runs
    (services.window_end, for many periods in one statement)."""
    return case(
        (Period.ended_at.is_not(None), Period.ended_at),
        (Period.ends_at < now, Period.ends_at),
        else_=literal(now, UTCDateTime()),
    )


def _first_seen(period_ids: Select | list[int], now: datetime) -> dict[tuple[int, int], datetime]:
    """When each member was first seen in each period: signed in, opened or finished a lesson,
    or started a quiz. Three grouped statements for any number of periods."""
    until = _window_end(now)
    members = Period.__table__.join(ClassMember, ClassMember.class_id == Period.class_id)
    sources = (
        (User.last_seen_at, User.__table__, User.id == ClassMember.user_id, None),
        (
            ProgressEvent.at,
            ProgressEvent.__table__,
            ProgressEvent.user_id == ClassMember.user_id,
            ProgressEvent.kind != "enrolled",  # a class enrolment is no sign of the learner
        ),
        (Attempt.started_at, Attempt.__table__, Attempt.user_id == ClassMember.user_id, None),
    )
    first: dict[tuple[int, int], datetime] = {}
    for at, table, on, extra in sources:
        query = (
            select(Period.id, ClassMember.user_id, func.min(at))
            .select_from(members.join(table, on))
            .where(Period.id.in_(period_ids), at >= Period.started_at, at <= until)
            .group_by(Period.id, ClassMember.user_id)
        )
        if extra is not None:
            query = query.where(extra)
        for period_id, user_id, seen_at in db.session.execute(query):
            key = (period_id, user_id)
            if seen_at is not None and (key not in first or seen_at < first[key]):
                first[key] = seen_at
    return first


def marks(period_ids: Select | list[int], now: datetime) -> dict[tuple[int, int], Mark]:
    """(period id, user id) -> Mark for every member of each period's class: five statements
    whatever the number of periods (a class's month, a city's month in the reports)."""
    started = dict(
        db.session.execute(
            select(Period.id, Period.started_at).where(Period.id.in_(period_ids))
        ).all()
    )
    pairs = db.session.execute(
        select(Period.id, ClassMember.user_id)
        .join(ClassMember, ClassMember.class_id == Period.class_id)
        .where(Period.id.in_(period_ids))
    ).all()
    stored = {
        (a.period_id, a.user_id): a
        for a in db.session.scalars(select(Attendance).where(Attendance.period_id.in_(period_ids)))
    }
    first = _first_seen(period_ids, now)
    result = {}
    for key in pairs:
        key = tuple(key)
        seen_at = first.get(key)
        if key in stored:
            row = stored[key]
            result[key] = Mark(row.status, row.note or "", seen_at, True)
        elif seen_at is None:
            result[key] = Mark(ABSENT, "", None, False)
        else:
            late = seen_at - started[key[0]] > services.LATE_AFTER
            result[key] = Mark(LATE if late else PRESENT, "", seen_at, False)
    return result


def attendance(period: Period, klass: Class, now: datetime) -> list[AttendanceRow]:
    """Each member's attendance in the period, in name order."""
    found = marks([period.id], now)
    rows = []
    for member in members_of(klass):
        mark = found.get((period.id, member.id)) or Mark(ABSENT, "", None, False)
        rows.append(AttendanceRow(**vars(mark), user=member))
    return rows


def correct_attendance(
    period: Period, klass: Class, by: User, entries: dict[int, tuple[str, str]], now: datetime
) -> int:
    """Save the teacher's screen: {user id: (status, note)}. Everything is checked before
    anything is written, so one bad line saves nothing. Returns how many rows changed."""
    members = {m.id: m for m in members_of(klass)}
    for user_id, (status, note) in entries.items():
        if user_id not in members:
            raise ServiceError(_("Learner %(id)d is not in this class.", id=user_id))
        if status not in ATTENDANCE_STATUSES:
            raise ServiceError(
                _(
                    "%(name)s: %(status)s is not present, late, absent or excused.",
                    name=members[user_id].full_name,
                    status=status,
                )
            )
        if len(note) > 500:
            raise ServiceError(
                _(
                    "%(name)s: the note is longer than 500 characters.",
                    name=members[user_id].full_name,
                )
            )
    current = {row.user.id: row for row in attendance(period, klass, now)}
    stored = {
        a.user_id: a
        for a in db.session.scalars(select(Attendance).where(Attendance.period_id == period.id))
    }
    changed = 0
    for user_id, (status, note) in entries.items():
        row = current[user_id]
        if row.status == status and row.note == note.strip():
            continue
        record = stored.get(user_id) or Attendance(period_id=period.id, user_id=user_id)
        record.status, record.note = status, note.strip() or None
        record.updated_by_id, record.updated_at = by.id, now
        db.session.add(record)
        changed += 1
    return changed


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The UTC instants a local month "YYYY-MM" (core/clock.py) starts and ends at."""
    try:
        first = datetime.strptime(month, "%Y-%m")
    except ValueError:
        raise ServiceError(_("A month is written YYYY-MM, e.g. 2026-12."), "month") from None
    lo = local_month_start(first.year, first.month)
    return lo, local_month_start(first.year + first.month // 12, first.month % 12 + 1)


def periods_in_month(klass: Class, month: str) -> list[Period]:
    """The class's periods that started in a local month "YYYY-MM"."""
    lo, hi = month_bounds(month)
    return list(
        db.session.scalars(
            select(Period)
            .where(Period.class_id == klass.id, Period.started_at >= lo, Period.started_at < hi)
            .order_by(Period.started_at)
        )
    )


@dataclass
class ClassMonth:
    """A class's attendance in a local month: its periods, its learners, and each mark."""

    periods: list[Period]
    learners: list[User]
    marks: dict[tuple[int, int], Mark]

    def mark(self, period: Period, learner: User) -> Mark:
        return self.marks.get((period.id, learner.id)) or Mark(ABSENT, "", None, False)

    def totals(self, learner: User) -> dict[str, int]:
        counts = dict.fromkeys(ATTENDANCE_STATUSES, 0)
        for period in self.periods:
            counts[self.mark(period, learner).status] += 1
        return counts


def class_month(klass: Class, month: str, now: datetime) -> ClassMonth:
    """The month's grid for the teacher's page and the CSV, in a fixed number of queries."""
    periods = periods_in_month(klass, month)
    found = marks([p.id for p in periods], now) if periods else {}
    return ClassMonth(periods, members_of(klass), found)


# --- the end of the period --------------------------------------------------------------------


def sign_out_room(period: Period, klass: Class, now: datetime) -> int:
    """End every session of the class's learners that began during the period (their rows go,
    so the cookie on the shared PC stops working at its next request); a learner's session
    begun elsewhere, before or after, stays. Returns how many sessions ended."""
    learners = (
        select(ClassMember.user_id)
        .join(User, User.id == ClassMember.user_id)
        .where(ClassMember.class_id == klass.id, User.role == "learner")
    )
    result = db.session.execute(
        delete(UserSession)
        .where(
            UserSession.user_id.in_(learners),
            UserSession.created_at >= period.started_at,
            UserSession.created_at <= services.window_end(period, now),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
