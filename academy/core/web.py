"""What every page shares: security headers, no-store on private pages, error pages, and the
template helpers. Registered once in create_app."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, abort, current_app, redirect, render_template, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, user_logged_in
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from academy.core import access, compress, faults, signals
from academy.core.assets import fixed_url
from academy.core.i18n import (
    current_language,
    format_date,
    format_datetime,
    localized,
    remember_locale,
    request_locale,
    translated,
)
from academy.core.learning import is_learning, shown_percent

# No inline script or style anywhere: every script is a file the app serves. The service
# worker (/sw.js) and the web app manifest are ours too: worker-src and manifest-src say so
# rather than lean on the fallback to default-src.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; font-src 'self'; worker-src 'self'; manifest-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# For an SVG served on its own: it must not run anything even if a check were ever missed.
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


@dataclass(frozen=True)
class NavEntry:
    label: Any  # a lazy string, translated when the page is drawn
    endpoint: str
    roles: tuple[str, ...]  # empty: everyone, signed in or not
    order: int


def nav_items() -> list[dict[str, Any]]:
    """The header menu: every feature's entries (the `nav_items` signal) this role may use."""
    entries = sorted(
        (entry for _receiver, answer in signals.nav_items.send() for entry in answer),
        key=lambda e: e.order,
    )
    items = []
    learning: bool | None = None
    user = current_user._get_current_object()  # once, not through the proxy per entry
    for entry in entries:
        if entry.roles and not access.has_role(user, *entry.roles):
            continue
        if entry.roles == (access.LEARNER,) and access.role_is(user, access.ADMIN):
            # An admin's menu has the learner's pages only if they are also learning.
            if learning is None:
                learning = is_learning(user)
            if not learning:
                continue
        url = fixed_url(entry.endpoint)
        current = request.path == url or (url != "/" and request.path.startswith(url + "/"))
        items.append({"label": entry.label, "url": url, "current": current})
    return items


def _markup_answers(signal: Any) -> Markup:
    """The markup every receiver of `signal` answers for the signed-in person, in order."""
    if not getattr(current_user, "is_authenticated", False):
        return Markup("")
    answers = signal.send(current_user._get_current_object())
    return Markup("").join(html for _receiver, html in answers if html)


def static_security_headers(app: Flask) -> list[tuple[str, str]]:
    """The headers every response carries, whoever asks (also for an answer made before
    Flask's request, like the period poll's 304)."""
    headers = [
        ("Content-Security-Policy", CSP),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
        # Browsers' old XSS auditors are gone or harmful: say so explicitly (OWASP's advice).
        ("X-XSS-Protection", "0"),
    ]
    if app.config.get("SESSION_COOKIE_SECURE"):
        # Served over HTTPS (docs/security.md): browsers must never fall back to plain HTTP.
        headers.append(("Strict-Transport-Security", "max-age=31536000"))
    return headers


def page_banners() -> Markup:
    """The notices higher features put above a learner's page (the `page_banners` signal)."""
    return _markup_answers(signals.page_banners)


def dashboard_sections() -> Markup:
    """The sections higher features add to the learner's dashboard (`dashboard_sections`)."""
    return _markup_answers(signals.dashboard_sections)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    for name, value in static_security_headers(current_app):
        headers.setdefault(name, value)
    if (
        request.endpoint not in ("static", "static_versioned")
        # A response that declares itself public (a published course's content-addressed
        # file) is the same for everyone and may be cached.
        and not (response.cache_control.public and response.status_code < 400)
        # current_user last: after a commit it would reload the signed-in user (a query) to
        # learn what a POST or an error already decides.
        and (
            request.method != "GET"
            or response.status_code >= 400
            # A view that said no-store itself (the period poll) is private: no user lookup.
            or response.cache_control.no_store
            or current_user.is_authenticated
        )
    ):
        # A shared PC must never show the previous learner's pages: nothing private is kept
        # by the browser or by any cache between it and us, and Back cannot reopen it.
        headers["Cache-Control"] = "no-store"
        headers["Vary"] = "Cookie"
    return response


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" or request.path.startswith("/api/")


def _error_page(error: HTTPException):
    code = error.code or 500
    original = getattr(error, "original_exception", None)
    if code == 500 and isinstance(original, Exception):
        # Raised after the view, e.g. by the request's commit (core/transaction.py): Flask
        # wraps it in a 500; it may be a fault of the machine with its own page.
        return _server_error(original)
    if code == 401:
        if _wants_json():
            return {"error": "sign-in required"}, 401
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
    if _wants_json():
        return {"error": error.name, "description": error.description}, code
    template = {403: "errors/403.html", 404: "errors/404.html"}.get(code, "errors/error.html")
    try:
        # The full page (menu, who is signed in) needs the account, so the database.
        return render_template(template, error=error, code=code), code
    except Exception as exc:  # the database went away while drawing it: say that instead
        return _server_error(exc)


def _rollback_quietly() -> None:
    from academy.extensions import db

    try:
        db.session.rollback()
    except Exception:  # a dead connection; the pool replaces it on the next checkout
        current_app.logger.debug("rollback after an error failed", exc_info=True)


def _fault_page(template: str, code: int, message: str, headers: dict | None = None):
    """A page that needs nothing that can fail: no database, no account, the language from
    the session or cookie (request_locale), a template that extends no menu."""
    if _wants_json():
        return {"error": message, "status": code, **(_fault_flags(code))}, code, headers or {}
    with force_locale(request_locale()):
        # Straight from the Jinja environment: render_template would run the context
        # processors, and flask-login's loads the signed-in account from the database.
        page = current_app.jinja_env.get_template(template).render(code=code)
    return page, code, headers or {}


