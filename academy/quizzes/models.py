from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.core.db import GlobalId, Stamped, UTCDateTime, utcnow
from academy.courses.outline_cache import follow
from academy.extensions import db

OPEN = "open"
SUBMITTED = "submitted"

BEST = "best"
LAST = "last"

AFTER_SUBMIT = "after_submit"
AFTER_LAST_ATTEMPT = "after_last_attempt"
NEVER = "never"


class Quiz(db.Model):
    __tablename__ = "quizzes"
    __table_args__ = (UniqueConstraint("course_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title_th: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str | None] = mapped_column(String(300))
    pass_mark: Mapped[int] = mapped_column(Integer, default=60)
    attempts_allowed: Mapped[int] = mapped_column(Integer, default=0)  # 0: unlimited
    time_limit_minutes: Mapped[int] = mapped_column(Integer, default=0)  # 0: none
    shuffle_questions: Mapped[bool] = mapped_column(Boolean, default=False)
    shuffle_answers: Mapped[bool] = mapped_column(Boolean, default=True)
    draw_count: Mapped[int] = mapped_column(Integer, default=0)  # 0: every question
    draw_category: Mapped[str | None] = mapped_column(String(200))
    grading: Mapped[str] = mapped_column(String(8), default=BEST)
    show_feedback: Mapped[str] = mapped_column(String(24), default=AFTER_SUBMIT)
    # Opens only during a period of the learner's class, when the teacher opens it (the
    # periods feature answers core.learning.quiz_gate); editors may always preview it.
    period_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    questions: Mapped[list[Question]] = relationship(
        back_populates="quiz", order_by="Question.position", cascade="all, delete-orphan"
    )


# A quiz is an item of its course's outline: its changes give the course a new version.
follow(Quiz.__table__)


def new_question_key() -> str:
    """A new question's id within its quiz: random, so that questions added on two servers,
    or in two editors, never take the same one; it is the 16 hex digits of 64 random bits."""
    return secrets.token_hex(8)


class Question(db.Model):
    __tablename__ = "questions"
    __table_args__ = (Index("ux_questions_quiz_key", "quiz_id", "key", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    # Its identity on every server (docs/sync.md, "Identity"): the course folder's
    # `// @question: key` line, kept through reordering and editing; its position is not.
    key: Mapped[str] = mapped_column(String(64), default=new_question_key)
    position: Mapped[int] = mapped_column(Integer, default=0)
    type: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300), default="")
    category: Mapped[str] = mapped_column(String(200), default="")
    points: Mapped[float] = mapped_column(Float, default=1.0)
    # The whole question in the documented JSON form (academy.quizzes.questions.Question).
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

    quiz: Mapped[Quiz] = relationship(back_populates="questions")


class Attempt(GlobalId, Stamped, db.Model):
    __tablename__ = "attempts"
    __table_args__ = (
        # The attempt limit lives in the database: two requests racing to start attempt N
        # cannot both insert it.
        UniqueConstraint("quiz_id", "user_id", "number"),
        # At most one open attempt per learner and quiz, however many tabs start one.
        Index(
            "ux_attempts_one_open",
            "quiz_id",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_attempts_user_quiz", "user_id", "quiz_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Fixed at start: [{"question_id": 3, "order": [2, 0, 1]}, ...]
    layout: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    points: Mapped[float | None] = mapped_column(Float)
    max_points: Mapped[float | None] = mapped_column(Float)
    percent: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    needs_marking: Mapped[bool] = mapped_column(Boolean, default=False)

    responses: Mapped[list[Response]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan"
    )


class Response(GlobalId, Stamped, db.Model):
    """A learner's answer to one question of an attempt, saved as it is given."""

    __tablename__ = "responses"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[Any] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    fraction: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)  # an instructor's note on an essay
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    attempt: Mapped[Attempt] = relationship(back_populates="responses")
