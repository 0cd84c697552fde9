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

from academy.assignments import rubric, settings
from academy.assignments.models import PHOTOS, Assignment
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


ASSIGNMENT_SETTINGS = ("id", "title", *settings.SETTINGS)


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
    try:
        checked = settings.check_settings(doc.data)
    except rubric.RubricError as exc:
        raise doc.fail(exc.reason, *(str(part) for part in exc.path)) from None
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
        checked.kinds,
        checked.max_photos,
        checked.criteria,
        checked.pass_rule,
        checked.pass_points,
        checked.resubmissions,
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
