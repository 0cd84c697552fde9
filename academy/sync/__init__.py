"""School servers and the city (docs/sync.md): joining, pushing what a school owns, pulling
the city's courses. Above every feature whose rows it moves; none of them imports it."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from academy.core.access import ADMIN
from academy.core.web import NavEntry


def _menu(_sender: Any) -> list[NavEntry]:
    return [NavEntry(_l("School servers"), "sync.index", (ADMIN,), 95)]


def init_app(app: Flask) -> None:
    from academy.core import signals

    signals.nav_items.connect(_menu)
