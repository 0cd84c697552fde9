from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from academy.auth.forms import SettingsForm
from academy.core.access import ADMIN, role_required
from academy.core.settings import SELF_REGISTRATION, self_registration_open, set_setting
from academy.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


@bp.route("/", methods=["GET", "POST"])
@role_required(ADMIN)
def index():
    form = SettingsForm()
    if form.validate_on_submit():
        set_setting(SELF_REGISTRATION, "1" if form.self_registration.data else "0")
        db.session.commit()
        flash(_("Settings saved."), "success")
        return redirect(url_for("admin.index"))
    form.self_registration.data = self_registration_open()
    return render_template("admin/index.html", form=form)
