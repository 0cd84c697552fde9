"""Accounts and sign-in rules. Views and the CLI both call these."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import bindparam, delete, func, select

from academy.auth.models import LEARNER_KINDS, User, UserSession
from academy.core import signals, throttle
from academy.core.access import LEARNER, ROLES, is_admin
from academy.core.db import UTCDateTime, utcnow
from academy.core.errors import ServiceError
from academy.core.models import ThrottleFailure
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


_T = TypeVar("_T")
# One semaphore per process and configured size: Argon2 releases the GIL, so without it every
# thread of every worker would hold its own 19 MiB at once during a sign-in storm.
_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def _hash_slots() -> threading.BoundedSemaphore:
    size = int(current_app.config["PASSWORD_HASHES_AT_ONCE"]) if has_app_context() else 1
    size = max(1, size)
    with _slots_lock:
        if size not in _slots:
            _slots[size] = threading.BoundedSemaphore(size)
        return _slots[size]


def _one_at_a_time(work: Callable[[], _T]) -> _T:
    """Run an Argon2 computation when one of the process's PASSWORD_HASHES_AT_ONCE slots is
    free; the others wait (the request's own timeout still bounds how long)."""
    with _hash_slots():
        return work()


def hash_password(password: str) -> str:
    return _one_at_a_time(lambda: _hasher.hash(password))


def verify_password(user: User, password: str) -> bool:
    stored = user.password_hash
    try:
        _one_at_a_time(lambda: _hasher.verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(stored):
        user.password_hash = hash_password(password)
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


# --- Sign-in throttling (docs/security.md, "Sign-in throttling") ------------------------------


def _exempt(address: str) -> bool:
    networks = current_app.config.get("SIGNIN_EXEMPT_NETWORKS") or []
    if isinstance(networks, str):
        networks = [n for n in networks.replace(" ", "").split(",") if n]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n, strict=False) for n in networks)


def _signin_limits(username: str, address: str, device: str | None) -> list[tuple[str, int]]:
    """The (throttle key, limit) pairs this try counts against. A browser holding a device
    cookie for the account counts only against that cookie, until it too has failed too often
    (then it is a stranger like any other: OWASP's "device cookies")."""
    cfg = current_app.config
    window = cfg["SIGNIN_WINDOW_SECONDS"]
    if device:
        key, limit = f"signin-device:{device}", cfg["SIGNIN_MAX_FAILURES_PER_DEVICE"]
        if not throttle.seconds_blocked(key, limit, window):
            return [(key, limit)]
    name = normalize_username(username)[:64]
    limits = [
        (f"signin-pair:{name}:{address}", cfg["SIGNIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS"]),
        (f"signin-user:{name}", cfg["SIGNIN_MAX_FAILURES_PER_ACCOUNT"]),
    ]
    if not _exempt(address):
        limits.append((f"signin-ip:{address}", cfg["SIGNIN_MAX_FAILURES_PER_ADDRESS"]))
    return limits


def clear_signin_failures(user: User) -> None:
    """A new password (a teacher's reset) lifts every hold on the account: guesses of the old
    one no longer matter, and the learner must be able to sign in before the quiz."""
    name = user.username
    db.session.execute(
        delete(ThrottleFailure).where(
            (ThrottleFailure.key == f"signin-user:{name}")
            | ThrottleFailure.key.startswith(f"signin-pair:{name}:", autoescape=True)
        )
    )


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="signin-device")


def _account_tag(username: str) -> str:
    # The cookie names accounts by a keyed hash, so a shared PC does not list who used it.
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, normalize_username(username).encode(), hashlib.sha256).hexdigest()[:16]


def _device_entries(cookie: str | None) -> list[list[str]]:
    if not cookie:
        return []
    max_age = current_app.config["SIGNIN_DEVICE_COOKIE_DAYS"] * 86400
    try:
        entries = _device_serializer().loads(cookie, max_age=max_age)
    except BadSignature:
        return []
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, list) and len(e) == 2 and all(
        isinstance(part, str) for part in e)]  # fmt: skip


