"""Lesson and quiz progress, course completion (the course_completed signal), the learner
dashboard and the class gradebook."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from academy.core.access import LEARNER, role_is
from academy.core.web import NavEntry


def _menu(_sender: Any) -> list[NavEntry]:
    return [NavEntry(_l("My learning"), "progress.dashboard", (LEARNER,), 20)]


def _home(user: Any) -> str | None:
    return "progress.dashboard" if role_is(user, LEARNER) else None


def init_app(app: Flask) -> None:
    from academy.core import signals
    from academy.progress import services, state

    # Receivers are module functions (blinker keeps only weak references) and connecting the
    # same one again is a no-op, so several apps in one process (tests) are fine.
    signals.lesson_viewed.connect(services.on_lesson_viewed)
    signals.lesson_done.connect(services.on_lesson_done)
    signals.attempt_graded.connect(services.on_attempt_graded)
    signals.enrolled.connect(services.on_enrolled)
    signals.learner_state.connect(state.learner_state)
    signals.nav_items.connect(_menu)
    signals.role_home.connect(_home)
    signals.assignment_reviewed.connect(services.on_assignment_reviewed)
