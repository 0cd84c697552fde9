from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from wtforms import SelectChoice

from academy.auth import services
from academy.auth.forms import (
    ChangePasswordForm,
    ConfirmForm,
    NewPersonForm,
    RegisterForm,
    SignInForm,
)
from academy.auth.models import SELLER, User
from academy.core import audit
from academy.core.access import (
    ADMIN,
    INSTRUCTOR,
    LEARNER,
    ROLES,
    authorize,
    role_required,
    rule,
)
from academy.core.errors import ServiceError
from academy.core.settings import self_registration_open
from academy.extensions import db

bp = Blueprint("auth", __name__, template_folder="templates")


@rule("person.manage")
def _may_manage_person(user: User, person: User) -> bool:
    """Admins manage everyone; instructors manage the learners they teach (schools have no
    e-mail, so the teacher is the one who resets a forgotten password), not every learner."""
    if user.role == ADMIN:
        return True
    return (
        user.role == INSTRUCTOR
        and person is not None
        and person.role == LEARNER
        and services.looks_after(user, person)
    )


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _client_address() -> str:
    return request.remote_addr or "unknown"


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.username.data, form.password.data, _client_address())
        except ServiceError as exc:
            error = exc.message
        else:
            # A fresh session on every sign-in: nothing of the previous learner on this PC stays.
            session.clear()
            login_user(user)
            if user.must_change_password:
                return redirect(url_for("auth.change_password"))
            return redirect(_safe_next(request.args.get("next")) or url_for("main.home"))
    elif request.method == "POST":
        error = _("Please enter your username and password.")
    status = 400 if error and request.method == "POST" else 200
    return render_template("auth/sign_in.html", form=form, error=error), status


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    response = redirect(url_for("auth.sign_in"))
    # A shared school PC keeps nothing of this learner: the browser drops its HTTP cache, the
    # service worker's caches and registration, and local storage (the cookie is cleared above).
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.route("/register", methods=["GET", "POST"])
def register():
    if not self_registration_open():
        return render_template("auth/register_closed.html"), 403
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user, _temp = services.create_user(
                form.username.data,
                form.full_name.data,
                password=form.password.data,
                learner_kind=SELLER,
                shop_name=form.shop_name.data,
                phone=form.phone.data,
                locale=request.cookies.get("lang"),
            )
        except ServiceError as exc:
            getattr(form, exc.field or "username").errors.append(exc.message)
        else:
            session.clear()
            login_user(user)
            flash(_("Welcome, %(name)s! Your account is ready.", name=user.full_name), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/register.html", form=form), (400 if form.errors else 200)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(user, form.current_password.data, form.password.data)
        except ServiceError as exc:
            getattr(form, exc.field or "password").errors.append(exc.message)
        else:
            # The version in the cookie changed with the password; sign this browser in again
            # so only the other sessions end.
            login_user(user)
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form), (400 if form.errors else 200)


@bp.route("/people")
@role_required(INSTRUCTOR)
def people():
    query = select(User).order_by(User.role, User.username)
    if current_user.role != ADMIN:
        query = query.where(User.role == LEARNER, services.learners_of(current_user))
    term = (request.args.get("q") or "").strip()
    if term:
        like = f"%{term}%"
        query = query.where(User.username.ilike(like) | User.full_name.ilike(like))
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("auth/people.html", page=page, term=term, form=ConfirmForm())


def _role_choices():
    choices = [SelectChoice("learner", _("Learner"))]
    if current_user.role == ADMIN:
        choices += [SelectChoice("instructor", _("Instructor")), SelectChoice("admin", _("Admin"))]
    return choices


@bp.route("/people/new", methods=["GET", "POST"])
@role_required(INSTRUCTOR)
def new_person():
    form = NewPersonForm()
    form.role.choices = _role_choices()
    if form.validate_on_submit():
        try:
            user, temp = services.create_user(
                form.username.data,
                form.full_name.data,
                role=form.role.data,
                learner_kind=form.learner_kind.data if form.role.data == LEARNER else None,
                shop_name=form.shop_name.data,
                phone=form.phone.data,
            )
        except ServiceError as exc:
            getattr(form, exc.field or "username").errors.append(exc.message)
        else:
            audit.record(audit.USER_CREATE, user, role=user.role)
            return render_template("auth/temporary_password.html", person=user, password=temp)
    return render_template("auth/new_person.html", form=form), (400 if form.errors else 200)


def _person_or_404(person_id: int) -> User:
    person = db.session.get(User, person_id)
    if person is None:
        abort(404)
    authorize("person.manage", person, hide=True)
    return person


@bp.route("/people/<int:person_id>/reset-password", methods=["POST"])
@role_required(INSTRUCTOR)
def reset_password(person_id: int):
    person = _person_or_404(person_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    temp = services.reset_password(person)
    audit.record(audit.PASSWORD_RESET, person)
    # Shown once, never stored in clear: the page is no-store like every signed-in page.
    return render_template("auth/temporary_password.html", person=person, password=temp)


def _admin_action(person_id: int) -> User:
    person = _person_or_404(person_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return person


@bp.route("/people/<int:person_id>/role", methods=["POST"])
@role_required(ADMIN)
def change_role(person_id: int):
    person = _admin_action(person_id)
    role = request.form.get("role", "")
    if role not in ROLES:
        abort(400)
    try:
        old = services.set_role(person, role, by=current_user)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        if old != role:
            audit.record(audit.ROLE_CHANGE, person, old=old, new=role)
        flash(_("%(name)s's role has been changed.", name=person.full_name), "success")
    return redirect(url_for("auth.people", q=request.args.get("q") or None))


@bp.route("/people/<int:person_id>/active", methods=["POST"])
@role_required(ADMIN)
def change_active(person_id: int):
    person = _admin_action(person_id)
    active = request.form.get("active") == "1"
    try:
        services.set_active(person, active, by=current_user)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        audit.record(audit.ACTIVE_CHANGE, person, active=active)
        if active:
            flash(_("%(name)s's account is switched on.", name=person.full_name), "success")
        else:
            flash(_("%(name)s's account is switched off.", name=person.full_name), "success")
    return redirect(url_for("auth.people", q=request.args.get("q") or None))


@bp.route("/people/<int:person_id>/sign-out-everywhere", methods=["POST"])
@role_required(ADMIN)
def sign_out_person_everywhere(person_id: int):
    person = _admin_action(person_id)
    services.sign_out_everywhere(person)
    audit.record(audit.SIGN_OUT_EVERYWHERE, person)
    flash(_("%(name)s has been signed out on every device.", name=person.full_name), "success")
    return redirect(url_for("auth.people", q=request.args.get("q") or None))
