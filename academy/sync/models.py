"""What a server remembers about its peers (docs/sync.md): at the city, the registered school
servers and the last sequence applied from each; at a school server, its city and its rounds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.classes.models import School
from academy.core.db import TimestampMixin, UTCDateTime, utcnow
from academy.extensions import db
from academy.sync import stamps


class SyncCounter(db.Model):
    """One row (id 1): the owner's change sequence. No row, or stamping off: nothing stamped
    (the city, and a school server before it joins)."""

    __tablename__ = "sync_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    stamping: Mapped[bool] = mapped_column(Boolean, default=False)


class SyncTombstone(db.Model):
    """At a school server: a deleted pushed row, by its key (as the delete trigger wrote it),
    numbered in the change sequence so the removal travels in order."""

    __tablename__ = "sync_tombstones"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    table_name: Mapped[str] = mapped_column(String(64))
    key: Mapped[dict[str, Any]] = mapped_column(JSON)


class SyncPeer(TimestampMixin, db.Model):
    """At the city: a school server registered for one school."""

    __tablename__ = "sync_peers"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the one-time enrolment token; None once spent.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # SHA-256 of the secret the school server holds; None until it joined.
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last sequence of the school's changes applied here, moved in the batch's transaction.
    pushed_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    school_version: Mapped[str | None] = mapped_column(String(32))
    last_round_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)  # in English, for the command line
    last_problem: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the same, to translate

    school: Mapped[School] = relationship()


class SyncAccount(db.Model):
    """At the city: an account a school server made and owns; the city keeps a copy that
    auth refuses to change (it names the owner), so the owner's next batch overwrites nothing."""

    __tablename__ = "sync_accounts"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    peer_id: Mapped[int] = mapped_column(
        ForeignKey("sync_peers.id", ondelete="CASCADE"), index=True
    )


class SyncLink(db.Model):
    """At a school server: its city (one row, written by `sync join`)."""

    __tablename__ = "sync_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    city_url: Mapped[str] = mapped_column(String(300))
    peer_uuid: Mapped[str] = mapped_column(String(36))
    # The school server's own credential (as an SSH key is): the city keeps only its hash.
    secret: Mapped[str] = mapped_column(String(100))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    city_version: Mapped[str] = mapped_column(String(32))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_round_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)  # in English, for the command line
    last_problem: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the same, to translate
    last_pushed: Mapped[int] = mapped_column(Integer, default=0)
    last_pulled: Mapped[int] = mapped_column(Integer, default=0)
    # The city's mark as last seen: what the status page counts as waiting from.
    city_mark: Mapped[int] = mapped_column(BigInteger, default=0)

    school: Mapped[School] = relationship()


class SyncCourse(db.Model):
    """At a school server: the course folder it last loaded from the city, file by file."""

    __tablename__ = "sync_courses"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    files: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # path -> sha256
    pulled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The city stopped offering it (deleted or unpublished): the school keeps the course and
    # its learners' records, and stops sending them (the city could not place them).
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SyncSetAside(db.Model):
    """At the city: what a school server sent that names a quiz question the city deleted
    after the school's learners answered it (docs/sync.md, "Identity"): the answer, or the
    question's place in an attempt, kept here whole instead of being dropped or paired with
    another question. `question` is its name, "course/quiz/question"."""

    __tablename__ = "sync_set_aside"
    __table_args__ = (UniqueConstraint("table_name", "row_uuid", "question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_id: Mapped[int] = mapped_column(
        ForeignKey("sync_peers.id", ondelete="CASCADE"), index=True
    )
    table_name: Mapped[str] = mapped_column(String(64))  # responses, or attempts (a layout item)
    row_uuid: Mapped[str] = mapped_column(String(36))
    question: Mapped[str] = mapped_column(String(300))
    row: Mapped[Any] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


@event.listens_for(db.metadata, "after_create")
def _install_stamps(_target: Any, connection: Any, **_kw: Any) -> None:
    # create_all (tests, a fresh instance) gets the same triggers as the migration installs.
    stamps.install(connection)
