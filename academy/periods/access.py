"""Who may run a class's period: the class's instructors and admins (the same people who
teach it). Learners never reach a period by id; their banner is found from their own classes."""

from __future__ import annotations

from typing import Any

from academy.classes.access import teaches
from academy.core.access import INSTRUCTOR, is_admin, role_is, rule


@rule("period.steer")
def _may_steer(user: Any, klass: Any) -> bool:
    """Start, steer and end a class's period, see its board, attendance and summary."""
    if is_admin(user):
        return True
    return role_is(user, INSTRUCTOR) and klass is not None and teaches(user, klass)
