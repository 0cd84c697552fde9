"""The learner dashboard and the instructor's class pages: gradebook (and its CSV), who is
stuck, one learner's detail. Views parse, ask queries.py, render."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from babel.dates import get_month_names
from flask import (
    Blueprint,
    abort,
    current_app,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from academy.assignments import services as assignments
from academy.classes.models import Class
from academy.core.access import authorize
from academy.core.clock import local_date
from academy.core.csv import csv_response
from academy.core.db import utcnow
from academy.core.i18n import current_language, translated
from academy.core.learning import shown_percent
from academy.extensions import db
from academy.progress import access as _access  # noqa: F401  (registers "class.teach")
from academy.progress import queries, services
from academy.progress.queries import LESSON, Item

bp = Blueprint("progress", __name__, template_folder="templates")


@lru_cache(maxsize=8)
def _month_abbreviations(language: str) -> dict[int, str]:
    return dict(get_month_names("abbreviated", locale=language))


@bp.app_template_filter("short_date")
def short_date(value: datetime | None) -> str:
    """'22 พ.ย. 69' / '22 Nov 26': a date that fits a gradebook cell (the Buddhist Era year
    in Thai, as the `date` filter)."""
    if value is None:
        return ""
    language = current_language()
    day = local_date(value)
    year = day.year + (543 if language == "th" and current_app.config.get("BUDDHIST_ERA") else 0)
    month = _month_abbreviations(language)[day.month]
    return f"{day.day} {month} {year % 100:02d}"


# The stuck list refreshes itself this often (ACADEMY_PROGRESS_STUCK_REFRESH_SECONDS); a
# learner counts as idle after PROGRESS_IDLE_MINUTES without progress (10 of a 40-minute period).
STUCK_REFRESH_SECONDS = 30
IDLE_MINUTES = 10


def item_url(course, item: Item | None) -> str | None:
    """Where a lesson or quiz is read, as the courses and quizzes features name their pages;
    the course page when that page is not there (yet)."""
    if item is not None:
        endpoint, args = (
            ("courses.lesson", {"slug": course.slug, "key": item.key})
            if item.kind == LESSON
            else ("quizzes.quiz", {"quiz_id": item.id})
        )
        if endpoint in current_app.view_functions:
            try:
                return url_for(endpoint, **args)
            except BuildError:
                pass
    return course_url(course)


def course_url(course) -> str:
    if "courses.course" in current_app.view_functions:
        try:
            return url_for("courses.course", slug=course.slug)
        except BuildError:
            pass
    return f"/courses/{course.slug}"


def _certificates_url() -> str | None:
    if "certificates.mine" in current_app.view_functions:
        return url_for("certificates.mine")
    return None


@bp.route("/dashboard")
@login_required
def dashboard():
    board = queries.dashboard(current_user)
    practice: dict[int, list] = {}
    for assignment, course, state in assignments.my_assignments(current_user):
        practice.setdefault(course.id, []).append((assignment, state))
    return render_template(
        "progress/dashboard.html",
        board=board,
        feedback=assignments.feedback(current_user),
        practice=practice,
        item_url=item_url,
        course_url=course_url,
        certificates_url=_certificates_url(),
    )


def _class_for_teacher(class_id: int) -> Class:
    klass = db.session.get(Class, class_id)
    if klass is None:
        abort(404)
    authorize("class.teach", klass, hide=True)
    return klass


def _course_arg() -> int | None:
    value = request.args.get("course", "")
    if not value:
        return None
    if not value.isdigit():
        abort(404)
    return int(value)


@bp.route("/classes/<int:class_id>/gradebook")
@login_required
def gradebook(class_id: int):
    klass = _class_for_teacher(class_id)
    services.close_expired_attempts_of(klass)
    book = queries.gradebook(klass, _course_arg())
    if book is None:
        abort(404)
    return render_template("progress/gradebook.html", book=book)


@bp.route("/classes/<int:class_id>/gradebook.csv")
@login_required
def gradebook_csv(class_id: int):
    klass = _class_for_teacher(class_id)
    services.close_expired_attempts_of(klass)
    book = queries.gradebook(klass, _course_arg())
    if book is None or book.course is None:
        abort(404)
    header = [_("Name"), _("Username")]
    for item in book.items:
        title = translated(item, "title")
        header.append(title if item.kind == LESSON else _("%(title)s (%%)", title=title))
    header += [_("Course %"), _("Completed on")]
    rows = []
    for row in book.rows:
        cells = [row.learner.full_name, row.learner.username]
        for item in book.items:
            cell = row.cells.get(item.ref)
            if item.kind == LESSON:
                cells.append(local_date(cell.at).isoformat() if cell and cell.at else "")
            else:
                cells.append(f"{cell.percent:g}" if cell and cell.percent is not None else "")
        cells.append(str(shown_percent(row.percent, row.completed_at)))
        cells.append(local_date(row.completed_at).isoformat() if row.completed_at else "")
        rows.append(cells)

    filename = f"gradebook-class{klass.id}-{book.course.slug}.csv"
    return csv_response(filename, header, rows)


def _idle_minutes() -> int:
    return int(current_app.config.get("PROGRESS_IDLE_MINUTES", IDLE_MINUTES))


@bp.route("/classes/<int:class_id>/stuck")
@login_required
def stuck(class_id: int):
    klass = _class_for_teacher(class_id)
    report = queries.stuck(klass, _course_arg(), utcnow(), _idle_minutes())
    if report is None:
        abort(404)
    if request.args.get("partial"):
        return render_template("progress/_stuck_list.html", report=report)
    return render_template(
        "progress/stuck.html",
        report=report,
        refresh_seconds=int(
            current_app.config.get("PROGRESS_STUCK_REFRESH_SECONDS", STUCK_REFRESH_SECONDS)
        ),
    )


@bp.route("/classes/<int:class_id>/learners/<int:user_id>")
@login_required
def learner(class_id: int, user_id: int):
    klass = _class_for_teacher(class_id)
    person = queries.class_learner(klass, user_id)
    if person is None:
        abort(404)
    services.close_expired_attempts_of(klass)
    detail = queries.learner_detail(klass, person)
    return render_template("progress/learner.html", detail=detail)
