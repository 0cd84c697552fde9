"""The admin's pages: schools, their computer rooms, and programmes."""

from __future__ import annotations

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from academy.classes import services
from academy.classes.blueprint import bp, form_error, form_status
from academy.classes.forms import (
    ProgrammeForm,
    RoomForm,
    SchoolForm,
)
from academy.classes.models import School
from academy.core.access import ADMIN, role_required
from academy.core.errors import ServiceError
from academy.extensions import db

# --- schools, rooms, programmes (admins) ---------------------------------------------------


@bp.route("/admin/schools", methods=["GET", "POST"])
@role_required(ADMIN)
def schools():
    form = SchoolForm()
    if form.validate_on_submit():
        try:
            school = services.save_school(None, form.name.data, form.district.data)
        except ServiceError as exc:
            form_error(form, exc, "name")
        else:
            flash(_("School %(name)s added.", name=school.name), "success")
            return redirect(url_for("classes.schools"))
    term = (request.args.get("q") or "").strip()
    return render_template(
        "classes/schools.html", rows=services.schools_with_counts(term), form=form, term=term
    ), form_status(form)


@bp.route("/admin/schools/<int:school_id>", methods=["GET", "POST"])
@role_required(ADMIN)
def school(school_id: int):
    school = db.session.get(School, school_id) or abort(404)
    form = SchoolForm(obj=school, prefix="school")
    room_form = RoomForm(prefix="room")
    if "school-name" in request.form and form.validate_on_submit():
        try:
            services.save_school(school, form.name.data, form.district.data)
        except ServiceError as exc:
            form_error(form, exc, "name")
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("classes.school", school_id=school.id))
    elif "room-name" in request.form and room_form.validate_on_submit():
        try:
            room = services.save_room(school, None, room_form.name.data, room_form.seats.data)
        except ServiceError as exc:
            form_error(room_form, exc, "name")
        else:
            flash(_("Room %(name)s added.", name=room.name), "success")
            return redirect(url_for("classes.school", school_id=school.id))
    return render_template(
        "classes/school.html",
        school=school,
        rooms=services.rooms_with_counts(school),
        form=form,
        room_form=room_form,
    ), (400 if form.errors or room_form.errors else 200)


@bp.route("/admin/programmes", methods=["GET", "POST"])
@role_required(ADMIN)
def programmes():
    form = ProgrammeForm()
    if form.validate_on_submit():
        try:
            programme = services.save_programme(
                None, form.name.data, form.kind.data, form.place.data
            )
        except ServiceError as exc:
            form_error(form, exc, "name")
        else:
            flash(_("Programme %(name)s added.", name=programme.name), "success")
            return redirect(url_for("classes.programmes"))
    return render_template(
        "classes/programmes.html", programmes=services.all_programmes(), form=form
    ), form_status(form)
