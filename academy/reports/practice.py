"""Practical work: assignments handed in, reviewed and passed, with the median wait from hand-in
to review, by month, class and programme; milestones reached by programme (track), province
(the place of the learner's programme) and month. Counts are GROUP BYs in the database; the
median is taken in Python from one row per review, because SQLite has no median."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, and_, cast, distinct, func, select

from academy.assignments.models import Review, Submission
from academy.classes.models import Class, ClassCourse, ClassMember, Programme
from academy.coaching.models import Milestone, MilestoneReached
from academy.core.clock import local_date
from academy.courses.models import Track
from academy.extensions import db
from academy.reports.services import _since, month_of

ASSIGNMENT_HEADER = (
    "month", "class", "programme", "handed_in", "reviewed", "passed", "median_hours_to_review",
)  # fmt: skip
MILESTONE_HEADER = ("month", "programme", "milestone", "province", "reached")


@dataclass
class AssignmentRow:
    month: str
    klass: str
    programme: str
    handed_in: int = 0
    reviewed: int = 0
    passed: int = 0
    median_hours: float | None = None

    def cells(self) -> tuple:
        median = "" if self.median_hours is None else f"{self.median_hours:.1f}"
        return (self.month, self.klass, self.programme, self.handed_in, self.reviewed,
                self.passed, median)  # fmt: skip


def _in_classes():
    """A hand-in belongs to each class of the learner that takes the hand-in's course."""
    return (
        select(Submission)
        .join(ClassMember, ClassMember.user_id == Submission.user_id)
        .join(
            ClassCourse,
            and_(
                ClassCourse.class_id == ClassMember.class_id,
                ClassCourse.course_id == Submission.course_id,
            ),
        )
        .join(Class, Class.id == ClassMember.class_id)
        .outerjoin(Programme, Programme.id == Class.programme_id)
    )


def assignments(months: int = 12, now: datetime | None = None) -> list[AssignmentRow]:
    """Rows by month and class, newest month first (two queries)."""
    since = _since(months, now)
    rows: dict[tuple[str, int], AssignmentRow] = {}

    def row(month: str, class_id: int, name: str, programme: str | None) -> AssignmentRow:
        return rows.setdefault((month, class_id), AssignmentRow(month, name, programme or ""))

    handed_month = month_of(Submission.submitted_at)
    handed = (
        _in_classes()
        .with_only_columns(handed_month, Class.id, Class.name, Programme.name, func.count())
        .where(Submission.submitted_at >= since)
        .group_by(handed_month, Class.id, Class.name, Programme.name)
    )
    for month, class_id, name, programme, count in db.session.execute(handed):
        row(month, class_id, name, programme).handed_in = count
    waits: dict[tuple[str, int], list[float]] = {}
    reviewed_month = month_of(Review.reviewed_at)
    reviews = (
        _in_classes()
        .join(Review, Review.submission_id == Submission.id)
        .with_only_columns(
            reviewed_month,
            Class.id,
            Class.name,
            Programme.name,
            Review.passed,
            Submission.submitted_at,
            Review.reviewed_at,
        )
        .where(Review.reviewed_at >= since)
    )
    for month, class_id, name, programme, passed, handed_at, reviewed_at in db.session.execute(
        reviews
    ):
        entry = row(month, class_id, name, programme)
        entry.reviewed += 1
        entry.passed += int(bool(passed))
        hours = max(0.0, (reviewed_at - handed_at).total_seconds() / 3600)
        waits.setdefault((month, class_id), []).append(hours)
    for key, hours in waits.items():
        rows[key].median_hours = statistics.median(hours)
    return sorted(rows.values(), key=lambda r: (r.month, r.klass), reverse=True)


@dataclass(frozen=True)
class MilestoneRow:
    month: str
    programme: str
    milestone: str
    province: str
    reached: int


def milestones(months: int = 12, now: datetime | None = None) -> list[MilestoneRow]:
    """Learners who reached each milestone, by month, programme and province (one query). A
    learner in two classes of one province counts once there."""
    since = local_date(_since(months, now))
    month = func.substr(cast(MilestoneReached.reached_on, String), 1, 7)
    query = (
        select(
            month,
            Track.name_th,
            Milestone.title_th,
            Programme.place,
            func.count(distinct(MilestoneReached.id)),
        )
        .join(Milestone, Milestone.id == MilestoneReached.milestone_id)
        .join(Track, Track.id == Milestone.track_id)
        .outerjoin(ClassMember, ClassMember.user_id == MilestoneReached.user_id)
        .outerjoin(Class, Class.id == ClassMember.class_id)
        .outerjoin(Programme, Programme.id == Class.programme_id)
        .where(MilestoneReached.reached_on >= since)
        .group_by(month, Track.name_th, Milestone.title_th, Programme.place)
    )
    found = [
        MilestoneRow(m, track, title, place or "", n)
        for m, track, title, place, n in db.session.execute(query)
    ]
    return sorted(
        found, key=lambda r: (r.month, r.programme, r.milestone, r.province), reverse=True
    )
