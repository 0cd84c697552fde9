from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from academy.core.db import GlobalId, Stamped, TimestampMixin, UTCDateTime, utcnow
from academy.extensions import db

STUDENT = "student"
SELLER = "seller"
LEARNER_KINDS = (STUDENT, SELLER)


class User(UserMixin, GlobalId, Stamped, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Lower-case ASCII (see auth.services.USERNAME_RULE): typed on shared school keyboards that
    # may be in Thai or English layout, so one unambiguous alphabet avoids "wrong user" mix-ups.
    username: Mapped[str] = mapped_column(String(32), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="learner", index=True)
    learner_kind: Mapped[str | None] = mapped_column(String(16))
    # Schools are defined by the classes feature; the column lives here because a student
    # belongs to a school whether or not they are in a class yet.
    school_id: Mapped[int | None] = mapped_column(
        ForeignKey("schools.id", ondelete="SET NULL"), index=True
    )
    shop_name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    locale: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped on password change or "sign out everywhere": the session cookie carries it, so
    # every older cookie stops working on every app server at once.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_active(self) -> bool:  # Flask-Login: a deactivated account cannot sign in
        return bool(self.active)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class UserSession(TimestampMixin, db.Model):
    """One signed-in browser. The cookie holds a random token; this row holds its SHA-256, so
    a copy of the database alone cannot make a working cookie. Signing out deletes the row, and
    a replayed copy of the cookie is then refused on every app server; "sign out everywhere"
    deletes every row of the person."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Indexed for pruning: a session lives PERMANENT_SESSION_LIFETIME from sign-in.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class RecoveryCode(db.Model):
    """A one-time code a seller without e-mail keeps (a screenshot, a note) to set a new
    password when they forget theirs. Only the SHA-256 is kept; shown once, at registration or
    when the person asks for new ones."""

    __tablename__ = "recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