def device_for(cookie: str | None, username: str) -> str | None:
    """The device cookie's id for this account, if this browser signed in to it before."""
    tag = _account_tag(username)
    return next((nonce for t, nonce in _device_entries(cookie) if t == tag), None)


DEVICES_PER_BROWSER = 40  # a school PC is shared by a class


def remember_device(cookie: str | None, user: User) -> str:
    """The browser's new device cookie after `user` signed in: a fresh id for this account
    (so a copied old cookie stops counting as this browser), the 40 most recent accounts."""
    tag = _account_tag(user.username)
    entries = [e for e in _device_entries(cookie) if e[0] != tag]
    entries.insert(0, [tag, secrets.token_urlsafe(12)])
    return _device_serializer().dumps(entries[:DEVICES_PER_BROWSER])


def authenticate(username: str, password: str, address: str, device: str | None = None) -> User:
    """Return the user, or raise ServiceError with a message that does not reveal whether the
    account exists. `device` is the browser's device cookie id for this account (device_for).
    Failures are counted per account and address, per account, per address and per device
    cookie (and committed by the caller even though sign-in failed)."""
    limits = _signin_limits(username, address, device)
    wait = throttle.seconds_blocked_any(limits, current_app.config["SIGNIN_WINDOW_SECONDS"])
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
        throttle.record_failure(*(key for key, _limit in limits))
        raise ServiceError(_("Wrong username or password."))
    if not user.active:
        raise ServiceError(_("This account is switched off. Please ask your teacher or admin."))
    # The account-wide count stays: it bounds guessing from everywhere, whoever signs in.
    for key, _limit in limits:
        if not key.startswith(("signin-user:", "signin-ip:")):
            throttle.clear_failures(key)
    user.last_seen_at = utcnow()
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not verify_password(user, current or ""):
        raise ServiceError(_("Your current password is not right."), "current_password")
    check_password(new)
    if new == current:
        raise ServiceError(_("Choose a password different from the current one."), "password")
    set_password(user, new)


def owner_of(user: User) -> str | None:
    """The other server that owns this account (a school server's learner, copied to the
    city), by name; None when it is this server's."""
    for _receiver, owner in signals.account_owner.send(user):
        if owner:
            return owner
    return None


def check_owned_here(user: User) -> None:
    """Refuse to change an account another server owns: its owner's next change would
    overwrite ours, so say where to change it (or ask it: `ask_owner`)."""
    owner = owner_of(user)
    if owner:
        raise ServiceError(_("This account is managed by %(owner)s: change it there.", owner=owner))


# Changes another server may be asked to make to an account it owns (`ask_owner`).
CHANGE_PASSWORD = "password"  # noqa: S105 (a change's name)
CHANGE_ACTIVE = "active"
CHANGE_ROLE = "role"


def ask_owner(user: User, change: str, *, by: User | None = None, **values: object) -> str | None:
    """When another server owns `user`, ask it to make `change` (with `values`): it makes it
    with its own rules at its next round, and its answer shows at the asking server. Returns the
    owner's name; None when the account is this server's (change it here)."""
    for _receiver, owner in signals.account_change.send(user, change=change, values=values, by=by):
        if owner:
            return owner
    return None


def set_password(user: User, new: str, *, temporary: bool = False) -> None:
    set_password_hash(user, hash_password(new), temporary=temporary)


def set_password_hash(user: User, password_hash: str, *, temporary: bool = False) -> None:
    """Set an already hashed password (the owner making a reset another server asked for)."""
    check_owned_here(user)
    user.password_hash = password_hash
    user.must_change_password = temporary
    # Every session of this person ends: a stolen cookie dies with the old password.
    sign_out_everywhere(user)
    clear_signin_failures(user)


def reset_password(user: User) -> str:
    """A new temporary password, shown once to the instructor or admin who asked for it."""
    temp = temporary_password()
    set_password(user, temp, temporary=True)
    return temp


