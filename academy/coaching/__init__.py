"""Coaching: an instructor's "my learners" (the members of the classes they teach), a learner's
timeline with coaching notes, and the milestones of each programme on the learner's path."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from academy.core.access import ADMIN, INSTRUCTOR
from academy.core.web import NavEntry


def _menu(_sender: Any) -> list[NavEntry]:
    return [
        NavEntry(_l("My learners"), "coaching.my_learners", (INSTRUCTOR,), 35),
        NavEntry(_l("Milestones"), "coaching.milestones", (ADMIN,), 75),
    ]


def init_app(app: Flask) -> None:
    from academy.coaching import access, views  # noqa: F401  (rules register on import)
    from academy.core import signals

    signals.nav_items.connect(_menu)
    signals.dashboard_sections.connect(views.path_section)
