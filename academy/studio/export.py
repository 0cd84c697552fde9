"""A course written back as its course folder (docs/course-format.md): the same format the
loader reads, so export -> import -> export is byte-identical."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from academy.assignments.models import Assignment
from academy.courses import files, services
from academy.courses.models import (
    Course,
    CourseAsset,
)
from academy.extensions import db
from academy.quizzes import transfer
from academy.studio.assignment_files import ASSIGNMENT_SUFFIX, assignment_front
from academy.studio.loader import CourseFormatError

# --- export -----------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> Any:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_yaml(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100000)


def _pair(th: str | None, en: str | None) -> dict[str, str] | None:
    value = {}
    if th:
        value["th"] = th
    if en:
        value["en"] = en
    return value or None


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def _number_width(count: int) -> int:
    return max(2, len(str(count)))


def course_files(course: Course) -> dict[str, bytes]:
    """Every file of the course folder (relative path -> bytes), as export writes them."""
    out: dict[str, bytes] = {}
    course_yml = _compact({
        "slug": course.slug,
        "title": _pair(course.title_th, course.title_en),
        "summary": _pair(course.summary_th, course.summary_en),
        "track": course.track.slug if course.track else None,
        "cover": course.cover_path,
        "duration_minutes": course.duration_minutes,
        "status": course.status,
        "sequential": bool(course.sequential),
        "language": course.language or "th",
    })  # fmt: skip
    out["course.yml"] = dump_yaml(course_yml).encode()
    for asset in db.session.scalars(
        select(CourseAsset).where(CourseAsset.course_id == course.id).order_by(CourseAsset.path)
    ):
        out[asset.path] = files.blob_path(asset.sha256).read_bytes()

    modules = services.outline(course)
    width = _number_width(len(modules))
    for m_number, entry in enumerate(modules, start=1):
        module = entry.module
        folder = f"{m_number:0{width}d}-{module.key}"
        out[f"{folder}/module.yml"] = dump_yaml(_compact({
            "id": module.key,
            "title": _pair(module.title_th, module.title_en),
            "summary": _pair(module.summary_th, module.summary_en),
        })).encode()  # fmt: skip
        item_width = _number_width(len(entry.items))
        for number, item in enumerate(entry.items, start=1):
            prefix = f"{folder}/{number:0{item_width}d}-{item.key}"
            if item.kind == "lesson":
                lesson = item.obj
                front = dump_yaml(_compact({
                    "id": lesson.key,
                    "title": _pair(lesson.title_th, lesson.title_en),
                    "minutes": lesson.minutes,
                }))  # fmt: skip
                body = (lesson.body or "").strip("\n")
                text = f"---\n{front}---\n{body}\n" if body else f"---\n{front}---\n"
                out[f"{prefix}.md"] = text.encode()
            elif item.kind == "assignment":
                out[f"{prefix}{ASSIGNMENT_SUFFIX}"] = assignment_text(item.obj).encode()
            else:
                out[f"{prefix}.gift"] = transfer.quiz_text(item.obj).encode()
    return out


def assignment_text(assignment: Assignment) -> str:
    """An assignment as its course-folder file (the same text the loader reads)."""
    values = assignment_front(assignment)
    values["title"] = _pair(*values["title"])
    front = dump_yaml(_compact(values))
    body = (assignment.instructions or "").strip("\n")
    return f"---\n{front}---\n{body}\n"


def export_course(course: Course, path: str | os.PathLike[str]) -> list[str]:
    """Write the course folder at `path` (which must not exist or be empty)."""
    target = Path(path)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise CourseFormatError("the folder exists and is not empty; choose a new one", str(path))
    contents = course_files(course)
    for relative, blob in contents.items():
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(blob)
    return sorted(contents)