def _fault_flags(code: int) -> dict:
    return {"storage_full": True} if code == 507 else {}


def _server_error(error: Exception):
    _rollback_quietly()
    if faults.is_storage_full(error):
        faults.note_storage_full(current_app)
        current_app.logger.error(
            "storage full on %s %s: %s (free space: /healthz)", request.method, request.path, error
        )
        with force_locale(request_locale()):
            message = _("The server's storage is full, so this was not saved.")
        return _fault_page("errors/507.html", 507, message)
    if faults.is_database_unavailable(error):
        current_app.logger.error(
            "database unavailable on %s %s: %s", request.method, request.path, error
        )
        with force_locale(request_locale()):
            message = _("The database is not answering just now; please try again.")
        retry = {"Retry-After": str(faults.RETRY_AFTER_SECONDS)}
        return _fault_page("errors/503.html", 503, message, retry)
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return _fault_page("errors/500.html", 500, "Internal Server Error")


# The largest id a row of ours can have (64-bit signed, on SQLite and PostgreSQL alike).
MAX_ID = 2**63 - 1


class _IdConverter(IntegerConverter):
    """<int:...> in URLs: an id no row can have is no match (404), not a database overflow."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _bound_url_ids(app: Flask) -> None:
    app.url_map.converters["int"] = _IdConverter
    for rule in app.url_map.iter_rules():  # rules registered before this ran
        for converter in rule._converters.values():
            if isinstance(converter, IntegerConverter) and converter.max is None:
                converter.max = MAX_ID


def _out_of_range(error: Exception):
    """A number too big for the database (an id in a query string or form field): the row
    cannot exist, so 404 rather than a 500. Other database errors stay 500s."""
    from academy.extensions import db

    if isinstance(error, DataError) and "out of range" not in str(error.orig).lower():
        return _server_error(error)
    db.session.rollback()
    return _error_page(NotFound())


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_JSON_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_JSON_INNERMOST = re.compile(r"\[\]|\{\}")


def json_nesting_ok(text: str, max_depth: int) -> bool:
    """True when no array or object in `text` lies more than `max_depth` deep. Linear passes in
    C (strings out, then innermost pairs out once per level), so it is safe to run before the
    parser, whose recursion a 100,000-deep body would exhaust (RecursionError, a 500)."""
    brackets = _JSON_NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    for _level in range(max_depth):
        if not brackets:
            return True
        brackets, removed = _JSON_INNERMOST.subn("", brackets)
        if not removed:
            return False  # unbalanced: not JSON, refused as such
    return not brackets


def _json_refused(message: str) -> tuple[dict[str, str], int]:
    return {"error": message}, 400


def _check_input():
    """Before any view: no NUL character anywhere (PostgreSQL refuses it, SQLite would keep it
    invisibly), and a JSON body small and shallow enough to parse safely. Every JSON endpoint
    reads its body through request.get_json, which parses only is_json bodies: this covers all."""
    values = [*request.args.values(), *request.form.values()]
    if request.is_json:
        limit = current_app.config["JSON_MAX_BYTES"]
        too_large = _("The answer is too large (at most %(kb)d KB).", kb=limit // 1024)
        if (request.content_length or 0) > limit:
            return _json_refused(too_large)
        body = request.get_data(as_text=True)
        if len(body) > limit:
            return _json_refused(too_large)
        depth = current_app.config["JSON_MAX_DEPTH"]
        if not json_nesting_ok(body, depth):
            return _json_refused(
                _("The answer is nested too deeply (at most %(n)d levels).", n=depth)
            )
        values.append(body.replace("\\u0000", "\x00"))
    if any("\x00" in value for value in values):
        abort(400, description="The request holds a NUL character, which no field may contain.")
    return None


def _csrf_error(error: CSRFError):
    if _wants_json():
        return {"error": "csrf", "description": error.description}, 400
    try:
        return render_template("errors/error.html", error=error, code=400, csrf=True), 400
    except Exception as exc:  # as in _error_page: the database went away while drawing it
        return _server_error(exc)


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, except that an error page never starts a session. A cross-site
    POST arrives without the browser's cookie (SameSite=Lax) and is refused (CSRF, 400); had
    that page set a fresh cookie (its forms need a CSRF token), the browser would have dropped
    the person's real session for it: any website could sign a learner out mid-quiz."""

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if response.status_code >= 400 and self.get_cookie_name(app) not in request.cookies:
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = _SessionInterface()
    if app.config.get("PROXY_FIX_HOPS"):
        hops = int(app.config["PROXY_FIX_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    # after_request runs last-registered first: compress after the headers are final.
    compress.init_app(app)
    app.after_request(_security_headers)
    app.before_request(_check_input)
    _bound_url_ids(app)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(OverflowError, _out_of_range)  # SQLite: int beyond 64 bits
    app.register_error_handler(DataError, _out_of_range)  # PostgreSQL: numeric out of range
    app.register_error_handler(HTTPException, _error_page)
    app.register_error_handler(Exception, _server_error)
    user_logged_in.connect(remember_locale, app)
    app.jinja_env.globals.update(
        can=access.can,
        has_role=access.has_role,
        is_admin=access.is_admin,
        nav_items=nav_items,
        page_banners=page_banners,
        dashboard_sections=dashboard_sections,
        current_language=current_language,
        storage_warning=lambda: faults.storage_report(current_app)["warning"],
    )
    app.jinja_env.filters.update(
        percent=shown_percent,
        date=format_date,
        datetime=format_datetime,
        localized=localized,
        tr=translated,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
