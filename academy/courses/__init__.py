"""Courses, modules and lessons: the models, the catalogue and the lesson reader (the
instructor's side is the studio feature)."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from academy.core.web import NavEntry


def _menu(_sender: Any) -> list[NavEntry]:
    return [NavEntry(_l("Courses"), "courses.catalogue", (), 10)]


def _learning(user: Any) -> bool:
    from academy.courses.services import is_enrolled_anywhere

    return is_enrolled_anywhere(user)


def init_app(app: Flask) -> None:
    from academy.core import signals
    from academy.core.markdown import render_markdown
    from academy.courses import access  # noqa: F401 - registers course.view / course.edit
    from academy.courses.outline_cache import init_app as keep_outlines

    keep_outlines(app)

    # Pages show stored text: one beyond the Markdown limits appears as plain text, not a 500.
    app.jinja_env.filters.setdefault("markdown", partial(render_markdown, fallback=True))
    signals.nav_items.connect(_menu)
    signals.is_learning.connect(_learning)
