"""What every page shares: security headers, no-store on private pages, error pages, and the
template helpers. Registered once in create_app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from academy.core import access, compress
from academy.core.i18n import format_date, format_datetime, localized, translated

# No inline script or style anywhere: every script is a file the app serves.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class NavEntry:
    label: Any  # a lazy string, translated when the page is drawn
    endpoint: str
    roles: tuple[str, ...]  # empty: everyone, signed in or not
    order: int


_nav: list[NavEntry] = []


def register_nav(label: Any, endpoint: str, roles: tuple[str, ...] = (), order: int = 50) -> None:
    """Features add their main pages to the header menu; the menu shows what the role may use."""
    if not any(e.endpoint == endpoint for e in _nav):
        _nav.append(NavEntry(label, endpoint, roles, order))
        _nav.sort(key=lambda e: e.order)


def nav_items() -> list[dict[str, Any]]:
    items = []
    for entry in _nav:
        if entry.roles and not access.has_role(current_user, *entry.roles):
            continue
        url = url_for(entry.endpoint)
        current = request.path == url or (url != "/" and request.path.startswith(url + "/"))
        items.append({"label": entry.label, "url": url, "current": current})
    return items


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if (
        request.endpoint not in ("static", "static_versioned")
        # A response that declares itself public (a published course's content-addressed
        # file) is the same for everyone and may be cached.
        and not (response.cache_control.public and response.status_code < 400)
        # current_user last: after a commit it would reload the signed-in user (a query) to
        # learn what a POST or an error already decides.
        and (
            request.method != "GET" or response.status_code >= 400 or current_user.is_authenticated
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
    if code == 401:
        if _wants_json():
            return {"error": "sign-in required"}, 401
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
    if _wants_json():
        return {"error": error.name, "description": error.description}, code
    template = {403: "errors/403.html", 404: "errors/404.html"}.get(code, "errors/error.html")
    return render_template(template, error=error, code=code), code


def _server_error(error: Exception):
    from flask import current_app

    from academy.extensions import db

    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    if _wants_json():
        return {"error": "Internal Server Error"}, 500
    return render_template("errors/500.html"), 500


def _csrf_error(error: CSRFError):
    if _wants_json():
        return {"error": "csrf", "description": error.description}, 400
    return render_template("errors/error.html", error=error, code=400, csrf=True), 400


def init_app(app: Flask) -> None:
    if app.config.get("PROXY_FIX_HOPS"):
        hops = int(app.config["PROXY_FIX_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    # after_request runs last-registered first: compress after the headers are final.
    compress.init_app(app)
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _error_page)
    app.register_error_handler(Exception, _server_error)
    app.jinja_env.globals.update(
        can=access.can,
        has_role=access.has_role,
        nav_items=nav_items,
        current_language=lambda: str(get_locale()),
    )
    app.jinja_env.filters.update(
        date=format_date,
        datetime=format_datetime,
        localized=localized,
        tr=translated,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
