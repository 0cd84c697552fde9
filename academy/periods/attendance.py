"""Attendance in a period (worked out from who signed in or worked, corrected by the teacher)
and the end of the period (signing out the room's computers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from academy.auth.models import User, UserSession
from academy.classes.models import Class, ClassMember
from academy.classes.services import members_of
from academy.core.clock import local_month_start
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
class AttendanceRow:
    user: User
    status: str
    note: str
    first_seen_at: datetime | None
    corrected: bool


def _first_seen(period: Period, member_ids: list[int], now: datetime) -> dict[int, datetime]:
    """When each learner was first seen in the period: signed in, opened or finished a lesson,
    or started a quiz."""
    start_, until = period.started_at, services.window_end(period, now)
    first: dict[int, datetime] = {}

    def seen(user_id: int, at: datetime | None) -> None:
        if (
            at is not None
            and start_ <= at <= until
            and (user_id not in first or at < first[user_id])
        ):
            first[user_id] = at

    for user_id, at in db.session.execute(
        select(User.id, User.last_seen_at).where(User.id.in_(member_ids))
    ):
        seen(user_id, at)
    for user_id, at in db.session.execute(
        select(ProgressEvent.user_id, func.min(ProgressEvent.at))
        .where(
            ProgressEvent.user_id.in_(member_ids),
            ProgressEvent.kind != "enrolled",  # a class enrolment is no sign of the learner
            ProgressEvent.at >= start_,
            ProgressEvent.at <= until,
        )
        .group_by(ProgressEvent.user_id)
    ):
        seen(user_id, at)
    for user_id, at in db.session.execute(
        select(Attempt.user_id, func.min(Attempt.started_at))
        .where(
            Attempt.user_id.in_(member_ids),
            Attempt.started_at >= start_,
            Attempt.started_at <= until,
        )
        .group_by(Attempt.user_id)
    ):
        seen(user_id, at)
    return first


def attendance(period: Period, klass: Class, now: datetime) -> list[AttendanceRow]:
    """Each member's attendance: the teacher's correction if there is one, else read from
    when the learner was first seen (present, late after LATE_AFTER, absent if never)."""
    members = members_of(klass)
    first = _first_seen(period, [m.id for m in members], now)
    stored = {
        a.user_id: a
        for a in db.session.scalars(select(Attendance).where(Attendance.period_id == period.id))
    }
    rows = []
    for member in members:
        seen_at = first.get(member.id)
        if member.id in stored:
            row = stored[member.id]
            rows.append(AttendanceRow(member, row.status, row.note or "", seen_at, True))
            continue
        if seen_at is None:
            status = ABSENT
        else:
            status = LATE if seen_at - period.started_at > services.LATE_AFTER else PRESENT
        rows.append(AttendanceRow(member, status, "", seen_at, False))
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


def periods_in_month(klass: Class, month: str) -> list[Period]:
    """The class's periods that started in a local month "YYYY-MM" (core/clock.py)."""
    try:
        first = datetime.strptime(month, "%Y-%m")
    except ValueError:
        raise ServiceError(_("A month is written YYYY-MM, e.g. 2026-12."), "month") from None
    lo = local_month_start(first.year, first.month)
    hi = local_month_start(first.year + first.month // 12, first.month % 12 + 1)
    return list(
        db.session.scalars(
            select(Period)
            .where(Period.class_id == klass.id, Period.started_at >= lo, Period.started_at < hi)
            .order_by(Period.started_at)
        )
    )


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