def reset_password_asked(user: User, *, by: User | None = None) -> tuple[str, str | None]:
    """A reset from the people page: (temporary password, None) made here, or, for an account
    another server owns, (temporary password, owner): the owner is asked to set it and it works
    from the owner's next round on."""
    temp = temporary_password()
    hashed = hash_password(temp)
    owner = ask_owner(user, CHANGE_PASSWORD, by=by, password_hash=hashed)
    if owner is None:
        set_password_hash(user, hashed, temporary=True)
    return temp, owner


def sign_out_everywhere(user: User) -> None:
    user.session_version = (user.session_version or 1) + 1
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))


# --- Sessions: one row per signed-in browser ---------------------------------------------------


def _session_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_key(token: str) -> str:
    """The user_sessions id of a cookie's token, for a feature that checks the session in its
    own statement (the period poll)."""
    return _session_digest(token)


def _session_lifetime() -> timedelta:
    return current_app.permanent_session_lifetime


def start_session(user: User, now: datetime | None = None) -> str:
    """Record a new signed-in browser and return the token its cookie carries. Sessions past
    their lifetime are dropped here (one indexed DELETE per sign-in keeps the table small).
    Nothing is committed."""
    now = now or utcnow()
    db.session.execute(
        delete(UserSession).where(UserSession.created_at < now - _session_lifetime())
    )
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(id=_session_digest(token), user_id=user.id, created_at=now))
    return token


def end_session(token: str | None) -> None:
    """Sign one browser out on the server: its cookie, even a copy of it, stops working."""
    if token:
        db.session.execute(delete(UserSession).where(UserSession.id == _session_digest(token)))


# Built once: on every signed-in request, building the statement would cost more than running it.
_SESSION_USER = (
    select(User)
    .join(UserSession, UserSession.user_id == User.id)
    .where(
        User.id == bindparam("user_id"),
        UserSession.id == bindparam("digest"),
        UserSession.created_at > bindparam("since", type_=UTCDateTime()),
    )
)


def session_user(login_id: str, token: str | None, now: datetime | None = None) -> User | None:
    """The signed-in person for a cookie holding Flask-Login's "<id>:<session_version>" and
    our session token, or None. One query (the user joined to the session row) on every
    signed-in request, as the plain user load was."""
    ident, _sep, version = login_id.partition(":")
    if not ident.isdigit() or not token or len(token) > 100:
        return None
    since = (now or utcnow()) - _session_lifetime()
    params = {"user_id": int(ident), "digest": _session_digest(token), "since": since}
    user = db.session.scalar(_SESSION_USER, params)
    # A bumped version (password changed, signed out by an admin) ends older cookies even if
    # their row were somehow left behind.
    if user is None or str(user.session_version) != version or not user.active:
        return None
    return user


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
    check_owned_here(user)
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


def set_role_asked(user: User, role: str, *, by: User | None = None) -> tuple[str, str | None]:
    """A role change from the people page: (old role, None) made here, or (old role, owner)
    asked of the server that owns the account (an owner's admins are its own: refused)."""
    if owner_of(user) is None:
        return set_role(user, role, by=by), None
    if role not in ROLES:
        raise ServiceError(_("Unknown role %(role)s.", role=role), "role")
    if role == "admin":  # an owner's admins are its own, and are not sent here
        raise ServiceError(_("Make this account an admin on the server that owns it."), "role")
    return user.role, ask_owner(user, CHANGE_ROLE, by=by, role=role)


def set_active_asked(user: User, active: bool, *, by: User | None = None) -> str | None:
    """Switching an account off or on from the people page: made here (None), or asked of the
    server that owns the account (its name)."""
    if owner_of(user) is None:
        set_active(user, active, by=by)
        return None
    return ask_owner(user, CHANGE_ACTIVE, by=by, active=active)


def set_active(user: User, active: bool, *, by: User | None = None) -> None:
    """Switch an account off (it cannot sign in; its sessions end at once) or on again."""
    check_owned_here(user)
    if not active and by is not None and by.id == user.id:
        raise ServiceError(_("You cannot switch off your own account."))
    if not active and is_admin(user) and user.active and not _other_active_admins(user):
        raise ServiceError(_("This is the last admin account; make another admin first."))
    if bool(user.active) != active:
        user.active = active
        if not active:
            sign_out_everywhere(user)
