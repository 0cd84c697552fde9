"""A course written back as its course folder (docs/course-format.md): the same format the
loader reads, so export -> import -> export is byte-identical."""

from __future__ import annotations

import hashlib
import itertools
import os
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete as sa_delete
from sqlalchemy import select

from academy.assignments.models import Assignment
from academy.courses import files, services
from academy.courses.models import Course, CourseAsset, Lesson, Module
from academy.extensions import db
from academy.quizzes import transfer
from academy.studio.assignment_files import ASSIGNMENT_SUFFIX, assignment_front
from academy.studio.folder import NUMBERED, CourseFormatError
from academy.studio.models import CourseSource

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


def _course_yml(course: Course) -> bytes:
    return dump_yaml(_compact({
        "slug": course.slug,
        "title": _pair(course.title_th, course.title_en),
        "summary": _pair(course.summary_th, course.summary_en),
        "track": course.track.slug if course.track else None,
        "cover": course.cover_path,
        "duration_minutes": course.duration_minutes,
        "status": course.status,
        "sequential": bool(course.sequential),
        "language": course.language or "th",
    })).encode()  # fmt: skip


def _module_yml(module: Module) -> bytes:
    return dump_yaml(_compact({
        "id": module.key,
        "title": _pair(module.title_th, module.title_en),
        "summary": _pair(module.summary_th, module.summary_en),
    })).encode()  # fmt: skip


def _lesson_text(lesson: Lesson) -> bytes:
    front = dump_yaml(_compact({
        "id": lesson.key,
        "title": _pair(lesson.title_th, lesson.title_en),
        "minutes": lesson.minutes,
    }))  # fmt: skip
    body = (lesson.body or "").strip("\n")
    return (f"---\n{front}---\n{body}\n" if body else f"---\n{front}---\n").encode()


_SUFFIX = {"lesson": ".md", "quiz": ".gift", "assignment": ASSIGNMENT_SUFFIX}


def _item_text(item: services.OutlineItem) -> bytes:
    if item.kind == "lesson":
        return _lesson_text(item.obj)
    if item.kind == "assignment":
        return assignment_text(item.obj).encode()
    return transfer.quiz_text(item.obj).encode()


def _names(wanted: list[tuple[str | None, str]]) -> list[str]:
    """File or folder names for objects in order: the author's own names (`NN-name`) while
    their numbers still run in this order, else every one numbered again by position, keeping
    the part after the number. `wanted` is (the author's name or None, the name part to use
    when there is none)."""
    numbers = [NUMBERED.match(name) if name else None for name, _rest in wanted]
    if all(numbers) and all(
        int(a.group(1)) < int(b.group(1)) for a, b in itertools.pairwise(numbers)
    ):
        return [name or "" for name, _rest in wanted]
    width = max(2, len(str(len(wanted))))
    return [
        f"{n:0{width}d}-{match.group(2) if match else rest}"
        for n, ((_name, rest), match) in enumerate(zip(wanted, numbers, strict=True), start=1)
    ]


def course_files(course: Course) -> dict[str, bytes]:
    """Every file of the course folder (relative path -> bytes), as export writes them. A file
    the course was loaded from comes back under its own name, and as its author wrote it while
    the object is unchanged (CourseSource)."""
    sources = {
        (row.kind, row.key): row
        for row in db.session.scalars(
            select(CourseSource).where(CourseSource.course_id == course.id)
        )
    }

    def text(kind: str, key: str, written: bytes) -> bytes:
        row = sources.get((kind, key))
        unchanged = row is not None and hashlib.sha256(written).hexdigest() == row.written_sha256
        return row.raw if unchanged else written

    def own(kind: str, key: str, folder: bool = False) -> str | None:
        row = sources.get((kind, key))
        if row is None or "/" not in row.path:
            return None
        parts = row.path.split("/")
        return parts[0] if folder else parts[-1]

    out: dict[str, bytes] = {"course.yml": text("course", "", _course_yml(course))}
    for asset in db.session.scalars(
        select(CourseAsset).where(CourseAsset.course_id == course.id).order_by(CourseAsset.path)
    ):
        out[asset.path] = files.blob_path(asset.sha256).read_bytes()

    modules = services.outline(course)
    folders = _names([(own("module", e.module.key, folder=True), e.module.key) for e in modules])
    for folder, entry in zip(folders, modules, strict=True):
        module = entry.module
        out[f"{folder}/module.yml"] = text("module", module.key, _module_yml(module))
        names = _names([
            (own(item.kind, item.key), f"{item.key}{_SUFFIX[item.kind]}") for item in entry.items
        ])  # fmt: skip
        for name, item in zip(names, entry.items, strict=True):
            out[f"{folder}/{name}"] = text(item.kind, item.key, _item_text(item))
    return out


def remember_sources(course: Course, found: dict[tuple[str, str], tuple[str, bytes]]) -> None:
    """After a folder was loaded: keep each file with the digest of what course_files would
    write for its object now, replacing what an earlier load kept."""
    db.session.execute(sa_delete(CourseSource).where(CourseSource.course_id == course.id))
    db.session.flush()
    db.session.expire_all()  # read the stored rows (questions, positions) as an export will
    written = {("course", ""): _course_yml(course)}
    for entry in services.outline(course):
        written["module", entry.module.key] = _module_yml(entry.module)
        for item in entry.items:
            written[item.kind, item.key] = _item_text(item)
    for (kind, key), (path, raw) in found.items():
        if (kind, key) in written:
            db.session.add(
                CourseSource(
                    course_id=course.id, kind=kind, key=key, path=path, raw=raw,
                    written_sha256=hashlib.sha256(written[kind, key]).hexdigest(),
                )
            )  # fmt: skip
    db.session.flush()


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
