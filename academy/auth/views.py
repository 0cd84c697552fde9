from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from wtforms import SelectChoice

from academy.auth import access, recovery, services
from academy.auth.forms import (
    ChangePasswordForm,
    ConfirmForm,
    NewPersonForm,
    RecoverForm,
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
)
from academy.core.errors import ServiceError
from academy.core.settings import self_registration_open
from academy.extensions import db

bp = Blueprint("auth", __name__, template_folder="templates")


# Browsers read a backslash as a slash and drop tabs and newlines inside a URL, so "/\\evil",
# "/\t/evil" and "\\\\evil" all lead off-site; encoded forms (%2F, %5C, %09) are read the same
# way by some proxies and browsers. Only a plain path on this site is followed.
_UNSAFE_IN_NEXT = re.compile(r"[\\\x00-\x1f\x7f]")


def _safe_next(target: str | None) -> str | None:
    """The `next` target if it is a path on this site, else None (the caller goes home)."""
    if not target or len(target) > 2000:
        return None
    decoded = target
    for _round in range(3):  # %252F is %2F once decoded, and some servers decode twice
        decoded = unquote(decoded)
    for candidate in (target, decoded):
        if _UNSAFE_IN_NEXT.search(candidate):
            return None
        if not candidate.startswith("/") or candidate.startswith("//"):
            return None
        parts = urlsplit(candidate)
        if parts.scheme or parts.netloc:
            return None
    return target


DEVICE_COOKIE = "signin_devices"


def _client_address() -> str:
    return request.remote_addr or "unknown"


def _begin_session(user: User) -> None:
    """A fresh session for this browser (nothing of the previous learner on this PC stays),
    recorded on the server so that signing out can end it. Commits."""
    token = services.start_session(user)
    session.clear()
    session["sid"] = token
    login_user(user)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignInForm()
    error = None
    if request.method == "GET" and not form.username.data:
        # A sign-in card's QR code opens this page with the username filled in (never the
        # password).
        form.username.data = (request.args.get("username") or "")[:64]
    if form.validate_on_submit():
        devices = request.cookies.get(DEVICE_COOKIE)
        try:
            user = services.authenticate(
                form.username.data,
                form.password.data,
                _client_address(),
                device=services.device_for(devices, form.username.data),
            )
        except ServiceError as exc:
            error = exc.message
        else:
            _begin_session(user)
            if user.must_change_password:
                response = redirect(url_for("auth.change_password"))
            else:
                next_page = _safe_next(request.args.get("next"))
                response = redirect(next_page or url_for("main.home"))
            # This browser is now known for the account: a stranger's failures elsewhere (or
            # at the next PC) cannot hold it back.
            response.set_cookie(
                DEVICE_COOKIE,
                services.remember_device(devices, user),
                max_age=current_app.config["SIGNIN_DEVICE_COOKIE_DAYS"] * 86400,
                httponly=True,
                samesite="Lax",
                secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
            )
            return response
    elif request.method == "POST":
        error = _("Please enter your username and password.")
    status = 400 if error and request.method == "POST" else 200
    return render_template("auth/sign_in.html", form=form, error=error), status


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    if current_user.is_authenticated and request.args.get("everywhere") == "1":
        services.sign_out_everywhere(current_user._get_current_object())
    else:
        # Only this browser: the learner's phone or another PC stays signed in.
        services.end_session(session.get("sid"))
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
            codes = recovery.new_codes(user)
            _begin_session(user)
            flash(_("Welcome, %(name)s! Your account is ready.", name=user.full_name), "success")
            # Shown this once (the page is no-store like every signed-in page), never stored;
            # its "continue" goes on to where the learner was going (from the join poster:
            # sign-in page -> register -> "join this class").
            onward = _safe_next(request.args.get("next")) or url_for("main.home")
            return render_template(
                "auth/recovery_codes.html", codes=codes, first=True, onward=onward
            )
    return render_template("auth/register.html", form=form), (400 if form.errors else 200)


@bp.route("/recover", methods=["GET", "POST"])
def recover():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RecoverForm()
    if form.validate_on_submit():
        try:
            user = recovery.recover(
                form.username.data, form.code.data, form.password.data, _client_address()
            )
        except ServiceError as exc:
            getattr(form, exc.field or "code").errors.append(exc.message)
        else:
            _begin_session(user)
            flash(
                _(
                    "Your new password is set. %(left)d recovery codes are left.",
                    left=recovery.codes_left(user),
                ),
                "success",
            )
            return redirect(url_for("main.home"))
    return render_template("auth/recover.html", form=form), (400 if form.errors else 200)


@bp.route("/account/recovery-codes", methods=["POST"])
@login_required
def new_recovery_codes():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    codes = recovery.new_codes(user)
    audit.record("user.recovery_codes", user)
    return render_template("auth/recovery_codes.html", codes=codes, first=False)


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
            # Every session ended with the old password; this browser gets a new one, so only
            # the others are signed out.
            _begin_session(user)
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form), (400 if form.errors else 200)


@bp.route("/people")
@role_required(INSTRUCTOR)
def people():
    query = select(User).where(access.manageable_filter(current_user))
    query = query.order_by(User.role, User.username)
    term = (request.args.get("q") or "").strip()
    if term:
        like = f"%{term}%"
        query = query.where(User.username.ilike(like) | User.full_name.ilike(like))
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("auth/people.html", page=page, term=term, form=ConfirmForm())


def _role_choices():
    choices = [SelectChoice("learner", _("Learner"))]
    if access.may_set_role(current_user):
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
    temp, owner = services.reset_password_asked(person, by=current_user)
    audit.record(audit.PASSWORD_RESET, person, **({"asked_of": owner} if owner else {}))
    # Shown once, never stored in clear: the page is no-store like every signed-in page.
    return render_template(
        "auth/temporary_password.html", person=person, password=temp, waiting_for=owner
    )


def _asked(owner: str) -> None:
    flash(
        _("The change waits for %(owner)s: it is made there at its next round. Admin > School "
          "servers shows when it was made, or why not.", owner=owner),
        "success",
    )  # fmt: skip


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
        old, owner = services.set_role_asked(person, role, by=current_user)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        if old != role:
            audit.record(audit.ROLE_CHANGE, person, old=old, new=role,
                         **({"asked_of": owner} if owner else {}))  # fmt: skip
        if owner:
            _asked(owner)
        else:
            flash(_("%(name)s's role has been changed.", name=person.full_name), "success")
    return redirect(url_for("auth.people", q=request.args.get("q") or None))


@bp.route("/people/<int:person_id>/active", methods=["POST"])
@role_required(ADMIN)
def change_active(person_id: int):
    person = _admin_action(person_id)
    active = request.form.get("active") == "1"
    try:
        owner = services.set_active_asked(person, active, by=current_user)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        audit.record(audit.ACTIVE_CHANGE, person, active=active,
                     **({"asked_of": owner} if owner else {}))  # fmt: skip
        if owner:
            _asked(owner)
        elif active:
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
