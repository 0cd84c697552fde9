"""Lesson and quiz progress, course completion (the course_completed signal), the learner
dashboard and the class gradebook."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from academy.core import signals
    from academy.core.learning import register_state_provider
    from academy.core.web import register_nav
    from academy.main.views import home_for
    from academy.progress import services

    # Receivers are module functions (blinker keeps only weak references) and connecting the
    # same one again is a no-op, so several apps in one process (tests) are fine.
    signals.lesson_viewed.connect(services.on_lesson_viewed)
    signals.lesson_done.connect(services.on_lesson_done)
    signals.attempt_graded.connect(services.on_attempt_graded)
    signals.enrolled.connect(services.on_enrolled)
    signals.assignment_reviewed.connect(services.on_assignment_reviewed)
    register_state_provider(services.learner_state)
    home_for("learner", "progress.dashboard")
    register_nav(_l("My learning"), "progress.dashboard", roles=("learner",), order=20)
