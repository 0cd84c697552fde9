"""The unchanged poll answered before Flask: `GET /period/now` with an If-None-Match that
still holds is the most frequent request of a school (40 PCs a room, every 5 seconds), and the
full stack (request context, session, the request's transaction, the after-request hooks)
costs several times the one statement that decides it. This WSGI layer, in front of the app,
reads the signed session cookie as Flask does, runs that one statement (services.poller: the
session row in its lifetime, the session version, active, the running period) and answers 304
itself. Anything else (no cookie, a bad signature, a session that is over, a changed state,
an error of any kind) goes on to Flask unchanged, which answers as before: 401, the 200 with
the new state, or the fault pages. So the shortcut can only ever say "nothing changed" for a
session the view would have accepted."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from itsdangerous import BadSignature
from werkzeug.http import parse_cookie, parse_etags

from academy.core.clock import utcnow
from academy.core.i18n import LANG_COOKIE, pick_locale
from academy.core.web import static_security_headers
from academy.extensions import db
from academy.periods import services
from academy.periods.banner import poll_etag

PATH = "/period/now"


class PollShortcut:
    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self._serializer: Any = None
        self._statement: services.PollStatement | None = None

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if (
            environ.get("PATH_INFO") == PATH
            and environ.get("REQUEST_METHOD") == "GET"
            and environ.get("HTTP_IF_NONE_MATCH")
        ):
            try:
                etag = self._unchanged(environ)
            except Exception:
                etag = None
            if etag is not None:
                headers = [*self._headers, ("ETag", etag)]
                start_response("304 NOT MODIFIED", headers)
                return []
        return self.wsgi_app(environ, start_response)

    @property
    def _headers(self) -> list[tuple[str, str]]:
        # What the view's 304 carries: private and never stored, varying with the cookie, and
        # the site's security headers.
        return [
            ("Cache-Control", "no-store"),
            ("Vary", "Cookie"),
            *static_security_headers(self.app),
        ]

    def _unchanged(self, environ: dict) -> str | None:
        """The ETag when the browser's copy is still right, else None."""
        app = self.app
        cookies = parse_cookie(environ)
        value = cookies.get(app.config["SESSION_COOKIE_NAME"])
        if not value:
            return None
        if self._serializer is None:
            self._serializer = app.session_interface.get_signing_serializer(app)
        lifetime = app.permanent_session_lifetime
        try:
            session = self._serializer.loads(value, max_age=int(lifetime.total_seconds()))
        except BadSignature:
            return None
        ident, _sep, version = str(session.get("_user_id") or "").partition(":")
        token = session.get("sid")
        if not (ident.isdigit() and version.isdigit() and isinstance(token, str) and token):
            return None
        if self._statement is None:
            with app.app_context():
                self._statement = services.PollStatement(db.engine)
        found = self._statement.run(int(ident), int(version), token[:100], utcnow(), lifetime)
        if found is None:
            return None  # the session is over: the view answers 401
        locale = pick_locale(app.config, found.locale, cookies.get(LANG_COOKIE))
        etag = poll_etag(found.state, locale)
        wanted = parse_etags(environ["HTTP_IF_NONE_MATCH"])
        return etag if wanted.contains(etag.strip('"')) else None


def install(app: Flask) -> None:
    app.wsgi_app = PollShortcut(app, app.wsgi_app)  # type: ignore[method-assign]
