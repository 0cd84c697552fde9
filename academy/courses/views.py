"""The learner side: catalogue, course page, lessons, enrolment, course files.

Page views (GET) never write. The lesson page reports "viewed" (and the seconds spent) with a
small POST beacon from static/js/courses.js; "Mark as done" and "Enrol" are POST forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from academy.core.errors import ServiceError
from academy.core.learning import learner_state
from academy.core.web import SVG_CSP
from academy.courses import access, files, offline, services
from academy.courses.models import CourseAsset
from academy.extensions import db

bp = Blueprint("courses", __name__, template_folder="templates")

YEAR = 365 * 24 * 3600


def _visible_course(slug: str):
    course = services.course_by_slug(slug)
    if course is None or not access.may_view(current_user, course):
        abort(404)
    return course


def quiz_url(quiz_id: int) -> str | None:
    if "quizzes.quiz" in current_app.view_functions:
        return url_for("quizzes.quiz", quiz_id=quiz_id)
    return None


# Items other features put in the outline, by kind: the endpoint that shows one (by name, so
# courses imports none of them) and its id parameter.
ITEM_PAGES = {
    "quiz": ("quizzes.quiz", "quiz_id"),
    "assignment": ("assignments.assignment", "assignment_id"),
}


def lesson_urls(slug: str) -> Callable[[str], str]:
    """The outline's lesson links, built once per page: a lesson key is URL-safe by its rule
    (services.KEY_RULE), so each link is the course's prefix plus the key; werkzeug would take
    ~10 microseconds per link (issue 15)."""
    prefix = url_for("courses.lesson", slug=slug, key="k")[:-1]

    def lesson_url(key: str) -> str:
        if services.KEY_RULE.match(key):
            return prefix + key
        return url_for("courses.lesson", slug=slug, key=key)

    return lesson_url


def outline_item_url(item: Any) -> str | None:
    """Where a quiz or an assignment of the outline is opened (None: that page is not there)."""
    endpoint, name = ITEM_PAGES.get(item.kind, (None, None))
    if endpoint is None or endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **{name: item.id})


@bp.route("/courses")
def catalogue():
    term = (request.args.get("q") or "").strip()[:100]
    track = (request.args.get("track") or "").strip()[:64]
    tracks = services.list_tracks()
    groups = services.catalogue(current_user, term, track, tracks)
    return render_template(
        "courses/catalogue.html", groups=groups, term=term, track=track, tracks=tracks
    )


@bp.route("/courses/<slug>")
def course(slug: str):
    course = _visible_course(slug)
    state = learner_state(current_user, course)
    modules = services.learner_outline(course, state if current_user.is_authenticated else None)
    items = services.flat_items(modules)
    resume = None
    if state.resume_lesson_id:
        resume = next(
            (i for i in items if i.kind == "lesson" and i.id == state.resume_lesson_id), None
        )
    first = next((i for i in items if i.kind == "lesson"), None)
    return render_template(
        "courses/course.html",
        course=course,
        modules=modules,
        state=state,
        enrolled=access.is_enrolled(current_user, course.id),
        resume=resume,
        first=first,
        quiz_url=quiz_url,
        item_url=outline_item_url,
        lesson_url=lesson_urls(course.slug),
        may_edit=access.may_edit(current_user, course),
    )


@bp.route("/courses/<slug>/enrol", methods=["POST"])
@login_required
def enrol(slug: str):
    course = _visible_course(slug)
    try:
        if services.enrol(current_user, course):
            flash(_("You are enrolled. Enjoy the course!"), "success")
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("courses.course", slug=slug))
    return redirect(url_for("courses.course", slug=slug))


def _lesson_context(slug: str, key: str):
    course, lesson = services.course_and_lesson(slug, key)
    if course is None or not access.may_view(current_user, course) or lesson is None:
        abort(404)
    return course, lesson


@bp.route("/courses/<slug>/lessons/<key>")
@login_required
def lesson(slug: str, key: str):
    course, lesson = _lesson_context(slug, key)
    state = learner_state(current_user, course)
    modules = services.learner_outline(course, state)
    items = services.flat_items(modules)
    index = next(
        i for i, item in enumerate(items) if item.kind == "lesson" and item.id == lesson.id
    )
    here = items[index]
    module = next(m.module for m in modules if here in m.items)
    if not access.may_open(current_user, course, here):
        return render_template(
            "courses/locked.html", course=course, lesson=lesson, previous=_previous(items, index)
        ), 403
    return render_template(
        "courses/lesson.html",
        course=course,
        lesson=lesson,
        module=module,
        item=here,
        previous=items[index - 1] if index > 0 else None,
        next=items[index + 1] if index + 1 < len(items) else None,
        position=index + 1,
        total=len(items),
        quiz_url=quiz_url,
        item_url=outline_item_url,
    )


def _previous(items, index):
    return next((items[i] for i in range(index - 1, -1, -1) if not items[i].done), None)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.route("/courses/<slug>/lessons/<key>/done", methods=["POST"])
@login_required
def lesson_done(slug: str, key: str):
    """The form's POST, or a mark queued on a phone while offline and sent later as JSON
    (static/js/app.js): that one may arrive after the course changed, so it gets a reason it
    can show, not a page."""
    if _wants_json():
        return _queued_done(slug, key)
    course, lesson = _lesson_context(slug, key)
    state = learner_state(current_user, course)
    items = services.flat_items(services.learner_outline(course, state))
    index = next(
        i for i, item in enumerate(items) if item.kind == "lesson" and item.id == lesson.id
    )
    if not access.may_open(current_user, course, items[index]):
        abort(403)
    # Translated before the commit: choosing the language reads the signed-in user, whom the
    # commit expires (one query fewer on the hottest POST).
    done_message = _("Marked as done.")
    try:
        services.mark_done(current_user, lesson, course)
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("courses.lesson", slug=slug, key=key))
    flash(done_message, "success")
    following = items[index + 1] if index + 1 < len(items) else None
    if following is not None and following.kind == "lesson":
        return redirect(url_for("courses.lesson", slug=slug, key=following.key))
    if following is not None and outline_item_url(following):
        return redirect(outline_item_url(following))
    return redirect(url_for("courses.course", slug=slug))


def _queued_done(slug: str, key: str):
    course = services.course_by_slug(slug)
    if course is None or not access.may_view(current_user, course):
        return jsonify(error=_("This course is no longer open, so it was not recorded.")), 404
    lesson = services.lesson_by_key(course, key)
    if lesson is None:
        return jsonify(
            error=_("This lesson is no longer in the course, so it was not recorded.")
        ), 404
    item = next(
        i
        for i in services.flat_items(
            services.learner_outline(course, learner_state(current_user, course))
        )
        if i.kind == "lesson" and i.id == lesson.id
    )
    if not access.may_open(current_user, course, item):
        return jsonify(
            error=_("This lesson is still locked: finish the lessons before it first.")
        ), 403
    message = _("Marked as done.")
    try:
        services.mark_done(current_user, lesson, course)
    except ServiceError as exc:
        return jsonify(error=exc.message), 400
    return jsonify(done=True, message=message)


@bp.route("/courses/<slug>/offline.json")
@login_required
def offline_manifest(slug: str):
    """What a phone fetches to keep this course (static/js/keep.js): enrolled learners only."""
    course = services.course_by_slug(slug)
    if course is None or not access.may_view(current_user, course):
        return jsonify(error=_("This course is no longer open.")), 404
    if not access.is_enrolled(current_user, course.id):
        return jsonify(error=_("Enrol in the course to keep it on this phone.")), 403
    return jsonify(offline.manifest(course, learner_state(current_user, course)))


@bp.route("/courses/<slug>/lessons/<key>/viewed", methods=["POST"])
@login_required
def lesson_viewed(slug: str, key: str):
    """The beacon from courses.js: once when the lesson opens (no seconds) and once when the
    learner leaves it (seconds spent on this visit)."""
    _course, lesson = _lesson_context(slug, key)
    raw = request.form.get("seconds", "")
    seconds = int(raw) if raw.isdigit() else None
    services.lesson_viewed(current_user, lesson, seconds)
    return "", 204


@bp.route("/courses/<slug>/assets/<path:path>")
def asset(slug: str, path: str):
    course = _visible_course(slug)
    relative = files.safe_asset_path(f"assets/{path}")
    if relative is None:
        abort(404)
    row = db.session.scalar(
        select(CourseAsset).where(CourseAsset.course_id == course.id, CourseAsset.path == relative)
    )
    if row is None:
        abort(404)
    blob = files.blob_path(row.sha256)
    if not blob.exists():
        current_app.logger.error("course file %s of %s is missing from %s", relative, slug, blob)
        abort(404)
    inline = row.content_type.startswith(files.INLINE_PREFIXES)
    response = send_file(
        blob,
        mimetype=files.served_type(row.content_type),
        as_attachment=not inline,
        download_name=relative.rsplit("/", 1)[-1],
        conditional=True,
        etag=row.sha256,
        max_age=YEAR if course.is_published else 0,
    )
    if course.is_published:
        response.cache_control.public = True
        response.cache_control.immutable = True
    else:
        response.cache_control.private = True
        response.cache_control.no_cache = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    if row.content_type == "image/svg+xml":
        response.headers["Content-Security-Policy"] = SVG_CSP
    return response
