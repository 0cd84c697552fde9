"""The learner's page: joining a class with its code."""

from __future__ import annotations

from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from academy.classes import services
from academy.classes.blueprint import bp, form_error, form_status
from academy.classes.forms import (
    JoinForm,
)
from academy.core.access import LEARNER, role_required
from academy.core.errors import ServiceError

# --- joining with a code -------------------------------------------------------------------


@bp.route("/join", methods=["GET", "POST"])
@role_required(LEARNER)
def join():
    form = JoinForm()
    if request.method == "GET" and not form.code.data:
        # The projector's QR code links here with the class's code filled in.
        form.code.data = (request.args.get("code") or "")[:16]
    if form.validate_on_submit():
        try:
            result = services.join_with_code(
                current_user, form.code.data, request.remote_addr or "unknown"
            )
        except ServiceError as exc:
            form_error(form, exc, "code")
        else:
            if result.already:
                flash(_("You are already in %(name)s.", name=result.klass.name), "info")
            else:
                flash(_("Welcome to %(name)s!", name=result.klass.name), "success")
            return redirect(url_for("main.home"))
    return render_template("classes/join.html", form=form), form_status(form)
