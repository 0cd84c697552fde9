"""Assignment pages: thin views over academy.assignments.services."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from academy.assignments import links, photos, rubric, services
from academy.assignments.models import (
    NEEDS_CHANGES,
    NOT_HANDED_IN,
    PASSED,
    WAITING,
    Assignment,
    Submission,
    SubmissionPhoto,
)
from academy.auth.models import User
from academy.classes.models import Class, ClassInstructor
from academy.core.access import authorize, can, is_admin, role_required
from academy.core.errors import ServiceError
from academy.courses import access as course_access
from academy.courses.models import Course
from academy.extensions import db

bp = Blueprint("assignments", __name__, template_folder="templates")

STATE_LABELS = {
    NOT_HANDED_IN: _l("Not handed in"),
    WAITING: _l("Waiting for review"),
    NEEDS_CHANGES: _l("Needs changes"),
    PASSED: _l("Passed"),
}
KIND_LABELS = {"photos": _l("Photos"), "links": _l("Links"), "text": _l("Text")}


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {
        "assignment_state_label": lambda state: str(STATE_LABELS.get(state, state)),
        "link_host": links.host_of,
    }


def _assignment_or_404(assignment_id: int) -> tuple[Assignment, Course]:
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        abort(404)
    course = db.session.get(Course, assignment.course_id)
    if not course_access.may_view(current_user, course):
        abort(404)
    return assignment, course


def _submission_or_404(submission_id: int, permission: str) -> Submission:
    submission = db.session.get(Submission, submission_id)
    if submission is None:
        abort(404)
    authorize(permission, submission, hide=True)
    return submission


def _page(assignment: Assignment, course: Course, error: str | None = None, status: int = 200):
    versions = services.versions(assignment, current_user.id)
    reviews = services.reviews_of(versions)
    newest = versions[0] if versions else None
    state = newest.status if newest else NOT_HANDED_IN
    may_hand_in = can("assignment.hand_in", assignment) and state in (NOT_HANDED_IN, NEEDS_CHANGES)
    left = services.resubmissions_left(assignment, len(versions))
    if versions and left == 0:
        may_hand_in = False
    return (
        render_template(
            "assignments/assignment.html",
            assignment=assignment,
            course=course,
            criteria=services.criteria_of(assignment),
            versions=versions,
            reviews=reviews,
            state=state,
            may_hand_in=may_hand_in,
            enrolled=can("assignment.hand_in", assignment),
            token=services.new_token(),
            error=error,
            max_photos=min(assignment.max_photos or 1, services.MAX_PHOTOS),
            kind_labels=KIND_LABELS,
        ),
        status,
    )


# ------------------------------------------------------------------------------ learners


@bp.route("/assignments/<int:assignment_id>")
@login_required
def assignment(assignment_id: int):
    found, course = _assignment_or_404(assignment_id)
    return _page(found, course)


@bp.route("/assignments/<int:assignment_id>/hand-in", methods=["POST"])
@login_required
def hand_in(assignment_id: int):
    found, course = _assignment_or_404(assignment_id)
    authorize("assignment.hand_in", found)
    uploads = []
    for upload in request.files.getlist("photos"):
        # Big uploads are spooled to a temporary file: read it, then let it go at once.
        with upload.stream:
            uploads.append(services.Upload(upload.filename or "", upload.read()))
    try:
        services.hand_in(
            current_user,
            found,
            token=request.form.get("token", ""),
            text=request.form.get("text"),
            links=(request.form.get("links") or "").splitlines(),
            photos=uploads,
        )
    except ServiceError as exc:
        return _page(found, course, error=exc.message, status=400)
    flash(_("Handed in. Your coach will review it."), "success")
    return redirect(url_for("assignments.assignment", assignment_id=found.id))


@bp.route("/assignments/mine")
@login_required
def mine():
    return render_template("assignments/mine.html", rows=services.my_assignments(current_user))


@bp.route("/submissions/<int:submission_id>/photos/<int:position>")
@login_required
def photo(submission_id: int, position: int):
    submission = _submission_or_404(submission_id, "submission.view")
    found = db.session.scalar(
        db.select(SubmissionPhoto).where(
            SubmissionPhoto.submission_id == submission.id, SubmissionPhoto.position == position
        )
    )
    if found is None:
        abort(404)
    path = photos.photo_path(found.sha256)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=0, conditional=False, etag=False)
    # Private work: never cached by a shared PC's browser or a proxy, never sniffed.
    response.headers["Cache-Control"] = "no-store, private"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response


# ------------------------------------------------------------------------------ reviewers


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 18 else None


@bp.route("/reviews")
@role_required("instructor")
def queue():
    class_id, course_id = _int_arg("class"), _int_arg("course")
    waiting = services.review_queue(current_user, class_id=class_id, course_id=course_id)
    learners = {u.id: u for u in db.session.scalars(
        db.select(User).where(User.id.in_({s.user_id for s in waiting}))
    )}  # fmt: skip
    if is_admin(current_user):
        classes = list(db.session.scalars(db.select(Class).order_by(Class.name)))
    else:
        classes = list(db.session.scalars(
            db.select(Class).join(ClassInstructor, ClassInstructor.class_id == Class.id)
            .where(ClassInstructor.user_id == current_user.id).order_by(Class.name)
        ))  # fmt: skip
    choices = services.reviewable_courses(current_user)
    courses = {c.id: c for c in choices}
    missing = {s.course_id for s in waiting} - set(courses)
    if missing:  # a coached learner's course that none of the coach's classes takes
        courses.update({c.id: c for c in db.session.scalars(
            db.select(Course).where(Course.id.in_(missing))
        )})  # fmt: skip
    return render_template(
        "assignments/queue.html",
        waiting=waiting,
        learners=learners,
        courses=courses,
        course_choices=choices,
        classes=classes,
        class_id=class_id,
        course_id=course_id,
    )


def _results_from_form(criteria: list[rubric.Criterion]) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for criterion in criteria:
        raw = request.form.get(f"c-{criterion.id}", "")
        entry: dict[str, Any] = {}
        if criterion.type == rubric.TICK:
            if raw in ("done", "not_yet"):
                entry["done"] = raw == "done"
        elif raw.isdigit() and len(raw) < 6:
            entry["points"] = int(raw)
        note = request.form.get(f"note-{criterion.id}", "")
        if note.strip():
            entry["comment"] = note
        if entry:
            results[criterion.id] = entry
    return results


@bp.route("/submissions/<int:submission_id>/review", methods=["GET", "POST"])
@login_required
def review(submission_id: int):
    submission = _submission_or_404(submission_id, "submission.review")
    found = db.session.get(Assignment, submission.assignment_id)
    criteria = services.criteria_of(found)
    error = None
    if request.method == "POST":
        try:
            services.review(
                current_user,
                submission,
                results=_results_from_form(criteria),
                comment=request.form.get("comment"),
                passed=request.form.get("decision") == "passed",
            )
        except ServiceError as exc:
            error = exc.message
        else:
            flash(_("Review saved. The learner can see it now."), "success")
            return redirect(url_for("assignments.queue"))
    versions = services.versions(found, submission.user_id)
    return (
        render_template(
            "assignments/review.html",
            submission=submission,
            assignment=found,
            course=db.session.get(Course, found.course_id),
            learner=db.session.get(User, submission.user_id),
            criteria=criteria,
            versions=versions,
            reviews=services.reviews_of(versions),
            error=error,
            form=request.form if request.method == "POST" else {},
        ),
        400 if error else 200,
    )
