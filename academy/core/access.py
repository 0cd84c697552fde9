"""The one way to check permissions.

Roles gate whole areas (`role_required`); object rules answer "may this person do this to that
thing?" (`authorize`, `can`). Features register their object rules with `rule`, so a view never
writes its own check and templates ask the same question with `can(...)`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user

LEARNER = "learner"
INSTRUCTOR = "instructor"
ADMIN = "admin"
ROLES = (LEARNER, INSTRUCTOR, ADMIN)

_rules: dict[str, Callable[[Any, Any], bool]] = {}


def rule(name: str) -> Callable[[Callable[[Any, Any], bool]], Callable[[Any, Any], bool]]:
    """Register the predicate for a permission, e.g. @rule("course.edit")."""

    def register(predicate: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
        if name in _rules and _rules[name] is not predicate:
            raise RuntimeError(f"permission {name!r} is registered twice")
        _rules[name] = predicate
        return predicate

    return register


def can(permission: str, obj: Any = None, user: Any = None) -> bool:
    user = user if user is not None else current_user
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    if permission not in _rules:
        raise KeyError(f"unknown permission {permission!r}")
    return bool(_rules[permission](user, obj))


def authorize(permission: str, obj: Any = None, *, hide: bool = False) -> None:
    """Abort unless the current user may; hide=True answers 404 so ids cannot be probed."""
    if not current_user.is_authenticated:
        abort(401)
    if not can(permission, obj):
        abort(404 if hide else 403)


def role_is(user: Any, *roles: str) -> bool:
    """Signed in with exactly one of these roles (no admin pass): the one raw role comparison,
    for the features' access modules."""
    return bool(getattr(user, "is_authenticated", False)) and user.role in roles


def is_admin(user: Any) -> bool:
    return role_is(user, ADMIN)


def has_role(user: Any, *roles: str) -> bool:
    """One of these roles, or an admin (admins pass every role check)."""
    return is_admin(user) or role_is(user, *roles)


def role_required(*roles: str) -> Callable:
    """Sign-in required, and one of these roles (admins pass every role check)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                abort(401)
            if not has_role(current_user, *roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
