"""The instructor's workshop: courses, modules, lessons, files and co-authors; the quiz editor;
the courses/ folder format (load and export) and its commands. It sits above courses and
quizzes and uses both; learners never reach it."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from academy.core.access import INSTRUCTOR
from academy.core.web import NavEntry


def _menu(_sender: Any) -> list[NavEntry]:
    return [NavEntry(_l("Studio"), "studio.index", (INSTRUCTOR,), 20)]


def init_app(app: Flask) -> None:
    from academy.core import signals

    signals.nav_items.connect(_menu)
