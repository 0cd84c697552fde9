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
    app.after_request(services.render_after_response)
    register_nav(_l("My certificates"), "certificates.mine", roles=("learner",), order=60)
