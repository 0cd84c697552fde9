"""Tables every feature shares: site settings and the failure counters behind throttling."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from academy.core.db import UTCDateTime, utcnow
from academy.extensions import db


class SiteSetting(db.Model):
    __tablename__ = "site_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(1000))


class ThrottleFailure(db.Model):
    """One failed attempt (a wrong password, an unknown certificate code) under a key such as
    "signin-user:somchai" or "signin-ip:10.0.0.5". Kept in the database, not in a process's
    memory, so every app server counts the same failures."""

    __tablename__ = "throttle_failures"
    __table_args__ = (Index("ix_throttle_failures_key_at", "key", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
