"""The instructor's pages: my classes, a class (courses, members, instructors, join code),
importing learners from CSV, new passwords and sign-in cards."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import timedelta
from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from academy.auth.forms import ConfirmForm
from academy.auth.models import User
from academy.classes import access, importer, services
from academy.classes.blueprint import bp, class_or_404, form_error, form_status
from academy.classes.cards import cards_pdf, join_link, poster_pdf
from academy.classes.forms import (
    ClassForm,
    ConfirmImportForm,
    EnrolForm,
    ImportForm,
    InstructorForm,
    JoinCodeForm,
    MoveForm,
)
from academy.classes.models import Class, ClassMember, School
from academy.core import audit, progress
from academy.core.access import ADMIN, INSTRUCTOR, role_required
from academy.core.clock import local_date
from academy.core.db import utcnow
from academy.core.errors import ServiceError
from academy.core.i18n import translated
from academy.courses.models import PUBLISHED, Course
from academy.extensions import db

# Audited actions (academy/core/audit.py): who changed a class's people, and when.
CLASS_IMPORT = "class.import"
CLASS_PASSWORDS_RESET = "class.passwords_reset"
CLASS_MEMBER_REMOVE = "class.member_remove"
CLASS_INSTRUCTOR_ADD = "class.instructor_add"
CLASS_INSTRUCTOR_REMOVE = "class.instructor_remove"
CLASS_MEMBER_MOVE = "class.member_move"
CLASS_COURSE_ADD = "class.course_add"
CLASS_COURSE_REMOVE = "class.course_remove"
CLASS_JOIN_CODE = "class.join_code"


# --- my classes ----------------------------------------------------------------------------


@bp.route("/classes")
@role_required(INSTRUCTOR)
def my_classes():
    school_id = request.args.get("school", type=int)
    every_school = access.may_manage_org(current_user)
    rows = services.classes_for(current_user, school_id if every_school else None)
    schools = list(db.session.scalars(select(School).order_by(School.name))) if every_school else []
    return render_template("classes/list.html", rows=rows, schools=schools, school_id=school_id)


def _place_choices() -> list[SelectChoice]:
    choices = [SelectChoice("", _("Choose..."))]
    for room in services.all_rooms():
        choices.append(SelectChoice(f"room:{room.id}", f"{room.school.name} · {room.name}"))
    for programme in services.all_programmes():
        choices.append(SelectChoice(f"programme:{programme.id}", programme.name))
    return choices


@bp.route("/classes/new", methods=["GET", "POST"])
@role_required(INSTRUCTOR)
def new_class():
    form = ClassForm()
    form.place.choices = _place_choices()
    if form.validate_on_submit():
        kind, _sep, ident = form.place.data.partition(":")
        try:
            klass = services.create_class(
                current_user,
                form.name.data,
                room_id=int(ident) if kind == "room" else None,
                programme_id=int(ident) if kind == "programme" else None,
                capacity=form.capacity.data,
            )
        except ServiceError as exc:
            form_error(form, exc, "name")
        else:
            flash(_("Class %(name)s created.", name=klass.name), "success")
            return redirect(url_for("classes.detail", class_id=klass.id))
    return render_template("classes/new.html", form=form), form_status(form)


def _detail_context(klass: Class, **forms) -> dict:
    members = services.members_of(klass)
    courses = services.courses_of(klass)
    taken = {c.id for c in courses}
    enrol = forms.get("enrol_form") or EnrolForm()
    enrol.course.choices = [SelectChoice("", _("Choose..."))] + [
        SelectChoice(str(c.id), translated(c, "title"))
        for c in db.session.scalars(
            select(Course).where(Course.status == PUBLISHED).order_by(Course.title_th)
        )
        if c.id not in taken
    ]
    move = MoveForm()
    move.target.choices = [
        SelectChoice(str(c.id), c.name) for c in services.other_classes(current_user, klass)
    ]
    code_form = forms.get("code_form") or JoinCodeForm()
    if not code_form.expires_on.data:
        code_form.expires_on.data = (
            local_date(klass.join_code_expires_at) - timedelta(days=1)
            if klass.join_code_expires_at
            else None
        )
    views = current_app.view_functions
    return {
        "klass": klass,
        "members": members,
        "courses": courses,
        "instructors": services.instructors_of(klass),
        "capacity": services.class_capacity(klass),
        "code_expired": klass.join_code_expires_at is not None
        and klass.join_code_expires_at <= utcnow(),
        "enrol_form": enrol,
        "move_form": move,
        "code_form": code_form,
        "instructor_form": forms.get("instructor_form") or InstructorForm(),
        "confirm_form": ConfirmForm(),
        "gradebook": "progress.gradebook" in views,
        "stuck": "progress.stuck" in views,
        "period": "periods.console" in views,
    }


@bp.route("/classes/<int:class_id>")
@role_required(INSTRUCTOR)
def detail(class_id: int):
    klass = class_or_404(class_id)
    return render_template("classes/detail.html", **_detail_context(klass))


def _back(klass: Class):
    return redirect(url_for("classes.detail", class_id=klass.id))


@bp.route("/classes/<int:class_id>/courses", methods=["POST"])
@role_required(INSTRUCTOR)
def enrol(class_id: int):
    klass = class_or_404(class_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    course_id = request.form.get("course", type=int)
    course = db.session.get(Course, course_id) if course_id else None
    if course is None or course.status != PUBLISHED:
        flash(_("Choose a published course."), "error")
        return _back(klass)
    count = services.enrol_class(klass, course)
    audit.record(CLASS_COURSE_ADD, klass, course=course.slug, enrolled=count)
    flash(
        _("The class takes %(course)s; %(n)d learner(s) enrolled.",
          course=translated(course, "title"), n=count),
        "success",
    )  # fmt: skip
    return _back(klass)


@bp.route("/classes/<int:class_id>/courses/<int:course_id>/remove", methods=["POST"])
@role_required(INSTRUCTOR)
def unenrol(class_id: int, course_id: int):
    klass = class_or_404(class_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.unenrol_class(klass, course_id)
    audit.record(CLASS_COURSE_REMOVE, klass, course_id=course_id)
    flash(_("The class no longer takes this course; learners keep their progress."), "success")
    return _back(klass)


def _member_or_404(klass: Class, user_id: int) -> User:
    if db.session.get(ClassMember, (klass.id, user_id)) is None:
        abort(404)
    return db.session.get(User, user_id)


@bp.route("/classes/<int:class_id>/members/<int:user_id>/remove", methods=["POST"])
@role_required(INSTRUCTOR)
def remove_member(class_id: int, user_id: int):
    klass = class_or_404(class_id)
    person = _member_or_404(klass, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.remove_member(klass, user_id)
    audit.record(CLASS_MEMBER_REMOVE, person, class_id=klass.id, class_name=klass.name)
    flash(_("%(name)s left the class.", name=person.full_name), "success")
    return _back(klass)


@bp.route("/classes/<int:class_id>/members/<int:user_id>/move", methods=["POST"])
@role_required(INSTRUCTOR)
def move_member(class_id: int, user_id: int):
    klass = class_or_404(class_id)
    person = _member_or_404(klass, user_id)
    form = MoveForm()
    form.target.choices = [
        SelectChoice(str(c.id), c.name) for c in services.other_classes(current_user, klass)
    ]
    if not form.validate_on_submit():
        flash(_("Choose another class you teach."), "error")
        return _back(klass)
    target = class_or_404(int(form.target.data))
    try:
        services.move_member(klass, user_id, target)
    except ServiceError as exc:
        flash(exc.message, "error")
        return _back(klass)
    audit.record(CLASS_MEMBER_MOVE, person, class_id=klass.id, target_class_id=target.id)
    flash(_("%(name)s moved to %(target)s.", name=person.full_name, target=target.name), "success")
    return _back(klass)


@bp.route("/classes/<int:class_id>/code", methods=["POST"])
@role_required(INSTRUCTOR)
def new_code(class_id: int):
    klass = class_or_404(class_id)
    form = JoinCodeForm()
    if form.validate_on_submit():
        try:
            code = services.new_join_code(klass, form.expires_on.data)
        except ServiceError as exc:
            form_error(form, exc, "expires_on")
        else:
            expires = form.expires_on.data
            audit.record(CLASS_JOIN_CODE, klass, expires_on=expires and expires.isoformat())
            flash(_("New join code: %(code)s. The old code no longer works.", code=code), "success")
            return _back(klass)
    ctx = _detail_context(klass, code_form=form)
    return render_template("classes/detail.html", **ctx), 400


@bp.route("/classes/<int:class_id>/instructors", methods=["POST"])
@role_required(ADMIN)
def add_instructor(class_id: int):
    klass = class_or_404(class_id)
    form = InstructorForm()
    if form.validate_on_submit():
        try:
            person = services.assign_instructor(klass, form.username.data)
        except ServiceError as exc:
            form_error(form, exc, "username")
        else:
            audit.record(CLASS_INSTRUCTOR_ADD, person, class_id=klass.id, class_name=klass.name)
            flash(_("%(name)s now teaches this class.", name=person.full_name), "success")
            return _back(klass)
    ctx = _detail_context(klass, instructor_form=form)
    return render_template("classes/detail.html", **ctx), 400


@bp.route("/classes/<int:class_id>/instructors/<int:user_id>/remove", methods=["POST"])
@role_required(ADMIN)
def remove_instructor(class_id: int, user_id: int):
    klass = class_or_404(class_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.unassign_instructor(klass, user_id)
    audit.record(CLASS_INSTRUCTOR_REMOVE, klass, user_id=user_id)
    return _back(klass)


# --- import, passwords and sign-in cards ---------------------------------------------------


@bp.route("/classes/<int:class_id>/import", methods=["GET", "POST"])
@role_required(INSTRUCTOR)
def import_class(class_id: int):
    klass = class_or_404(class_id)
    form = ImportForm()
    plan = None
    data = ""
    if form.validate_on_submit():
        raw = form.file.data.read(importer.MAX_BYTES + 1)
        plan = importer.parse(raw)
        if not plan.problems:
            importer.check(plan, klass)
        data = base64.b64encode(raw).decode("ascii") if plan.ok else ""
    return render_template(
        "classes/import.html",
        klass=klass,
        form=form,
        plan=plan,
        data=data,
        web_max=importer.WEB_MAX_ROWS,
        confirm_form=ConfirmImportForm(),
    ), (400 if form.errors or (plan and plan.problems) else 200)


@bp.route("/classes/<int:class_id>/import/confirm", methods=["POST"])
@role_required(INSTRUCTOR)
def confirm_import(class_id: int):
    klass = class_or_404(class_id)
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        raw = base64.b64decode(form.data.data or "", validate=True)
    except (binascii.Error, ValueError):
        abort(400)
    # Checked again: someone may have taken a username since the dry run.
    plan = importer.check(importer.parse(raw), klass)
    if plan.ok and len(plan.rows) > importer.WEB_MAX_ROWS:
        plan.problems.append((None, _("Too many rows for the web page; use the command line.")))
    if not plan.ok:
        return render_template(
            "classes/import.html", klass=klass, form=ImportForm(), plan=plan, data="",
            web_max=importer.WEB_MAX_ROWS, confirm_form=ConfirmImportForm(),
        ), 400  # fmt: skip
    # The page polls import_progress meanwhile (static/js/classes.js): a few hundred
    # passwords take a while to hash.
    token = request.form.get("progress", "")
    watched = _progress_file(klass, token) if PROGRESS_TOKEN.fullmatch(token) else None
    try:
        created = importer.apply(plan, klass, progress.to_file(watched) if watched else None)
    finally:
        if watched:
            watched.unlink(missing_ok=True)
    audit.record(CLASS_IMPORT, klass, learners=len(created))
    return render_template(
        "classes/credentials.html",
        klass=klass,
        people=[(c.user_id, c.username, c.full_name, c.password) for c in created],
        title=_("%(n)d learner(s) imported", n=len(created)),
    )


PROGRESS_TOKEN = re.compile(r"[0-9a-f]{32}")


def _progress_file(klass: Class, token: str) -> Path:
    folder = Path(current_app.config["DATA_DIR"]) / "progress"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"class-import-{klass.id}-{token}.json"


@bp.route("/classes/<int:class_id>/import/progress/<token>")
@role_required(INSTRUCTOR)
def import_progress(class_id: int, token: str):
    """How far the import this page started has come: {"done", "total"}."""
    klass = class_or_404(class_id)
    if not PROGRESS_TOKEN.fullmatch(token):
        abort(404)
    state = progress.read_file(_progress_file(klass, token))
    return jsonify(done=state["done"], total=state["total"])


@bp.route("/classes/<int:class_id>/reset-passwords", methods=["POST"])
@role_required(INSTRUCTOR)
def reset_passwords(class_id: int):
    klass = class_or_404(class_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    people = services.reset_learner_passwords(klass)
    audit.record(CLASS_PASSWORDS_RESET, klass, learners=len(people))
    return render_template(
        "classes/credentials.html",
        klass=klass,
        people=people,
        title=_("New passwords for %(n)d learner(s)", n=len(people)),
    )


@bp.route("/classes/<int:class_id>/cards", methods=["POST"])
@role_required(INSTRUCTOR)
def cards(class_id: int):
    klass = class_or_404(class_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    # Passwords come back from the page that showed them once; only members get a card.
    given = {
        int(key[5:]): value
        for key, value in request.form.items()
        if key.startswith("pass-") and key[5:].isdigit()
    }
    people = [(p.full_name, p.username, given.get(p.id)) for p in services.members_of(klass)]
    pdf = cards_pdf(klass, people)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="class-{klass.id}-cards.pdf"'},
    )


@bp.route("/classes/<int:class_id>/poster.pdf")
@role_required(INSTRUCTOR)
def poster(class_id: int):
    """The A4 join poster: a large QR code of the join link, the code, the class and room."""
    klass = class_or_404(class_id)
    link = join_link(klass)
    if link is None:
        flash(_("This class has no join code that works: make a new code first."), "error")
        return _back(klass)
    return Response(
        poster_pdf(klass, link),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="class-{klass.id}-poster.pdf"'},
    )
