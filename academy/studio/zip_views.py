"""A course as one ZIP file in the studio: download it, upload one to create or update a course
(studio/bundle.py does the work and the checks)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from academy.core.access import INSTRUCTOR, role_required
from academy.core.errors import ServiceError
from academy.studio import bundle
from academy.studio.blueprint import bp
from academy.studio.course_views import _course, _upload
from academy.studio.forms import CourseZipForm


@bp.route("/studio/courses/<int:course_id>/course.zip")
def course_zip(course_id: int):
    course = _course(course_id)
    response = current_app.response_class(bundle.course_zip(course), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{course.slug}.zip"'
    return response


@bp.route("/studio/courses/upload", methods=["GET", "POST"])
@role_required(INSTRUCTOR)
def upload_course():
    """Upload a course ZIP: "Check" reads and checks it and stores nothing; "Upload" creates or
    updates the course, all or nothing."""
    form = CourseZipForm()
    outcome = problem = None
    if form.validate_on_submit():
        upload = _upload(form.file)
        dry_run = request.form.get("action") == "check"
        if upload is None:
            form.file.errors = [_("Please choose a ZIP file.")]
        else:
            try:
                outcome = bundle.import_zip(current_user, upload[1], dry_run=dry_run)
            except ServiceError as exc:
                problem = exc.message
            else:
                if outcome.course is not None:
                    flash(
                        _("Course created from the ZIP.")
                        if outcome.created
                        else _("Course updated from the ZIP; learners' progress is kept."),
                        "success",
                    )
                    return redirect(url_for("studio.course", course_id=outcome.course.id))
    status = 400 if (problem or form.errors) else 200
    return render_template(
        "studio/upload.html", form=form, outcome=outcome, problem=problem
    ), status
