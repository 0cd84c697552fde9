"""The completion rollup the reports read, and the indexes they need on other features' tables.

The rollup tables are written by the database alone: triggers on the rows they count
(academy/reports/rollup.py) keep them in the transaction that changes those rows, whatever wrote
them (a request, a command, a bulk statement, a cascade, a school's sync batch). The reports
themselves write nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from academy.extensions import db
from academy.progress.models import CourseProgress

# "Active learners per month" reads progress's learner_month_activity rollup (its primary key,
# month first, serves the range), so progress_events needs no index of ours.
# "Started per month": a learner has started a course at their first lesson or quiz activity
# (enrolling alone creates the course_progress row with first_activity_at empty).
ix_course_progress_first_activity_at = Index(
    "ix_course_progress_first_activity_at", CourseProgress.first_activity_at
)


class CompletionCount(db.Model):
    """The pairs the completion reports count, summed per (class, learner's school, course):
    class_id 0 holds the enrolments (by school, track and course), a class's row its members
    times its courses (by room and programme). school_id 0: learners without a school."""

    __tablename__ = "report_completion"

    class_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    enrolled: Mapped[int] = mapped_column(Integer, default=0)
    started: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)


class CompletionLearner(db.Model):
    """A learner's pairs in one group of a report (dimension "school", "track", "room" or
    "programme"; group_id 0: no school, no track), so "learners" is a count of rows, distinct
    by construction. school_id is the learner's, for the school filter."""

    __tablename__ = "report_learners"
    __table_args__ = (Index("ix_report_learners_dimension_school", "dimension", "school_id"),)

    dimension: Mapped[str] = mapped_column(String(12), primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    school_id: Mapped[int] = mapped_column(Integer)
    pairs: Mapped[int] = mapped_column(Integer, default=0)


@event.listens_for(db.metadata, "after_create")
def _install_rollup(_target: Any, connection: Any, **_kw: Any) -> None:
    # create_all (tests, a fresh instance) gets the same triggers as the migration installs.
    from academy.reports import rollup

    rollup.install(connection)
