"""Who may look at a class's progress.

"class.teach" (the class's instructors, and admins) is shared with the classes feature, which
manages classes: whichever package registers it first keeps it (classes is loaded before
progress), so both branches can carry it without the app failing at start.
"""

from __future__ import annotations

import contextlib
from typing import Any

from sqlalchemy import select

from academy.classes.models import ClassInstructor
from academy.core.access import ADMIN, rule
from academy.extensions import db


def teaches_class(user: Any, klass: Any) -> bool:
    if user.role == ADMIN:
        return True
    if klass is None:
        return False
    return (
        db.session.scalar(
            select(ClassInstructor.user_id).where(
                ClassInstructor.class_id == klass.id, ClassInstructor.user_id == user.id
            )
        )
        is not None
    )


# If the classes feature registered it already, theirs is the one.
with contextlib.suppress(RuntimeError):
    rule("class.teach")(teaches_class)
