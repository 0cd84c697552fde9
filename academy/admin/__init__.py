"""The admin area: site settings, and (from the hardening work) the audit log."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from academy.core.access import ADMIN, INSTRUCTOR
from academy.core.web import NavEntry


def _menu(_sender: Any) -> list[NavEntry]:
    return [
        NavEntry(_l("People"), "auth.people", (INSTRUCTOR,), 80),
        NavEntry(_l("Admin"), "admin.index", (ADMIN,), 90),
    ]


def init_app(app: Flask) -> None:
    from academy.core import signals

    signals.nav_items.connect(_menu)
