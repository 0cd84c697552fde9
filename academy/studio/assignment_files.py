"""Assignments in the course folder format: `NN-<slug>.assignment.md`, YAML front matter (id,
title, hand_in, photos, criteria, pass, pass_points, resubmissions) and the Markdown
instructions (docs/course-format.md). Read here for the loader, stored by it, and written back
by the export as the same text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from academy.assignments import rubric
from academy.assignments.models import KINDS, PASS_RULES, PHOTOS, Assignment
from academy.core.markdown import MarkdownRefused
from academy.courses import services
from academy.courses.models import Course, Module
from academy.extensions import db
from academy.studio.folder import CourseFormatError, Reader, Yaml, check_links, split_front_matter

ASSIGNMENT_SUFFIX = ".assignment.md"


@dataclass
class AssignmentData:
    key: str
    title_th: str
    title_en: str | None
    kinds: list[str]
    max_photos: int
    criteria: list[dict[str, Any]]
    pass_rule: str
    pass_points: int
    resubmissions: int | None
    body: str
    source: str


ASSIGNMENT_SETTINGS = (
    "id",
    "title",
    "hand_in",
    "photos",
    "criteria",
    "pass",
    "pass_points",
    "resubmissions",
)


def read_assignment(reader: Reader, path: Path, assets: dict[str, Any]) -> AssignmentData:
    """Read and check one `NN-<slug>.assignment.md` (front matter, then the instructions)."""
    source = reader.name(path)
    text = reader.read_text(path)
    front, front_line, body, body_line = split_front_matter(text, source)
    doc = Yaml(front, source, front_line)
    doc.only(ASSIGNMENT_SETTINGS)
    key = doc.key()
    reader.claim(key, doc)
    title_th, title_en = doc.pair("title", required=True, limit=services.TITLE_MAX)
    kinds = doc.data.get("hand_in")
    if isinstance(kinds, str):
        kinds = [kinds]
    if not isinstance(kinds, list) or not kinds:
        raise doc.fail(f"'hand_in' must list what to hand in ({', '.join(KINDS)})", "hand_in")
    for kind in kinds:
        if kind not in KINDS:
            raise doc.fail(f"'hand_in': unknown kind '{kind}' ({', '.join(KINDS)})", "hand_in")
    if len(set(kinds)) != len(kinds):
        raise doc.fail("'hand_in' names a kind twice", "hand_in")
    kinds = [kind for kind in KINDS if kind in kinds]
    max_photos = 0
    if PHOTOS in kinds:
        max_photos = doc.integer("photos", 1, 6) or 1
    elif "photos" in doc.data:
        raise doc.fail(
            "'photos' is only for assignments that take photos (hand_in: photos)", "photos"
        )
    try:
        criteria = rubric.parse_criteria(doc.data.get("criteria"))
        rule = doc.data.get("pass", rubric.ALL_REQUIRED)
        if rule not in PASS_RULES:
            raise rubric.RubricError(
                f"unknown pass rule '{rule}' ({', '.join(PASS_RULES)})", "pass"
            )
        if rule == rubric.POINTS and "pass_points" not in doc.data:
            raise rubric.RubricError("'pass: points' needs 'pass_points'", "pass")
        if rule != rubric.POINTS and "pass_points" in doc.data:
            raise rubric.RubricError("'pass_points' is only for 'pass: points'", "pass_points")
        pass_points = doc.integer("pass_points", 1, 100000) or 0
        rubric.check_pass_rule(criteria, rule, pass_points)
    except rubric.RubricError as exc:
        raise doc.fail(exc.reason, *(str(part) for part in exc.path)) from None
    resubmissions = doc.integer("resubmissions", 0, 1000)
    if not body.strip():
        # The line after the closing `---`, where the instructions belong.
        line = front_line + front.count("\n") + 2
        raise CourseFormatError("the instructions (after the front matter) are empty", source, line)
    try:
        check_links(body, assets, source, body_line)
    except MarkdownRefused as exc:
        raise CourseFormatError(exc.english, source, body_line + (exc.line or 1) - 1) from None
    return AssignmentData(
        key,
        title_th or "",
        title_en,
        kinds,
        max_photos,
        [criterion.to_dict() for criterion in criteria],
        rule,
        pass_points,
        resubmissions,
        body,
        source,
    )


def store_assignments(
    course: Course, placed: Iterable[tuple[Module, int, AssignmentData]], paths: set[str]
) -> None:
    """Make the course's assignments those of its folder, updating rows in place by their id
    (so learners' hand-ins and reviews keep their assignment across re-imports)."""
    existing = {
        a.key: a
        for a in db.session.scalars(select(Assignment).where(Assignment.course_id == course.id))
    }
    keep: set[str] = set()
    for module, position, item in placed:
        assignment = existing.get(item.key) or Assignment(course_id=course.id, key=item.key)
        assignment.module_id = module.id
        assignment.position = position
        assignment.title_th, assignment.title_en = item.title_th, item.title_en
        assignment.kinds = item.kinds
        assignment.max_photos = item.max_photos
        assignment.criteria = item.criteria
        assignment.pass_rule = item.pass_rule
        assignment.pass_points = item.pass_points
        assignment.resubmissions = item.resubmissions
        assignment.instructions = item.body
        assignment.instructions_html = services.render_lesson(course.slug, item.body, paths)
        db.session.add(assignment)
        keep.add(item.key)
    for key, assignment in existing.items():
        if key not in keep:
            db.session.delete(assignment)


def assignment_front(assignment: Assignment) -> dict[str, Any]:
    """The front matter's values, in the order the file writes them (None: left out)."""
    return {
        "id": assignment.key,
        "title": (assignment.title_th, assignment.title_en),
        "hand_in": list(assignment.kinds),
        "photos": assignment.max_photos if PHOTOS in assignment.kinds else None,
        "criteria": list(assignment.criteria),
        "pass": assignment.pass_rule,
        "pass_points": assignment.pass_points if assignment.pass_rule == rubric.POINTS else None,
        "resubmissions": assignment.resubmissions,
    }
