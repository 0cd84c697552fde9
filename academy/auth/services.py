"""Accounts and sign-in rules. Views and the CLI both call these."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from academy.auth.models import LEARNER_KINDS, User
from academy.core import throttle
from academy.core.access import LEARNER, ROLES
from academy.core.db import utcnow
from academy.core.errors import ServiceError
from academy.extensions import db

# Argon2id at OWASP's minimum (19 MiB, 2 passes): strong enough for passwords, cheap enough
# that a room of 40 signing in at once does not stall a 2-core server.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)

USERNAME_RULE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")
PASSWORD_MIN = 8
PASSWORD_MAX = 128
NAME_MAX = 200
# Letters a child cannot misread on a printed card (no 0/o, 1/l/i).
_TEMP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


# Which learners an instructor looks after. Features that group learners (classes) register a
# function giving, for an instructor, a SELECT of those learners' user ids; an instructor
# manages (sees in /people, resets the password of) only those, never every learner of every
# school. Without a registered scope an instructor manages nobody.
_learner_scopes: list[Callable[[Any], Any]] = []


def register_learner_scope(scope: Callable[[Any], Any]) -> None:
    if scope not in _learner_scopes:
        _learner_scopes.append(scope)


def learners_of(instructor: Any) -> Any:
    """A condition on User.id: the learners this instructor looks after."""
    if not _learner_scopes:
        return User.id.is_(None)
    from sqlalchemy import or_

    return or_(*(User.id.in_(scope(instructor)) for scope in _learner_scopes))


def looks_after(instructor: Any, person: User) -> bool:
    """One query per request however many rows a page asks about (the people list)."""
    from flask import g, has_app_context

    key = f"_learners_of_{instructor.id}"
    if has_app_context() and key in g:
        return person.id in g.get(key)
    ids = set(db.session.scalars(select(User.id).where(learners_of(instructor))))
    if has_app_context():
        setattr(g, key, ids)
    return person.id in ids


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return True


def temporary_password() -> str:
    return "".join(secrets.choice(_TEMP_ALPHABET) for _ in range(8))


def normalize_username(username: str) -> str:
    return (username or "").strip().lower()


def check_username(username: str) -> str:
    username = normalize_username(username)
    if not USERNAME_RULE.match(username):
        raise ServiceError(
            _(
                "A username is 3 to 32 characters: English letters a-z, digits, dot, dash or "
                "underscore, starting with a letter or digit (no spaces, no Thai letters)."
            ),
            "username",
        )
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ServiceError(_("The username %(name)s is already taken.", name=username), "username")
    return username


def check_password(password: str) -> str:
    if len(password or "") < PASSWORD_MIN:
        raise ServiceError(
            _("A password needs at least %(n)d characters.", n=PASSWORD_MIN), "password"
        )
    if len(password) > PASSWORD_MAX:
        raise ServiceError(
            _("A password can have at most %(n)d characters.", n=PASSWORD_MAX), "password"
        )
    return password


def check_full_name(full_name: str) -> str:
    full_name = " ".join((full_name or "").split())
    if not full_name:
        raise ServiceError(_("Please enter a name."), "full_name")
    if len(full_name) > NAME_MAX:
        raise ServiceError(_("A name can have at most %(n)d characters.", n=NAME_MAX), "full_name")
    return full_name


def create_user(
    username: str,
    full_name: str,
    *,
    role: str = LEARNER,
    password: str | None = None,
    learner_kind: str | None = None,
    school_id: int | None = None,
    shop_name: str | None = None,
    phone: str | None = None,
    locale: str | None = None,
    must_change_password: bool = False,
) -> tuple[User, str | None]:
    """Create an account. Without a password a temporary one is made and returned, to be shown
    once; the person must change it at first sign-in. Nothing is committed here."""
    if role not in ROLES:
        raise ServiceError(_("Unknown role %(role)s.", role=role), "role")
    if learner_kind is not None and learner_kind not in LEARNER_KINDS:
        raise ServiceError(_("Unknown kind of learner %(kind)s.", kind=learner_kind))
    temp = None
    if password is None:
        temp = password = temporary_password()
        must_change_password = True
    check_password(password)
    # Hashed before the first query: a writer holds SQLite's write lock from its first
    # statement (BEGIN IMMEDIATE), and Argon2 must not run while others queue behind it.
    password_hash = hash_password(password)
    username = check_username(username)
    full_name = check_full_name(full_name)
    user = User(
        username=username,
        full_name=full_name,
        password_hash=password_hash,
        role=role,
        learner_kind=learner_kind if role == LEARNER else None,
        school_id=school_id,
        shop_name=(shop_name or "").strip()[:200] or None,
        phone=(phone or "").strip()[:32] or None,
        locale=locale,
        must_change_password=must_change_password,
    )
    db.session.add(user)
    db.session.flush()
    return user, temp


def _signin_keys(username: str, address: str) -> tuple[str, str]:
    return f"signin-user:{normalize_username(username)}", f"signin-ip:{address}"


def signin_wait_seconds(username: str, address: str) -> int:
    cfg = current_app.config
    user_key, ip_key = _signin_keys(username, address)
    window = cfg["SIGNIN_WINDOW_SECONDS"]
    return max(
        throttle.seconds_blocked(user_key, cfg["SIGNIN_MAX_FAILURES_PER_ACCOUNT"], window),
        throttle.seconds_blocked(ip_key, cfg["SIGNIN_MAX_FAILURES_PER_ADDRESS"], window),
    )


def authenticate(username: str, password: str, address: str) -> User:
    """Return the user, or raise ServiceError with a message that does not reveal whether the
    account exists. Failures are counted per account and per address (and committed by the
    caller even though sign-in failed)."""
    wait = signin_wait_seconds(username, address)
    if wait:
        minutes = max(1, (wait + 59) // 60)
        raise ServiceError(
            _(
                "Too many failed sign-ins. Please wait %(minutes)d minute(s) and try again, "
                "or ask your teacher to reset your password.",
                minutes=minutes,
            )
        )
    user = db.session.scalar(select(User).where(User.username == normalize_username(username)))
    if user is None or not verify_password(user, password or ""):
        throttle.record_failure(*_signin_keys(username, address))
        raise ServiceError(_("Wrong username or password."))
    if not user.active:
        raise ServiceError(_("This account is switched off. Please ask your teacher or admin."))
    throttle.clear_failures(_signin_keys(username, address)[0])
    user.last_seen_at = utcnow()
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not verify_password(user, current or ""):
        raise ServiceError(_("Your current password is not right."), "current_password")
    check_password(new)
    if new == current:
        raise ServiceError(_("Choose a password different from the current one."), "password")
    set_password(user, new)


def set_password(user: User, new: str, *, temporary: bool = False) -> None:
    user.password_hash = hash_password(new)
    user.must_change_password = temporary
    # Every other session of this person ends: a stolen cookie dies with the old password.
    user.session_version = (user.session_version or 1) + 1


def reset_password(user: User) -> str:
    """A new temporary password, shown once to the instructor or admin who asked for it."""
    temp = temporary_password()
    set_password(user, temp, temporary=True)
    return temp


def sign_out_everywhere(user: User) -> None:
    user.session_version = (user.session_version or 1) + 1


def _other_active_admins(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count(User.id)).where(
                User.role == "admin", User.active.is_(True), User.id != user.id
            )
        )
        or 0
    )


def set_role(user: User, role: str, *, by: User | None = None) -> str:
    """Give `user` another role; returns the old one. Nobody changes their own role, and the
    last active admin stays an admin (else no one could run the site)."""
    if role not in ROLES:
        raise ServiceError(_("Unknown role %(role)s.", role=role), "role")
    if by is not None and by.id == user.id:
        raise ServiceError(_("You cannot change your own role."), "role")
    old = user.role
    if old == "admin" and role != "admin" and not _other_active_admins(user):
        raise ServiceError(_("This is the last admin account; make another admin first."), "role")
    if role != old:
        user.role = role
        if role != LEARNER:
            user.learner_kind = None
        # Permissions changed: sessions opened under the old role end.
        sign_out_everywhere(user)
    return old


def set_active(user: User, active: bool, *, by: User | None = None) -> None:
    """Switch an account off (it cannot sign in; its sessions end at once) or on again."""
    if not active and by is not None and by.id == user.id:
        raise ServiceError(_("You cannot switch off your own account."))
    if not active and user.role == "admin" and user.active and not _other_active_admins(user):
        raise ServiceError(_("This is the last admin account; make another admin first."))
    if bool(user.active) != active:
        user.active = active
        if not active:
            sign_out_everywhere(user)


def find_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def count_users() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0
