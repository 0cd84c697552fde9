from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from academy.core.db import GlobalId, Stamped, UTCDateTime, utcnow
from academy.extensions import db


class ProgressEvent(GlobalId, Stamped, db.Model):
    """Append-only history: every report can be rebuilt from these rows."""

    __tablename__ = "progress_events"
    __table_args__ = (
        Index("ix_progress_events_user_course", "user_id", "course_id"),
        Index("ix_progress_events_course_at", "course_id", "at"),
        Index("ix_progress_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))  # one of the EVENT_* names in services
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id", ondelete="SET NULL"))
    quiz_id: Mapped[int | None] = mapped_column(ForeignKey("quizzes.id", ondelete="SET NULL"))
    value: Mapped[float | None] = mapped_column(Float)  # a score, or seconds spent
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LearnerMonthActivity(Stamped, db.Model):
    """Rollup of progress_events for "active learners per month": one row per Bangkok month,
    learner and course with any activity (an enrolment is not activity). Written with the event
    in the same transaction (INSERT ... ON CONFLICT DO NOTHING), so the report counts rows per
    month instead of scanning every event; `rebuild_month_activity()` rebuilds it from events."""

    __tablename__ = "learner_month_activity"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "YYYY-MM", Bangkok time
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )


class LessonProgress(Stamped, db.Model):
    __tablename__ = "lesson_progress"
    __table_args__ = (Index("ix_lesson_progress_course_user", "course_id", "user_id"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    lesson_id: Mapped[int] = mapped_column(
        ForeignKey("lessons.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    first_viewed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    seconds_spent: Mapped[int] = mapped_column(Integer, default=0)


class QuizResult(Stamped, db.Model):
    """The score that counts for a learner and a quiz (best or last, as the quiz says)."""

    __tablename__ = "quiz_results"
    __table_args__ = (Index("ix_quiz_results_course_user", "course_id", "user_id"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    quiz_id: Mapped[int] = mapped_column(
        ForeignKey("quizzes.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    percent: Mapped[float] = mapped_column(Float, default=0)
    best_percent: Mapped[float] = mapped_column(Float, default=0)
    last_percent: Mapped[float] = mapped_column(Float, default=0)
    passed: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CourseProgress(Stamped, db.Model):
    """One row per learner and course, kept current as events arrive, so dashboards and
    reports read totals instead of counting events."""

    __tablename__ = "course_progress"
    __table_args__ = (
        Index("ix_course_progress_course_completed", "course_id", "completed_at"),
        Index("ix_course_progress_completed_at", "completed_at"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    items_done: Mapped[int] = mapped_column(Integer, default=0)
    items_total: Mapped[int] = mapped_column(Integer, default=0)
    percent: Mapped[float] = mapped_column(Float, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)  # enrolled
    # The learner's first view, answer or tick in the course; None: never started.
    first_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_lesson_id: Mapped[int | None] = mapped_column(
        ForeignKey("lessons.id", ondelete="SET NULL")
    )
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
