"""Writing an assignment in the studio: the same checks as the course folder's
`NN-name.assignment.md` (assignments.settings for what to hand in, the checklist and the pass
rule; the lesson's Markdown and file links for the instructions), so a saved assignment always
exports to a file that imports again."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from academy.assignments import rubric, settings
from academy.assignments.models import Assignment
from academy.core import audit
from academy.core.errors import ServiceError
from academy.courses import services as courses
from academy.courses.models import Course, Module
from academy.extensions import db
from academy.studio.services import module_items, new_key, rendered_text


def _message(exc: rubric.RubricError) -> tuple[str, str]:
    """The reason in the writer's language, and the form field it belongs to."""
    path = exc.path
    where = path[-1] if path else ""
    number = path[1] + 1 if len(path) > 1 and isinstance(path[1], int) else None
    if path[:1] == ("criteria",) and number is None:
        return _("Add at least one criterion with a title."), "criteria"
    if number is not None:
        field = f"c-{number - 1}"
        if where == "levels":
            return _(
                "Criterion %(n)d: give at least two levels, one a line as “points = label”, "
                "each with different points.",
                n=number,
            ), field
        if where in ("points", "required"):
            return _("Criterion %(n)d: points are a whole number from 0 to 1000.", n=number), field
        if where == "good":
            return _("Criterion %(n)d: “what good looks like” is too long.", n=number), field
        if where == "type":
            return _("Criterion %(n)d: choose a tick or levels.", n=number), field
        return _("Criterion %(n)d: give it a title (at most 300 characters).", n=number), field
    messages = {
        "hand_in": _("Choose what to hand in: photos, links or text."),
        "photos": _("Photos: from 1 to %(max)d.", max=settings.MAX_PHOTOS),
        "pass": _(
            "To pass on ticks, at least one tick must be required; to pass on points, give the "
            "points needed."
        ),
        "pass_points": _("The points needed must be from 1 to the most points possible."),
        "resubmissions": _("Resubmissions: a whole number from 0 to 1000, or empty for no limit."),
    }
    return messages.get(str(where), _("The checklist cannot be saved.")), str(where)


def check(data: dict[str, Any]) -> settings.Settings:
    """The settings as the folder loader reads them, or a ServiceError naming the field."""
    try:
        return settings.check_settings(data)
    except rubric.RubricError as exc:
        message, field = _message(exc)
        raise ServiceError(message, field) from None


def save_assignment(
    course: Course,
    module: Module,
    assignment: Assignment | None,
    *,
    title_th: str,
    title_en: str | None,
    instructions: str,
    data: dict[str, Any],
) -> Assignment:
    """Create or update an assignment; nothing is stored unless every setting is right."""
    title_th = (title_th or "").strip()
    if not title_th:
        raise ServiceError(_("Please fill in this field."), "title_th")
    if len(title_th) > courses.TITLE_MAX or len((title_en or "").strip()) > courses.TITLE_MAX:
        raise ServiceError(_("At most %(max)d characters.", max=courses.TITLE_MAX), "title_th")
    if not (instructions or "").strip():
        raise ServiceError(_("Write the instructions."), "instructions")
    body, html = rendered_text(course, instructions, "instructions")
    checked = check(data)
    if assignment is None:
        assignment = Assignment(
            course_id=course.id,
            module_id=module.id,
            key=new_key(course, "assignment"),
            position=len(module_items(module)) + 1,
        )
        db.session.add(assignment)
    assignment.title_th = title_th
    assignment.title_en = (title_en or "").strip() or None
    assignment.instructions, assignment.instructions_html = body, html
    assignment.kinds, assignment.max_photos = checked.kinds, checked.max_photos
    assignment.criteria = checked.criteria
    assignment.pass_rule, assignment.pass_points = checked.pass_rule, checked.pass_points
    assignment.resubmissions = checked.resubmissions
    db.session.flush()
    audit.record("assignment.save", assignment, course=course.slug)
    return assignment


def delete_assignment(assignment: Assignment) -> None:
    module = db.session.get(Module, assignment.module_id)
    audit.record("assignment.delete", assignment, key=assignment.key)
    db.session.delete(assignment)
    db.session.flush()
    for position, item in enumerate(module_items(module), start=1):
        item.position = position
