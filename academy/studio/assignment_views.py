"""The assignment editor: instructions with the live preview, what to hand in, the checklist
(one row a criterion; an emptied row is removed, blank rows add), the pass rule. Saved through
studio.assignment_editing, which checks exactly what the course folder loader checks."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from academy.assignments import rubric
from academy.assignments.models import KINDS, Assignment
from academy.core.errors import ServiceError
from academy.courses.models import Course, Module
from academy.extensions import db
from academy.studio import assignment_editing as editing
from academy.studio import services as authoring
from academy.studio.blueprint import bp
from academy.studio.course_views import _course as course_or_404
from academy.studio.course_views import _module as module_or_404

BLANK_ROWS = 3
MAX_ROWS = 40


def _assignment(assignment_id: int) -> tuple[Course, Assignment]:
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        abort(404)
    return course_or_404(assignment.course_id), assignment


def _number(raw: str | None) -> int | str | None:
    """A form's whole number; anything else is passed on as text, for the check to name."""
    raw = (raw or "").strip()
    if not raw:
        return None
    return int(raw) if raw.isdigit() and len(raw) < 7 else raw


def _levels(text: str) -> list[dict[str, Any]]:
    levels: list[dict[str, Any]] = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        points, sep, label = line.partition("=")
        if not sep:
            levels.append({"label": line.strip()})  # no points: the check says so
        else:
            levels.append({"points": _number(points), "label": label.strip()})
    return levels


def criteria_from_form(form: MultiDict) -> list[dict[str, Any]]:
    """The checklist rows in the plain form of the course folder's `criteria:` list."""
    rows = []
    raw = form.get("rows", "")
    count = min(int(raw), MAX_ROWS) if raw.isdigit() and len(raw) < 4 else 0
    taken = {form.get(f"c-{i}-id") for i in range(count)} - {None, ""}
    fresh = (f"c{n}" for n in range(1, 10000) if f"c{n}" not in taken)
    for i in range(count):
        title = (form.get(f"c-{i}-title") or "").strip()
        if not title:
            continue  # an emptied row removes its criterion
        item: dict[str, Any] = {"id": form.get(f"c-{i}-id") or next(fresh), "title": title}
        kind = form.get(f"c-{i}-type", rubric.TICK)
        if kind != rubric.TICK:
            item["type"] = kind
        good = (form.get(f"c-{i}-good") or "").strip()
        if good:
            item["good"] = good
        if kind == rubric.TICK:
            if form.get(f"c-{i}-optional"):
                item["required"] = False
            points = _number(form.get(f"c-{i}-points"))
            if points is not None and points != 1:
                item["points"] = points
        else:
            item["levels"] = _levels(form.get(f"c-{i}-levels", ""))
        rows.append(item)
    return rows


def settings_from_form(form: MultiDict) -> dict[str, Any]:
    kinds = [k for k in form.getlist("hand_in") if k in KINDS] or form.getlist("hand_in")
    data: dict[str, Any] = {"hand_in": kinds, "criteria": criteria_from_form(form)}
    if "photos" in kinds:
        data["photos"] = _number(form.get("photos"))
    data["pass"] = form.get("pass", rubric.ALL_REQUIRED)
    if data["pass"] == rubric.POINTS:
        data["pass_points"] = _number(form.get("pass_points"))
    data["resubmissions"] = _number(form.get("resubmissions"))
    return data


def _editor(course: Course, module: Module, assignment: Assignment | None):
    error = field = None
    preview_html = preview_criteria = None
    values: dict[str, Any]
    if request.method == "POST":
        form = request.form
        data = settings_from_form(form)
        values = {
            "title_th": form.get("title_th", ""),
            "title_en": form.get("title_en", ""),
            "instructions": form.get("instructions", ""),
            **data,
        }
        try:
            if "preview" in form:
                preview_html = Markup(authoring.preview(course, values["instructions"]))  # noqa: S704 - sanitised
                preview_criteria = rubric.parse_criteria(editing.check(data).criteria)
            else:
                saved = editing.save_assignment(
                    course, module, assignment, title_th=values["title_th"],
                    title_en=values["title_en"], instructions=values["instructions"], data=data,
                )  # fmt: skip
                flash(_("Assignment saved."), "success")
                return redirect(url_for("studio.assignment", assignment_id=saved.id))
        except ServiceError as exc:
            error, field = exc.message, exc.field
    elif assignment is not None:
        values = {
            "title_th": assignment.title_th,
            "title_en": assignment.title_en or "",
            "instructions": assignment.instructions,
            "hand_in": assignment.kinds,
            "photos": assignment.max_photos or None,
            "criteria": assignment.criteria,
            "pass": assignment.pass_rule,
            "pass_points": assignment.pass_points or None,
            "resubmissions": assignment.resubmissions,
        }
        preview_html = Markup(assignment.instructions_html)  # noqa: S704 - sanitised when saved
    else:
        values = {"title_th": "", "title_en": "", "instructions": "", "hand_in": ["photos"],
                  "photos": 1, "criteria": [], "pass": rubric.ALL_REQUIRED}  # fmt: skip
    rows = list(values.get("criteria") or []) + [{} for _ in range(BLANK_ROWS)]
    return render_template(
        "studio/assignment.html", course=course, module=module, assignment=assignment,
        values=values, rows=rows, error=error, field=field, kinds=KINDS,
        preview_html=preview_html, preview_criteria=preview_criteria,
    ), (400 if error else 200)  # fmt: skip


@bp.route("/studio/modules/<int:module_id>/assignments/new", methods=["GET", "POST"])
def new_assignment(module_id: int):
    course, module = module_or_404(module_id)
    return _editor(course, module, None)


@bp.route("/studio/assignments/<int:assignment_id>", methods=["GET", "POST"])
def assignment(assignment_id: int):
    course, found = _assignment(assignment_id)
    return _editor(course, db.session.get(Module, found.module_id), found)


@bp.route("/studio/assignments/<int:assignment_id>/move", methods=["POST"])
def move_assignment(assignment_id: int):
    course, found = _assignment(assignment_id)
    authoring.move_item(found, request.form.get("direction", ""))
    return redirect(url_for("studio.course", course_id=course.id) + f"#module-{found.module_id}")


@bp.route("/studio/assignments/<int:assignment_id>/delete", methods=["POST"])
def delete_assignment(assignment_id: int):
    course, found = _assignment(assignment_id)
    editing.delete_assignment(found)
    flash(_("Assignment deleted."), "success")
    return redirect(url_for("studio.course", course_id=course.id))
