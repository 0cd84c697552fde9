"""Certificates: issued once on course completion, a Thai PDF, public verification."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from academy.certificates import services
    from academy.core import signals
    from academy.core.web import register_nav

    # weak=False: the receiver is a module function, kept for the life of the process.
    signals.course_completed.connect(services.on_course_completed, weak=False)
    configured = app.config.get("PUBLIC_BASE_URL")
    if configured:
        from academy.core.errors import ConfigError

        problem = services.check_base_url(str(configured))
        if problem:
            raise ConfigError(problem)
    elif not app.testing:
        app.logger.warning(
            "PUBLIC_BASE_URL is not set: certificates print the address each learner's browser "
            "used to reach this server. Set ACADEMY_PUBLIC_BASE_URL=https://your.site so every "
            "QR code leads to the public address (docs/certificates.md)."
        )
    app.after_request(services.render_after_response)
    register_nav(_l("My certificates"), "certificates.mine", roles=("learner",), order=60)
