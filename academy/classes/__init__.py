"""Schools, computer rooms, programmes, classes, join codes and class CSV import."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from academy.core.access import ADMIN, INSTRUCTOR, LEARNER, role_is
from academy.core.web import NavEntry


def _menu(_sender: Any) -> list[NavEntry]:
    return [
        NavEntry(_l("Classes"), "classes.my_classes", (INSTRUCTOR,), 30),
        NavEntry(_l("Join a class"), "classes.join", (LEARNER,), 40),
        NavEntry(_l("Schools"), "classes.schools", (ADMIN,), 70),
    ]


def _home(user: Any) -> str | None:
    return "classes.my_classes" if role_is(user, INSTRUCTOR) else None


def init_app(app) -> None:
    # Permission rules ("class.teach", "class.manage_org") are registered on import.
    from academy.classes import access
    from academy.core import signals

    # Instructors manage (list, reset passwords of) the learners of the classes they teach.
    signals.learner_scope.connect(access.learner_ids_taught_by)
    signals.nav_items.connect(_menu)
    signals.role_home.connect(_home)
