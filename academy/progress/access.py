"""Who may look at a class's progress.

"class.teach" (the class's instructors, and admins) belongs to the classes feature, which
manages classes (academy/classes/access.py). Until that module exists, progress registers the
same rule here, so both branches can be merged in either order without the app failing at
start ("registered twice").
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
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


if importlib.util.find_spec("academy.classes.access") is not None:
    # The classes feature owns the rule: importing it registers theirs.
    importlib.import_module("academy.classes.access")
else:
    with contextlib.suppress(RuntimeError):  # registered already by the same module
        rule("class.teach")(teaches_class)
