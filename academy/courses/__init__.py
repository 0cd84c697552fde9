"""Courses, modules and lessons: the catalogue, the lesson reader, the studio and the
courses/ folder loader."""

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from academy.core.access import INSTRUCTOR
    from academy.core.markdown import render_markdown
    from academy.core.web import register_nav
    from academy.courses import access  # noqa: F401 - registers course.view / course.edit
    from academy.courses.studio import bp as studio_bp

    app.register_blueprint(studio_bp)
    app.jinja_env.filters.setdefault("markdown", render_markdown)
    register_nav(_l("Courses"), "courses.catalogue", (), order=10)
    register_nav(_l("Studio"), "studio.index", (INSTRUCTOR,), order=20)
