from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, gettext
from flask_login import current_user
from sqlalchemy import text

from academy.core import faults, signals
from academy.core.i18n import LANG_COOKIE, SESSION_LANG
from academy.extensions import csrf, db
from academy.main import pwa

bp = Blueprint("main", __name__, template_folder="templates")


@bp.route("/")
def home():
    """Signed-in people go where they work; the feature that owns that page says which
    (the `role_home` signal)."""
    if current_user.is_authenticated:
        for _receiver, endpoint in signals.role_home.send(current_user._get_current_object()):
            if endpoint and endpoint in current_app.view_functions:
                return redirect(url_for(endpoint))
    return render_template("main/home.html")


@bp.route("/language", methods=["POST"])
def set_language():
    language = request.form.get("language", "")
    if language not in current_app.config["LANGUAGES"]:
        abort(400)
    if current_user.is_authenticated:
        current_user.locale = language
        session[SESSION_LANG] = language
    target = request.form.get("next") or ""
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("main.home")
    response = redirect(target)
    response.set_cookie(
        LANG_COOKIE, language, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )  # fmt: skip
    return response


@bp.route("/healthz")
@csrf.exempt
def healthz():
    storage = faults.storage_report(current_app)
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # the point of a health check is to report, not to raise
        current_app.logger.error("health check failed: %s", exc)
        return jsonify(status="error", database="unreachable", storage=storage), 503
    # Low on space is still serving (200), but monitoring sees "warning" before learners do.
    return jsonify(status="warning" if storage["warning"] else "ok", database="ok", storage=storage)


@bp.route("/manifest.webmanifest")
def manifest():
    response = jsonify(pwa.manifest())
    response.mimetype = "application/manifest+json"
    return response


@bp.route("/sw.js")
def service_worker():
    # At the site root so the worker's scope is every page. Browsers check for a new worker on
    # each visit; no-cache makes that check reach us, so a deploy reaches every phone.
    script = render_template(
        "main/sw.js",
        release=pwa.release(),
        shell=pwa.shell_urls(),
        offline=url_for("main.offline"),
        sign_out=url_for("auth.sign_out"),
    )
    response = current_app.response_class(script, mimetype="text/javascript")
    response.cache_control.no_cache = True
    return response


@bp.route("/offline")
def offline():
    with force_locale("th"):
        name = gettext("Academy")
    return render_template("main/offline.html", texts=pwa.offline_texts(), name=name)
