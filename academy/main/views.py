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
from flask_login import current_user
from sqlalchemy import text

from academy.core import faults
from academy.core.i18n import LANG_COOKIE, SESSION_LANG
from academy.extensions import csrf, db

bp = Blueprint("main", __name__, template_folder="templates")

# Where each role works. Features that own these pages register them with `home_for`.
_homes: dict[str, str] = {}


def home_for(role: str, endpoint: str) -> None:
    _homes[role] = endpoint


@bp.route("/")
def home():
    if current_user.is_authenticated:
        endpoint = _homes.get(current_user.role)
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
