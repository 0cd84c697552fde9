"""Admin reports: completion by school, room, programme, track and course; activity by month;
CSV export streamed row by row (UTF-8 with BOM so Excel shows Thai)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import lazy_gettext as _l

from academy.core.access import ADMIN, role_required
from academy.core.clock import local_month_key, utcnow
from academy.core.csv import csv_response
from academy.core.errors import ServiceError
from academy.reports import attendance as roll
from academy.reports import charts, practice, services

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")


TITLES = {
    "school": _l("By school"),
    "room": _l("By computer room"),
    "programme": _l("By programme"),
    "track": _l("By track"),
    "course": _l("By course"),
}

COLUMNS = {
    "school": _l("School"),
    "room": _l("Computer room"),
    "programme": _l("Programme"),
    "track": _l("Track"),
    "course": _l("Course"),
}


def _filters() -> services.Filters:
    months = request.args.get("months", 12, type=int)
    return services.Filters(
        school_id=request.args.get("school", type=int),
        programme_id=request.args.get("programme", type=int),
        track_id=request.args.get("track", type=int),
        course_id=request.args.get("course", type=int),
        months=months if months in (3, 6, 12, 24) else 12,
    )


@bp.route("/")
@role_required(ADMIN)
def index():
    by = request.args.get("by", "school")
    if by not in services.DIMENSIONS:
        abort(404)
    filters = _filters()
    rows = services.completion(by, filters)
    return render_template(
        "reports/completion.html",
        by=by,
        titles=TITLES,
        columns=COLUMNS,
        rows=rows,
        total=services.totals(rows),
        chart=charts.rate_bars(rows),
        filters=filters,
        choices=services.filter_choices(),
    )


@bp.route("/months")
@role_required(ADMIN)
def months():
    filters = _filters()
    rows = services.monthly(filters)
    return render_template(
        "reports/months.html",
        titles=TITLES,
        rows=rows,
        chart=charts.month_columns(rows),
        filters=filters,
        choices=services.filter_choices(),
    )


def _attendance_rows() -> tuple[str, str, int | None, list[roll.AttendanceRow]]:
    by = request.args.get("by", "school")
    if by not in roll.BY:
        abort(404)
    now = utcnow()
    month = request.args.get("month") or local_month_key(now)
    school_id = request.args.get("school", type=int)
    try:
        rows = roll.attendance(by, month, now, school_id)
    except ServiceError as exc:
        abort(Response(exc.message, status=400, mimetype="text/plain"))
    return by, month, school_id, rows


@bp.route("/attendance")
@role_required(ADMIN)
def attendance():
    """Attendance in the month's periods, by school or by computer room."""
    by, month, school_id, rows = _attendance_rows()
    return render_template(
        "reports/attendance.html",
        titles=TITLES,
        by=by,
        month=month,
        school_id=school_id,
        rows=rows,
        total=roll.total(rows),
        filters=_filters(),
        choices=services.filter_choices(),
    )


@bp.route("/assignments")
@role_required(ADMIN)
def assignments():
    filters = _filters()
    return render_template(
        "reports/practice.html",
        titles=TITLES,
        filters=filters,
        assignments=practice.assignments(filters.months),
        milestones=practice.milestones(filters.months),
    )


def _csv_response(name: str, header, rows) -> Response:
    return csv_response(f"{name}.csv", header, rows)


@bp.route("/export.csv")
@role_required(ADMIN)
def export():
    report = request.args.get("report", "school")
    filters = _filters()
    if report == "months":
        rows = services.monthly(filters)
        return _csv_response(
            "academy-months",
            ("month", "started", "completed", "active_learners"),
            ((m.month, m.started, m.completed, m.active) for m in rows),
        )
    if report == "attendance":
        by, month, _school_id, rows = _attendance_rows()
        return _csv_response(
            f"academy-attendance-by-{by}-{month}", (by, *roll.CSV_HEADER), roll.csv_rows(rows)
        )
    if report == "learners":
        return _csv_response(
            "academy-learners", services.DETAIL_HEADER, services.detail_rows(filters)
        )
    if report == "assignments":
        return _csv_response(
            "academy-assignments",
            practice.ASSIGNMENT_HEADER,
            (r.cells() for r in practice.assignments(filters.months)),
        )
    if report == "milestones":
        return _csv_response(
            "academy-milestones",
            practice.MILESTONE_HEADER,
            ((r.month, r.programme, r.milestone, r.province, r.reached)
             for r in practice.milestones(filters.months)),
        )  # fmt: skip
    if report not in services.DIMENSIONS:
        abort(404)
    rows = services.completion(report, filters)
    return _csv_response(
        f"academy-by-{report}",
        (report, "enrolled", "learners", "started", "completed", "completion_rate"),
        ((r.label, r.enrolled, r.learners, r.started, r.completed, f"{r.rate:.4f}") for r in rows),
    )
