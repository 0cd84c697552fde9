"""The audit log: `record(action, target=None, **details)` from any feature.

Call it inside the transaction of the action it describes, before the caller commits; it adds
one `AuditEntry` to the session and never commits, so the entry is saved exactly when the
action is. The actor is the signed-in person of the current request (None from the CLI, where
`actor` may be passed), the address is the client's (behind nginx: set ACADEMY_PROXY_FIX_HOPS).

    from academy.core import audit
    audit.record("certificate.revoke", certificate, reason=form.reason.data)
    db.session.commit()

Action names are "<thing>.<verb>" in English (they are data, not UI text); details must be
JSON-serialisable and never hold a password or a token.
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from academy.core.models import AuditEntry
from academy.extensions import db

# Actions recorded today (others are added by the features that perform them).
ROLE_CHANGE = "user.role"
ACTIVE_CHANGE = "user.active"
SIGN_OUT_EVERYWHERE = "user.sign_out_everywhere"
PASSWORD_RESET = "user.password_reset"  # noqa: S105 (an action name)
USER_CREATE = "user.create"
SETTING_CHANGE = "setting.change"

_FORBIDDEN = ("password", "token", "secret")


def _label(target: Any) -> str | None:
    for attr in ("username", "code", "slug", "title", "name"):
        value = getattr(target, attr, None)
        if isinstance(value, str) and value:
            return value[:200]
    return None


def record(action: str, target: Any = None, *, actor: Any = None, **details: Any) -> AuditEntry:
    """Add an audit entry for `action` on `target` (a model instance, or None)."""
    for key in details:
        if any(word in key.lower() for word in _FORBIDDEN):
            raise ValueError(f"audit details must not hold secrets ({key!r})")
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    entry = AuditEntry(
        action=action,
        actor_id=getattr(actor, "id", None),
        actor_username=getattr(actor, "username", None),
        target_type=getattr(target, "__tablename__", None) if target is not None else None,
        target_id=getattr(target, "id", None) if target is not None else None,
        target_label=_label(target) if target is not None else None,
        details=details,
        address=(request.remote_addr or None) if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
