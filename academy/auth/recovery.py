"""Recovery codes: a seller who registered by themselves has no e-mail and no teacher on call,
so they keep eight one-time codes (a screenshot, a note in the wallet) shown once, and one of
them sets a new password. Only a SHA-256 of each code is kept; guesses are throttled like
sign-ins (per account, per address) in the database."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from academy.auth.models import RecoveryCode, User
from academy.auth.services import check_password, normalize_username, set_password
from academy.core import audit, throttle
from academy.core.db import utcnow
from academy.core.errors import ServiceError
from academy.extensions import db

CODES = 8
# Letters nobody misreads from a photo of a screen (no 0/O, 1/I/L), in two groups of five.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_GROUP = 5


def _clean(code: str) -> str:
    """What the person typed, as it was made: upper case, without spaces or dashes."""
    return "".join(c for c in (code or "").upper() if c.isalnum())[:64]


def _digest(user_id: int, code: str) -> str:
    return hashlib.sha256(f"{user_id}:{_clean(code)}".encode()).hexdigest()


def new_codes(user: User, now: datetime | None = None) -> list[str]:
    """Replace the person's codes with eight new ones, returned once in clear (shown, never
    stored)."""
    now = now or utcnow()
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    while len(codes) < CODES:
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(2 * _GROUP))
        code = f"{raw[:_GROUP]}-{raw[_GROUP:]}"
        if code not in codes:
            codes.append(code)
    db.session.add_all(
        RecoveryCode(user_id=user.id, digest=_digest(user.id, c), created_at=now) for c in codes
    )
    db.session.flush()
    return codes


def codes_left(user: User) -> int:
    return db.session.scalar(
        select(func.count()).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def _limits(username: str, address: str) -> list[tuple[str, int]]:
    cfg = current_app.config
    name = normalize_username(username)[:64]
    return [
        (f"recover-user:{name}", cfg["SIGNIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS"]),
        (f"recover-ip:{address}", cfg["SIGNIN_MAX_FAILURES_PER_ADDRESS"]),
    ]


def recover(username: str, code: str, new_password: str, address: str) -> User:
    """Set a new password with one unused recovery code, which is then spent. The message for a
    wrong username or code is the same, so it does not tell whether the account exists."""
    limits = _limits(username, address)
    wait = throttle.seconds_blocked_any(limits, current_app.config["SIGNIN_WINDOW_SECONDS"])
    if wait:
        raise ServiceError(
            _(
                "Too many wrong codes. Please wait %(minutes)d minute(s) and try again.",
                minutes=max(1, (wait + 59) // 60),
            ),
            "code",
        )
    check_password(new_password)
    user = db.session.scalar(select(User).where(User.username == normalize_username(username)))
    spent = None
    if user is not None and user.active and _clean(code):
        # Spend the code in one statement: two tabs racing with the same code cannot both win.
        spent = db.session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.digest == _digest(user.id, code),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
    if not spent:
        throttle.record_failure(*(key for key, _limit in limits))
        raise ServiceError(
            _("That username and recovery code do not match (or the code was used)."), "code"
        )
    set_password(user, new_password)
    for key, _limit in limits[:1]:
        throttle.clear_failures(key)
    audit.record("user.recover", user, actor=user, codes_left=codes_left(user))
    return user
