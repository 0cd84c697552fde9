"""Certificates: issued once on course completion, a Thai PDF, public verification."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from academy.core.access import LEARNER
from academy.core.web import NavEntry


def _menu(_sender: Any) -> list[NavEntry]:
    return [NavEntry(_l("My certificates"), "certificates.mine", (LEARNER,), 60)]


def init_app(app: Flask) -> None:
    from academy.certificates import issuing, rendering
    from academy.core import signals

    # weak=False: the receiver is a module function, kept for the life of the process.
    signals.course_completed.connect(issuing.on_course_completed, weak=False)
    signals.nav_items.connect(_menu)
    app.after_request(rendering.render_after_response)
