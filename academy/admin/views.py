from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from academy.auth.forms import SettingsForm
from academy.core import audit
from academy.core.access import ADMIN, role_required
from academy.core.clock import local_day_start
from academy.core.models import AuditEntry
from academy.core.settings import SELF_REGISTRATION, self_registration_open, set_setting
from academy.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


@bp.route("/", methods=["GET", "POST"])
@role_required(ADMIN)
def index():
    form = SettingsForm()
    if form.validate_on_submit():
        before = self_registration_open()
        set_setting(SELF_REGISTRATION, "1" if form.self_registration.data else "0")
        if before != bool(form.self_registration.data):
            audit.record(
                audit.SETTING_CHANGE, key=SELF_REGISTRATION, value=bool(form.self_registration.data)
            )
        flash(_("Settings saved."), "success")
        return redirect(url_for("admin.index"))
    form.self_registration.data = self_registration_open()
    return render_template("admin/index.html", form=form)


def _parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.route("/audit")
@role_required(ADMIN)
def audit_log():
    """Newest first, 50 a page; filter by action, person (actor or target) and date range."""
    filters = {
        "action": (request.args.get("action") or "").strip(),
        "person": (request.args.get("person") or "").strip().lower(),
        "since": _parse_day(request.args.get("since")),
        "until": _parse_day(request.args.get("until")),
    }
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if filters["action"]:
        query = query.where(AuditEntry.action == filters["action"])
    if filters["person"]:
        query = query.where(
            (AuditEntry.actor_username == filters["person"])
            | ((AuditEntry.target_type == "users") & (AuditEntry.target_label == filters["person"]))
        )
    if filters["since"]:
        query = query.where(AuditEntry.at >= local_day_start(filters["since"]))
    if filters["until"]:
        query = query.where(AuditEntry.at < local_day_start(filters["until"] + timedelta(days=1)))
    page = db.paginate(query, per_page=50, error_out=False)
    actions = db.session.scalars(
        select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    ).all()
    args = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in filters.items() if v}
    return render_template(
        "admin/audit.html", page=page, filters=filters, actions=actions, args=args
    )
