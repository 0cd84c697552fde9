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

The completion reports read the rollup the database keeps with those rows (`rollup_query`;
academy/reports/rollup.py, docs/reports.md); `completion_query` counts the same from the rows,
for the filters the rollup does not hold and for the tests that compare the two.
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
from academy.reports.models import CompletionCount, CompletionLearner

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


def rollup_answers(dimension: str, filters: Filters) -> bool:
    """Whether the rollup holds this report: it keeps each learner's school, and the course of
    each pair, so every report and the school, track and course filters, except the filters
    that cut across a class's pairs (a programme; a track or course by room or programme),
    which read the rows."""
    if filters.programme_id:
        return False
    return dimension not in ("room", "programme") or not (filters.track_id or filters.course_id)


def rollup_query(dimension: str, filters: Filters) -> Select:
    """The same rows as `completion_query`, summed from the rollup (report_completion: the
    pairs per class, school and course; report_learners: one row per learner and group)."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}")
    rc, rl, c = CompletionCount.__table__, CompletionLearner.__table__, Course.__table__
    k = Class.__table__
    by_class = dimension in ("room", "programme")
    counts_from = rc.join(c, c.c.id == rc.c.course_id)
    if by_class:
        counts_from = counts_from.join(k, k.c.id == rc.c.class_id)
    group = {
        "school": rc.c.school_id,
        "track": func.coalesce(c.c.track_id, 0),
        "course": rc.c.course_id,
        "room": k.c.room_id if by_class else None,
        "programme": k.c.programme_id if by_class else None,
    }[dimension]
    where = [rc.c.class_id != 0 if by_class else rc.c.class_id == 0]
    if by_class:
        where.append(group.isnot(None))
    if filters.school_id:
        where.append(rc.c.school_id == filters.school_id)
    if filters.course_id:
        where.append(rc.c.course_id == filters.course_id)
    if filters.track_id:
        where.append(c.c.track_id == filters.track_id)
    counts = (
        select(
            group.label("g"),
            func.sum(rc.c.enrolled).label("enrolled"),
            func.sum(rc.c.started).label("started"),
            func.sum(rc.c.completed).label("completed"),
        )
        .select_from(counts_from)
        .where(*where)
        .group_by(group)
        .subquery("counts")
    )
    if dimension == "course" or filters.course_id:
        # One enrolment per learner and course: in a course, pairs are learners.
        learners_col, source = counts.c.enrolled, counts
    else:
        # By school with a track filter: the learners of each school in that track.
        kind = "track" if dimension == "school" and filters.track_id else dimension
        learner_group = rl.c.school_id if dimension == "school" else rl.c.group_id
        conditions = [rl.c.dimension == kind]
        if filters.school_id:
            conditions.append(rl.c.school_id == filters.school_id)
        if filters.track_id:
            conditions.append(rl.c.group_id == filters.track_id)
        learners = (
            select(learner_group.label("g"), func.count().label("learners"))
            .where(*conditions)
            .group_by(learner_group)
            .subquery("learners")
        )
        learners_col = learners.c.learners
        source = counts.join(learners, learners.c.g == counts.c.g)
    if dimension == "school":
        s = School.__table__
        source = source.outerjoin(s, s.c.id == counts.c.g)
        key, label = s.c.id, s.c.name
    elif dimension == "track":
        t = Track.__table__
        source = source.outerjoin(t, t.c.id == counts.c.g)
        key, label = t.c.id, t.c.name_th
    elif dimension == "course":
        source = source.join(c, c.c.id == counts.c.g)
        key, label = c.c.id, c.c.title_th
    elif dimension == "room":
        r, s = Room.__table__, School.__table__
        source = source.join(r, r.c.id == counts.c.g).join(s, s.c.id == r.c.school_id)
        key, label = r.c.id, s.c.name + literal(" · ") + r.c.name
    else:
        p = Programme.__table__
        source = source.join(p, p.c.id == counts.c.g)
        key, label = p.c.id, p.c.name
    return (
        select(
            key.label("key"),
            label.label("label"),
            counts.c.enrolled,
            learners_col.label("learners"),
            counts.c.started,
            counts.c.completed,
        )
        .select_from(source)
        .order_by(label, key)
    )


def report_query(dimension: str, filters: Filters) -> Select:
    """The statement a report runs: the rollup's when it holds the report, else the rows'."""
    if rollup_answers(dimension, filters):
        return rollup_query(dimension, filters)
    return completion_query(dimension, filters)


def completion(dimension: str, filters: Filters) -> list[Row]:
    return rows_of(report_query(dimension, filters))


def rows_of(query: Select) -> list[Row]:
    return [
        Row(r.key, r.label or "", int(r.enrolled), int(r.learners), int(r.started),
            int(r.completed))
        for r in db.session.execute(query)
    ]  # fmt: skip


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
