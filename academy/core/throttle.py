"""Slow down guessing: count recent failures per key in the database."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, func, insert, select

from academy.core import transaction
from academy.core.db import utcnow
from academy.core.models import ThrottleFailure
from academy.extensions import db


def seconds_blocked(key: str, limit: int, window_seconds: int) -> int:
    """0 when another try is allowed; otherwise how many seconds until the oldest counted failure
    leaves the window."""
    return seconds_blocked_any([(key, limit)], window_seconds)


def seconds_blocked_any(limits: Sequence[tuple[str, int]], window_seconds: int) -> int:
    """seconds_blocked for several (key, limit) pairs in one query: the longest wait."""
    now = utcnow()
    since = now - timedelta(seconds=window_seconds)
    wanted = dict(limits)
    rows = db.session.execute(
        select(ThrottleFailure.key, func.count(), func.min(ThrottleFailure.failed_at))
        .where(ThrottleFailure.key.in_(wanted), ThrottleFailure.failed_at > since)
        .group_by(ThrottleFailure.key)
    )
    wait = 0.0
    for key, count, oldest in rows:
        if count >= wanted[key] and oldest is not None:
            left = (oldest + timedelta(seconds=window_seconds) - now).total_seconds()
            wait = max(wait, left, 1)
    return math.ceil(wait)


def record_failure(*keys: str) -> None:
    # A counted failure is saved although the request that counts it is refused.
    transaction.keep_on_refusal()
    # One statement for all keys: a failed sign-in is on the hot path of a guessing attack.
    db.session.execute(
        insert(ThrottleFailure), [{"key": key, "failed_at": utcnow()} for key in keys]
    )


def clear_failures(key: str) -> None:
    db.session.execute(delete(ThrottleFailure).where(ThrottleFailure.key == key))


def prune(older_than_seconds: int) -> int:
    """Drop old failures; called now and then so the table stays small."""
    before = utcnow() - timedelta(seconds=older_than_seconds)
    result = db.session.execute(delete(ThrottleFailure).where(ThrottleFailure.failed_at < before))
    return result.rowcount or 0
