"""Courses, modules and lessons: the catalogue, the lesson reader, the studio and the
courses/ folder loader."""

from functools import partial

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from academy.core.access import INSTRUCTOR
    from academy.core.markdown import render_markdown
    from academy.core.web import register_nav
    from academy.courses import access  # noqa: F401 - registers course.view / course.edit
    from academy.courses.studio import bp as studio_bp

    app.register_blueprint(studio_bp)
    # Pages show stored text: one beyond the Markdown limits appears as plain text, not a 500.
    app.jinja_env.filters.setdefault("markdown", partial(render_markdown, fallback=True))
    register_nav(_l("Courses"), "courses.catalogue", (), order=10)
    register_nav(_l("Studio"), "studio.index", (INSTRUCTOR,), order=20)
