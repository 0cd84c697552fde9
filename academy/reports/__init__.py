"""Read-only reports for instructors and admins; writes nothing."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from academy.core.access import ADMIN
from academy.core.web import NavEntry


def _menu(_sender: Any) -> list[NavEntry]:
    return [NavEntry(_l("Reports"), "reports.index", (ADMIN,), 80)]


def init_app(app: Flask) -> None:
    from academy.core import signals

    signals.nav_items.connect(_menu)
