"""Completion and activity figures, aggregated by the database (GROUP BY), never by Python
loops over rows. Sources: enrolments (who should take what), course_progress (one row per
learner and course: started, completed) and progress_events (activity, indexed by time).

Definitions (also shown on the page):
- enrolled: learner-course pairs (a learner in 3 courses counts 3 times); learners: distinct;
- started: pairs with a first lesson or quiz activity; completed: pairs with completed_at;
- completion rate: completed / enrolled;
- active learners in a month: distinct learners with at least one progress event that month
  (Bangkok time), read from the learner_month_activity rollup progress writes with each event.
By room and by programme, the pairs are the class's members times the class's courses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, distinct, func, literal, select
from sqlalchemy.sql import ColumnElement, Select

from academy.auth.models import User
from academy.classes.models import Class, ClassCourse, ClassMember, Programme, Room, School
from academy.core.clock import local_month_key, local_month_keys, local_month_start, month_key_sql
from academy.courses.models import Course, Enrolment, Track
from academy.extensions import db
from academy.progress.models import CourseProgress, LearnerMonthActivity

DIMENSIONS = ("school", "room", "programme", "track", "course")


@dataclass(frozen=True)
class Filters:
    school_id: int | None = None
    programme_id: int | None = None
    track_id: int | None = None
    course_id: int | None = None
    months: int = 12

    def as_args(self) -> dict:
        return {
            k: v
            for k, v in (
                ("school", self.school_id),
                ("programme", self.programme_id),
                ("track", self.track_id),
                ("course", self.course_id),
            )
            if v
        }


@dataclass(frozen=True)
class Row:
    key: int | None
    label: str
    enrolled: int
    learners: int
    started: int
    completed: int

    @property
    def rate(self) -> float:
        return self.completed / self.enrolled if self.enrolled else 0.0


def _pairs(dimension: str):
    """(user column, course column, from-clause, group key, label) for a dimension."""
    if dimension in ("room", "programme"):
        cm, cc, k = ClassMember.__table__, ClassCourse.__table__, Class.__table__
        source = cm.join(cc, cc.c.class_id == cm.c.class_id).join(k, k.c.id == cm.c.class_id)
        user_col, course_col = cm.c.user_id, cc.c.course_id
        if dimension == "room":
            r, s = Room.__table__, School.__table__
            source = source.join(r, r.c.id == k.c.room_id).join(s, s.c.id == r.c.school_id)
            return user_col, course_col, source, r.c.id, s.c.name + literal(" · ") + r.c.name
        p = Programme.__table__
        source = source.join(p, p.c.id == k.c.programme_id)
        return user_col, course_col, source, p.c.id, p.c.name
    e = Enrolment.__table__
    if dimension == "school":
        u, s = User.__table__, School.__table__
        source = e.join(u, u.c.id == e.c.user_id).outerjoin(s, s.c.id == u.c.school_id)
        return e.c.user_id, e.c.course_id, source, s.c.id, s.c.name
    c = Course.__table__
    if dimension == "track":
        t = Track.__table__
        source = e.join(c, c.c.id == e.c.course_id).outerjoin(t, t.c.id == c.c.track_id)
        return e.c.user_id, e.c.course_id, source, t.c.id, t.c.name_th
    if dimension == "course":
        source = e.join(c, c.c.id == e.c.course_id)
        return e.c.user_id, e.c.course_id, source, c.c.id, c.c.title_th
    raise ValueError(f"unknown dimension {dimension!r}")


def _filter_clauses(filters: Filters, user_col, course_col) -> list[ColumnElement]:
    clauses = []
    if filters.school_id:
        clauses.append(user_col.in_(select(User.id).where(User.school_id == filters.school_id)))
    if filters.programme_id:
        clauses.append(
            user_col.in_(
                select(ClassMember.user_id)
                .join(Class, Class.id == ClassMember.class_id)
                .where(Class.programme_id == filters.programme_id)
            )
        )
    if filters.course_id:
        clauses.append(course_col == filters.course_id)
    if filters.track_id:
        clauses.append(course_col.in_(select(Course.id).where(Course.track_id == filters.track_id)))
    return clauses


def completion_query(dimension: str, filters: Filters) -> Select:
    user_col, course_col, source, key, label = _pairs(dimension)
    cp = CourseProgress.__table__
    source = source.outerjoin(cp, and_(cp.c.user_id == user_col, cp.c.course_id == course_col))
    return (
        select(
            key.label("key"),
            label.label("label"),
            func.count().label("enrolled"),
            func.count(distinct(user_col)).label("learners"),
            func.count(cp.c.first_activity_at).label("started"),
            func.count(cp.c.completed_at).label("completed"),
        )
        .select_from(source)
        .where(*_filter_clauses(filters, user_col, course_col))
        .group_by(key, label)
        .order_by(label)
    )


def completion(dimension: str, filters: Filters) -> list[Row]:
    return [
        Row(r.key, r.label or "", r.enrolled, r.learners, r.started, r.completed)
        for r in db.session.execute(completion_query(dimension, filters))
    ]


def totals(rows: list[Row]) -> Row:
    return Row(
        None, "",
        sum(r.enrolled for r in rows), sum(r.learners for r in rows),
        sum(r.started for r in rows), sum(r.completed for r in rows),
    )  # fmt: skip


def month_of(column) -> ColumnElement:
    return month_key_sql(column, db.engine.dialect.name)


@dataclass(frozen=True)
class Month:
    month: str
    started: int
    completed: int
    active: int


def _since(months: int, now: datetime | None = None) -> datetime:
    first = local_month_keys(months, now)[0]
    year, month = (int(x) for x in first.split("-"))
    return local_month_start(year, month)


def active_query(filters: Filters, since: datetime) -> Select:
    """Distinct learners per month from the rollup progress keeps as events arrive (one row
    per month, learner and course; enrolments are not activity): it grows with learners, not
    with events."""
    activity = LearnerMonthActivity
    return (
        select(activity.month.label("month"), func.count(distinct(activity.user_id)).label("n"))
        .where(
            activity.month >= local_month_key(since),
            *_filter_clauses(filters, activity.user_id, activity.course_id),
        )
        .group_by(activity.month)
    )


def monthly(filters: Filters, now: datetime | None = None) -> list[Month]:
    """Started, completed and active learners per month, three GROUP BY queries."""
    since = _since(filters.months, now)
    clauses = _filter_clauses(filters, CourseProgress.user_id, CourseProgress.course_id)
    started_month = month_of(CourseProgress.first_activity_at)
    started = dict(
        db.session.execute(
            select(started_month, func.count())
            .where(CourseProgress.first_activity_at >= since, *clauses)
            .group_by(started_month)
        ).all()
    )
    done_month = month_of(CourseProgress.completed_at)
    completed = dict(
        db.session.execute(
            select(done_month, func.count())
            .where(CourseProgress.completed_at >= since, *clauses)
            .group_by(done_month)
        ).all()
    )
    active = dict(db.session.execute(active_query(filters, since)).all())
    return [
        Month(m, started.get(m, 0), completed.get(m, 0), active.get(m, 0))
        for m in local_month_keys(filters.months, now)
    ]


DETAIL_HEADER = (
    "school", "username", "full_name", "course", "track", "enrolled_at", "started_at",
    "percent", "completed_at",
)  # fmt: skip


def detail_rows(filters: Filters, batch: int = 2000) -> Iterator[tuple]:
    """One row per learner and course, read through a server-side cursor in batches, so a
    whole city streams out in constant memory."""
    e, u, s, c, t = (
        Enrolment.__table__, User.__table__, School.__table__, Course.__table__, Track.__table__,
    )  # fmt: skip
    cp = CourseProgress.__table__
    query = (
        select(
            s.c.name,
            u.c.username,
            u.c.full_name,
            c.c.slug,
            t.c.slug,
            e.c.created_at,
            cp.c.first_activity_at,
            case((cp.c.percent.is_(None), 0), else_=cp.c.percent),
            cp.c.completed_at,
        )
        .select_from(
            e.join(u, u.c.id == e.c.user_id)
            .outerjoin(s, s.c.id == u.c.school_id)
            .join(c, c.c.id == e.c.course_id)
            .outerjoin(t, t.c.id == c.c.track_id)
            .outerjoin(cp, and_(cp.c.user_id == e.c.user_id, cp.c.course_id == e.c.course_id))
        )
        .where(*_filter_clauses(filters, e.c.user_id, e.c.course_id))
        .order_by(e.c.id)
        .execution_options(yield_per=batch)
    )
    yield from db.session.execute(query)


def filter_choices() -> dict[str, list[tuple[int, str]]]:
    return {
        "school": db.session.execute(select(School.id, School.name).order_by(School.name)).all(),
        "programme": db.session.execute(
            select(Programme.id, Programme.name).order_by(Programme.name)
        ).all(),
        "track": db.session.execute(select(Track.id, Track.name_th).order_by(Track.position)).all(),
        "course": db.session.execute(
            select(Course.id, Course.title_th).order_by(Course.title_th)
        ).all(),
    }
