from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.core.clock import utcnow
from academy.core.db import GlobalId, Stamped, UTCDateTime
from academy.extensions import db

LESSON = "lesson"
QUIZ = "quiz"

PRESENT = "present"
LATE = "late"
ABSENT = "absent"
EXCUSED = "excused"
ATTENDANCE_STATUSES = (PRESENT, LATE, ABSENT, EXCUSED)


class Period(GlobalId, Stamped, db.Model):
    """One lesson period of a class in a room. It runs while `ended_at` is empty and
    `ends_at` lies ahead: a period nobody ended stops by itself at `ends_at` (compared with
    the stored UTC time on every read), so a restart or a sleeping server never keeps it open.
    """

    __tablename__ = "periods"
    __table_args__ = (
        # One unfinished period per class, enforced by the database (two teachers pressing
        # Start at once). A period past its ends_at is closed before the next one starts.
        Index(
            "uq_periods_open_class",
            "class_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        Index("ix_periods_class_started", "class_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="SET NULL"))
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    follow_me: Mapped[bool] = mapped_column(Boolean, default=False)
    current_position: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped on every change the learners' pages must see: their poll's ETag carries it.
    version: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    items: Mapped[list[PeriodItem]] = relationship(
        order_by="PeriodItem.position", cascade="all, delete-orphan"
    )

    def running(self, now: datetime) -> bool:
        return self.ended_at is None and now < self.ends_at

    def finished_at(self, now: datetime) -> datetime | None:
        """When it ended (by the teacher or by its length), or None while it runs."""
        if self.ended_at is not None:
            return self.ended_at
        return self.ends_at if now >= self.ends_at else None


class PeriodItem(db.Model):
    """Today's items, in the teacher's order: a lesson or a quiz of one of the class's courses."""

    __tablename__ = "period_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))  # LESSON | QUIZ
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    quiz_id: Mapped[int | None] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    # A quiz that opens only in a period: when the teacher opened and closed it here, and the
    # start code of this opening (4 digits shown on the projector; a new one at each opening).
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    start_code: Mapped[str | None] = mapped_column(String(4))

    def is_open(self) -> bool:
        return self.opened_at is not None and self.closed_at is None


class Attendance(Stamped, db.Model):
    """The teacher's word on one learner in one period. Without a row, attendance is read
    from what the learner did during the period (services.attendance)."""

    __tablename__ = "period_attendance"

    period_id: Mapped[int] = mapped_column(
        ForeignKey("periods.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    status: Mapped[str] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
