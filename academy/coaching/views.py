"""Coaching pages: "my learners", one learner's timeline with notes and milestones, the
learner's own path, and the admins' milestone list. Thin: parse, call services, render."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup

from academy.auth.models import User
from academy.coaching import services
from academy.coaching.models import CHANNELS, LINE, LIVE, PHONE, VISIT, Milestone
from academy.core.access import ADMIN, INSTRUCTOR, LEARNER, authorize, role_is, role_required
from academy.core.clock import local_date, utcnow
from academy.core.errors import ServiceError
from academy.courses import services as courses
from academy.courses.models import Track
from academy.extensions import db

bp = Blueprint("coaching", __name__, template_folder="templates")

CHANNEL_LABELS = {
    VISIT: _l("Visit"),
    PHONE: _l("Phone"),
    LINE: _l("LINE"),
    LIVE: _l("During a live"),
}


def _learner_or_404(user_id: int, permission: str) -> User:
    learner = db.session.get(User, user_id)
    if learner is None:
        abort(404)
    authorize(permission, learner, hide=True)
    return learner


def _milestone_or_404(milestone_id: int) -> Milestone:
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None:
        abort(404)
    return milestone


@bp.route("/coaching")
@role_required(INSTRUCTOR)
def my_learners():
    page = request.args.get("page", "1")
    term = (request.args.get("q") or "")[:100]
    rows, pagination = services.my_learners(
        current_user, page=int(page) if page.isdigit() and len(page) < 6 else 1, term=term
    )
    return render_template("coaching/my_learners.html", rows=rows, page=pagination, term=term)


def _learner_page(learner: User, error: str | None = None, form: Any = None, status: int = 200):
    return (
        render_template(
            "coaching/learner.html",
            learner=learner,
            events=services.timeline(learner),
            paths=services.paths(learner),
            channels=[(c, CHANNEL_LABELS[c]) for c in CHANNELS],
            channel_labels=CHANNEL_LABELS,
            today=local_date(utcnow()).isoformat(),
            error=error,
            form=form or {},
        ),
        status,
    )


@bp.route("/coaching/learners/<int:user_id>")
@role_required(INSTRUCTOR)
def learner(user_id: int):
    return _learner_page(_learner_or_404(user_id, "learner.coach"))


@bp.route("/coaching/learners/<int:user_id>/notes", methods=["POST"])
@role_required(INSTRUCTOR)
def add_note(user_id: int):
    learner = _learner_or_404(user_id, "learner.coach")
    try:
        services.add_note(
            current_user,
            learner,
            held_on=request.form.get("held_on"),
            channel=request.form.get("channel", ""),
            discussed=request.form.get("discussed", ""),
            next_step=request.form.get("next_step"),
        )
    except ServiceError as exc:
        return _learner_page(learner, exc.message, request.form, 400)
    flash(_("Note saved."), "success")
    return redirect(url_for("coaching.learner", user_id=learner.id))


def _back(learner: User):
    if learner.id == current_user.id:
        return redirect(url_for("coaching.my_path"))
    return redirect(url_for("coaching.learner", user_id=learner.id))


@bp.route("/coaching/learners/<int:user_id>/milestones/<int:milestone_id>", methods=["POST"])
@login_required
def tick(user_id: int, milestone_id: int):
    learner = _learner_or_404(user_id, "milestone.tick")
    milestone = _milestone_or_404(milestone_id)
    try:
        services.tick(
            current_user,
            learner,
            milestone,
            reached_on=request.form.get("reached_on"),
            evidence=request.form.get("evidence"),
        )
    except ServiceError as exc:
        if learner.id == current_user.id:
            return _path_page(exc.message, request.form, 400)
        return _learner_page(learner, exc.message, request.form, 400)
    flash(_("Milestone ticked."), "success")
    return _back(learner)


@bp.route("/coaching/learners/<int:user_id>/milestones/<int:milestone_id>/remove", methods=["POST"])
@login_required
def untick(user_id: int, milestone_id: int):
    learner = _learner_or_404(user_id, "milestone.tick")
    services.untick(current_user, learner, _milestone_or_404(milestone_id))
    return _back(learner)


def _path_page(error: str | None = None, form: Any = None, status: int = 200):
    return (
        render_template(
            "coaching/path.html",
            paths=services.paths(current_user),
            today=local_date(utcnow()).isoformat(),
            error=error,
            form=form or {},
        ),
        status,
    )


@bp.route("/milestones")
@login_required
def my_path():
    return _path_page()


def path_section(user: Any) -> Markup | None:
    """The learner's dashboard shows their path (the `dashboard_sections` signal)."""
    if not role_is(user, LEARNER):
        return None
    found = services.paths(user)
    if not found:
        return None
    # render_template escaped every value already (autoescape is on for .html).
    return Markup(render_template("coaching/_path_section.html", paths=found))  # noqa: S704


@bp.route("/coaching/milestones", methods=["GET", "POST"])
@role_required(ADMIN)
def milestones():
    error = None
    if request.method == "POST":
        courses.ensure_standard_tracks()
        raw = request.form.get("track", "")
        track = db.session.get(Track, int(raw)) if raw.isdigit() and len(raw) < 10 else None
        if track is None:
            error = _("Choose a programme.")
        else:
            try:
                if request.form.get("action") == "defaults":
                    services.add_defaults(track)
                else:
                    services.add_milestone(
                        track, request.form.get("title_th", ""), request.form.get("title_en")
                    )
            except ServiceError as exc:
                error = exc.message
            else:
                flash(_("Milestones saved."), "success")
                return redirect(url_for("coaching.milestones"))
    tracks = courses.list_tracks()
    return (
        render_template(
            "coaching/milestones.html",
            tracks=[(t, services.milestones_of_track(t.id)) for t in tracks],
            error=error,
            default_tracks=services.DEFAULT_TRACKS,
        ),
        400 if error else 200,
    )


@bp.route("/coaching/milestones/<int:milestone_id>/delete", methods=["POST"])
@role_required(ADMIN)
def delete_milestone(milestone_id: int):
    services.delete_milestone(_milestone_or_404(milestone_id))
    flash(_("Milestone deleted."), "success")
    return redirect(url_for("coaching.milestones"))
