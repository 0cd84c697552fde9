"""Courses, modules and lessons: the models, the catalogue and the lesson reader (the
instructor's side is the studio feature)."""

from functools import partial

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from academy.core.markdown import render_markdown
    from academy.core.web import register_nav
    from academy.courses import access  # noqa: F401 - registers course.view / course.edit

    # Pages show stored text: one beyond the Markdown limits appears as plain text, not a 500.
    app.jinja_env.filters.setdefault("markdown", partial(render_markdown, fallback=True))
    register_nav(_l("Courses"), "courses.catalogue", (), order=10)
