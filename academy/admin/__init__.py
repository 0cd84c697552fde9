"""The admin area: site settings, and (from the hardening work) the audit log."""

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from academy.core.access import ADMIN, INSTRUCTOR
    from academy.core.web import register_nav

    register_nav(_l("People"), "auth.people", (INSTRUCTOR,), order=80)
    register_nav(_l("Admin"), "admin.index", (ADMIN,), order=90)
