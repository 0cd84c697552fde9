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
    from academy.certificates import issuing, rendering, verification
    from academy.core import signals
    from academy.core.errors import ConfigError

    # weak=False: the receiver is a module function, kept for the life of the process.
    signals.course_completed.connect(issuing.on_course_completed, weak=False)
    configured = app.config.get("PUBLIC_BASE_URL")
    if configured:
        problem = verification.check_base_url(str(configured))
        if problem:
            raise ConfigError(problem)
    elif not app.testing:
        app.logger.warning(
            "PUBLIC_BASE_URL is not set: certificates print the address each learner's browser "
            "used to reach this server. Set ACADEMY_PUBLIC_BASE_URL=https://your.site so every "
            "QR code leads to the public address (docs/certificates.md)."
        )
    signals.nav_items.connect(_menu)
    app.after_request(rendering.render_after_response)
