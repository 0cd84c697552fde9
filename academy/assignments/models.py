"""Assignments: a practical task in a module, the learner's submissions (one row per version)
and the reviews of them (at most one per version)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.core.db import Stamped, UTCDateTime, utcnow
from academy.courses.outline_cache import follow
from academy.extensions import db

PHOTOS = "photos"
LINKS = "links"
TEXT = "text"
KINDS = (PHOTOS, LINKS, TEXT)

ALL_REQUIRED = "all_required"
POINTS = "points"
PASS_RULES = (ALL_REQUIRED, POINTS)

# A submission's status; "not handed in" is the absence of one.
WAITING = "waiting"
NEEDS_CHANGES = "needs_changes"
PASSED = "passed"
NOT_HANDED_IN = "not_handed_in"


class Assignment(db.Model):
    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("course_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title_th: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str | None] = mapped_column(String(300))
    instructions: Mapped[str] = mapped_column(Text, default="")
    instructions_html: Mapped[str] = mapped_column(Text, default="")
    # What to hand in: a subset of KINDS, in that order.
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_photos: Mapped[int] = mapped_column(Integer, default=0)  # 1-6 when photos are asked
    # The checklist in the form academy.assignments.rubric.Criterion.to_dict() gives.
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    pass_rule: Mapped[str] = mapped_column(String(16), default=ALL_REQUIRED)
    pass_points: Mapped[int] = mapped_column(Integer, default=0)
    resubmissions: Mapped[int | None] = mapped_column(Integer)  # None: unlimited


# An assignment is an item of its course's outline: its changes give the course a new version.
follow(Assignment.__table__)


class Submission(Stamped, db.Model):
    """One version of a learner's work. Rows are written only when everything has arrived.
    A school server pushes it to the city with its photos and its review (docs/sync.md): a
    review changes the version's status, so the version's stamp covers its review too."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("assignment_id", "user_id", "version"),
        # The form's one-time token: a double tap (or a retried upload) finds the first row.
        UniqueConstraint("assignment_id", "user_id", "token"),
        Index("ix_submissions_status_submitted", "status", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), index=True
    )
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    token: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=WAITING)
    text: Mapped[str | None] = mapped_column(Text)
    links: Mapped[list[str]] = mapped_column(JSON, default=list)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    photos: Mapped[list[SubmissionPhoto]] = relationship(
        order_by="SubmissionPhoto.position", cascade="all, delete-orphan"
    )
    assignment: Mapped[Assignment] = relationship()


class SubmissionPhoto(db.Model):
    """A re-encoded JPEG under DATA_DIR/submissions/<sha256>.jpg, never a public path."""

    __tablename__ = "submission_photos"
    __table_args__ = (UniqueConstraint("submission_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)


class Review(db.Model):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One review per version: a second reviewer racing the first cannot insert another.
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), unique=True
    )
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # {criterion id: {"done": bool} or {"points": int}, plus "comment": str}
    results: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    comment: Mapped[str | None] = mapped_column(Text)
    passed: Mapped[bool] = mapped_column(default=False)
    points: Mapped[int] = mapped_column(Integer, default=0)
    max_points: Mapped[int] = mapped_column(Integer, default=0)
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
