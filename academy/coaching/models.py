"""Coaching: notes a coach keeps on a learner, and the milestones of a programme (a track) that
a coach or the learner ticks on the learner's path."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.core.db import UTCDateTime, utcnow
from academy.extensions import db

# How a coach met the learner (the channels OTOP's online marketers use).
VISIT = "visit"
PHONE = "phone"
LINE = "line"
LIVE = "live"
CHANNELS = (VISIT, PHONE, LINE, LIVE)


class CoachingNote(db.Model):
    """What a coach and a learner discussed, and the next step. Private to the learner's
    coaches and admins: the learner never sees it."""

    __tablename__ = "coaching_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    coach_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    held_on: Mapped[date] = mapped_column(Date)  # the local day of the conversation
    channel: Mapped[str] = mapped_column(String(16))
    discussed: Mapped[str] = mapped_column(Text)
    next_step: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Milestone(db.Model):
    """A step on a programme's path (shop opened, first live sale...), defined by admins."""

    __tablename__ = "milestones"
    __table_args__ = (UniqueConstraint("track_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title_th: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))


class MilestoneReached(db.Model):
    """A learner reached a milestone on a day; at most once (the database holds the limit)."""

    __tablename__ = "milestones_reached"
    __table_args__ = (UniqueConstraint("milestone_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(
        ForeignKey("milestones.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reached_on: Mapped[date] = mapped_column(Date)
    evidence: Mapped[str | None] = mapped_column(String(2000))  # an https link
    ticked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    ticked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    milestone: Mapped[Milestone] = relationship()
