"""A course kept on a phone: what the browser must fetch to read it offline (docs/phones.md).

The manifest lists the course page, the lessons the learner may open now and the images, audio
and small videos those lessons show, with their sizes, and a version. The version changes when
anything the saved pages show changes (the course's text and files, which lessons are open, the
release of the app's static files, the language), so the phone knows to fetch the course again.
The browser keeps the copy (static/js/keep.js); the server keeps nothing."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from flask import current_app, url_for
from sqlalchemy import select

from academy.core.i18n import current_language, translated
from academy.courses import services
from academy.courses.models import Course, CourseAsset, Lesson
from academy.extensions import db
from academy.main.pwa import release

# A lesson page is its stored HTML inside the layout; the layout's share was measured on the
# starter courses (about 7 KB of header, menu, pager and forms).
PAGE_OVERHEAD_BYTES = 8 * 1024
_KEPT_PREFIXES = ("image/", "audio/")
_SOURCE = re.compile(r"""\b(?:src|href)="([^"]+)\"""")


@dataclass(frozen=True)
class Entry:
    url: str
    bytes: int
    title: str | None = None
    sha256: str | None = None
    reason: str | None = None  # why a file is left out: "large_video", "download"

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def _referenced_paths(slug: str, html: str) -> list[str]:
    """The course files a lesson's HTML shows or links, as `assets/...`, in page order."""
    prefix = services.asset_url(slug, "assets/")
    return [
        "assets/" + url.removeprefix(prefix).split("#", 1)[0].split("?", 1)[0]
        for url in _SOURCE.findall(html)
        if url.startswith(prefix)
    ]


def _kept(row: CourseAsset) -> str | None:
    """None when the file is kept offline, else the reason it is not."""
    if row.content_type.startswith(_KEPT_PREFIXES):
        return None
    if row.content_type.startswith("video/"):
        return None if row.size <= current_app.config["OFFLINE_VIDEO_MAX_BYTES"] else "large_video"
    return "download"  # PDFs and documents open in another app: they need the network


def manifest(course: Course, state: Any) -> dict[str, Any]:
    """What to fetch to keep `course` for the learner whose `state` (learner_state) is given."""
    items = services.flat_items(services.learner_outline(course, state))
    open_ids = [i.id for i in items if i.kind == "lesson" and not i.locked]
    lessons = {
        lesson.id: lesson
        for lesson in db.session.scalars(
            select(Lesson).where(Lesson.course_id == course.id, Lesson.id.in_(open_ids))
        )
    }
    assets = {
        row.path: row
        for row in db.session.scalars(select(CourseAsset).where(CourseAsset.course_id == course.id))
    }
    language = current_language()
    version = hashlib.sha256()
    for part in (release(), language, course.slug, course.title_th, course.title_en or "",
                 course.summary_th or "", course.summary_en or "", course.status,
                 course.cover_path or ""):  # fmt: skip
        version.update(part.encode() + b"\0")

    course_page = url_for("courses.course", slug=course.slug)
    pages = [Entry(course_page, PAGE_OVERHEAD_BYTES + 2 * 1024, translated(course, "title"))]
    wanted: list[str] = [course.cover_path] if course.cover_path else []
    for item in items:
        if item.kind != "lesson":
            version.update(f"{item.kind}:{item.key}:{item.locked}\0".encode())
            continue
        lesson = lessons.get(item.id)
        if lesson is None:
            version.update(f"locked:{item.key}\0".encode())
            continue
        html = lesson.body_html or ""
        version.update(f"{lesson.key}\0{lesson.title_th}\0{lesson.title_en or ''}\0".encode())
        version.update(hashlib.sha256(html.encode()).digest())
        pages.append(
            Entry(
                url_for("courses.lesson", slug=course.slug, key=lesson.key),
                PAGE_OVERHEAD_BYTES + len(html.encode()),
                translated(lesson, "title"),
            )
        )
        wanted.extend(_referenced_paths(course.slug, html))

    kept: list[Entry] = []
    left_out: list[Entry] = []
    for path in dict.fromkeys(wanted):  # once each, in page order
        row = assets.get(path)
        if row is None:
            continue
        version.update(f"{row.path}\0{row.sha256}\0".encode())
        entry = Entry(services.asset_url(course.slug, row.path), row.size, sha256=row.sha256)
        reason = _kept(row)
        (kept if reason is None else left_out).append(
            entry if reason is None else Entry(entry.url, entry.bytes, reason=reason)
        )
    total = sum(e.bytes for e in pages) + sum(e.bytes for e in kept)
    limit = current_app.config["OFFLINE_COURSE_MAX_BYTES"]
    return {
        "course": course.slug,
        "title": translated(course, "title"),
        "version": version.hexdigest()[:20],
        "bytes": total,
        "limit": limit,
        "fits": total <= limit,
        "pages": [e.as_json() for e in pages],
        "files": [e.as_json() for e in kept],
        "left_out": [e.as_json() for e in left_out],
        "locked": sum(1 for i in items if i.kind == "lesson" and i.locked),
    }
