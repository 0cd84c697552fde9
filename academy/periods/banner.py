"""The learner's banner "Your class is on: ...", answered to the `page_banners` signal so the
pages that show it (dashboard, course, lesson) never import this feature."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request, url_for
from flask_babel import get_locale
from markupsafe import Markup

from academy.core import signals
from academy.core.clock import utcnow
from academy.extensions import db
from academy.periods import services
from academy.periods.models import Period


def item_url(item: services.ItemView) -> str:
    if item.kind == services.LESSON:
        return url_for("courses.lesson", slug=item.course.slug, key=item.obj.key)
    return url_for("quizzes.quiz", quiz_id=item.obj.id)


def poll_etag(state: services.PollState | None, locale: str | None = None) -> str:
    """The poll's ETag: which period, how often it changed, and the language of the title."""
    return f'"{state.etag if state else "none"}.{locale or get_locale()}"'


def _banner(user: Any, **_kwargs: Any) -> Markup | None:
    if getattr(user, "role", None) != "learner":
        return None
    state = services.poll_state(user, utcnow())
    if state is None:
        return _idle_banner()
    item = None
    if state is not None:
        item = services.current_item(db.session.get(Period, state.period_id))
    # render_template escaped every value already (autoescape is on for .html).
    return Markup(  # noqa: S704
        render_template(
            "periods/_banner.html",
            state=state,
            etag=poll_etag(state),
            item=item,
            url=item_url(item) if item else None,
        )
    )


def _idle_banner() -> Markup:
    """The hidden banner that waits for a period: the same for every learner in a language,
    so it is drawn once per process and language instead of on every page (issue 15)."""
    idle = current_app.extensions.setdefault("academy.idle_banner", {})
    key = (str(get_locale()), request.script_root)
    if key not in idle:
        idle[key] = Markup(  # noqa: S704 - render_template escaped every value
            render_template(
                "periods/_banner.html", state=None, etag=poll_etag(None), item=None, url=None
            )
        )
    return idle[key]


def connect() -> None:
    signals.page_banners.connect(_banner)
