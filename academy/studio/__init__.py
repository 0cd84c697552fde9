"""The instructor's workshop: courses, modules, lessons, files and co-authors; the quiz editor;
the courses/ folder format (load and export) and its commands. It sits above courses and
quizzes and uses both; learners never reach it."""

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from academy.core.access import INSTRUCTOR
    from academy.core.web import register_nav

    register_nav(_l("Studio"), "studio.index", (INSTRUCTOR,), order=20)
