"""City -> school: courses as their course folder (studio/export.py writes it, the loader reads
it, losslessly), each file named by its SHA-256 so a school fetches only what it lacks."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

from academy.core.clock import utcnow
from academy.courses import files
from academy.courses.models import PUBLISHED, Course, Track
from academy.extensions import db
from academy.progress import services as progress
from academy.studio import export, loader
from academy.sync import push
from academy.sync.models import SyncCourse


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest_of(manifest: dict[str, str]) -> str:
    return _sha("\n".join(f"{p} {h}" for p, h in sorted(manifest.items())).encode())


# --- the city ---------------------------------------------------------------------------------


def offered() -> list[dict[str, Any]]:
    """The city's published courses: slug, each file's SHA-256, and the folder's digest."""
    out = []
    for course in db.session.scalars(
        select(Course).where(Course.status == PUBLISHED).order_by(Course.slug)
    ):
        manifest = {path: _sha(blob) for path, blob in export.course_files(course).items()}
        track = course.track
        out.append({
            "slug": course.slug, "files": manifest, "digest": digest_of(manifest),
            # The city owns tracks: a school that lacks this one gets it with the course.
            "track": {"slug": track.slug, "name_th": track.name_th, "name_en": track.name_en,
                      "position": track.position} if track else None,
        })  # fmt: skip
    return out


def file_contents(slug: str, paths: list[str]) -> dict[str, bytes] | None:
    course = db.session.scalar(
        select(Course).where(Course.slug == slug, Course.status == PUBLISHED)
    )
    if course is None:
        return None
    contents = export.course_files(course)
    return {p: contents[p] for p in paths if p in contents}


# --- the school -------------------------------------------------------------------------------


def note_offered(slugs: set[str]) -> list[str]:
    """Mark the courses the city no longer offers as withdrawn (kept here, not sent) and
    those it offers again as current; the slugs newly withdrawn."""
    gone = []
    for known in db.session.scalars(select(SyncCourse)):
        if known.slug in slugs:
            if known.withdrawn_at is not None:  # back: what was held back goes now
                course_id = db.session.scalar(select(Course.id).where(Course.slug == known.slug))
                if course_id is not None:
                    push.restamp_course(course_id)
            known.withdrawn_at = None
        elif known.withdrawn_at is None:
            known.withdrawn_at = utcnow()
            gone.append(known.slug)
    return gone


def wanted(course: dict[str, Any]) -> tuple[dict[str, bytes], list[str]] | None:
    """For one offered course: the files the school already holds (its last copy of the course
    folder, and course files stored by content) and the paths it must fetch; None when the
    course is unchanged since the last pull."""
    known = db.session.get(SyncCourse, course["slug"])
    if known is not None and known.digest == course["digest"]:
        return None
    local_course = db.session.scalar(select(Course).where(Course.slug == course["slug"]))
    local = export.course_files(local_course) if local_course is not None else {}
    have: dict[str, bytes] = {}
    fetch: list[str] = []
    for path, sha in course["files"].items():
        if path in local and _sha(local[path]) == sha:
            have[path] = local[path]
            continue
        try:
            blob = files.blob_path(sha)
        except ValueError:
            blob = None
        if blob is not None and blob.is_file():
            have[path] = blob.read_bytes()
        else:
            fetch.append(path)
    return have, fetch


def store(course: dict[str, Any], contents: dict[str, bytes]) -> Course:
    """Load the course folder (every file checked against the city's hash first) and recount
    the learners' progress; items keep their keys, so progress survives the update."""
    for path, sha in course["files"].items():
        if path not in contents or _sha(contents[path]) != sha:
            raise loader.CourseFormatError("the file did not arrive whole; try again", path)
    track = course.get("track")
    if track and db.session.scalar(select(Track.id).where(Track.slug == track["slug"])) is None:
        db.session.add(Track(**track))
        db.session.flush()
    with tempfile.TemporaryDirectory(prefix="academy-sync-") as folder:
        root = Path(folder)
        for path, blob in contents.items():
            target = (root / path).resolve()
            if root.resolve() not in target.parents:
                raise loader.CourseFormatError("a file path leaves the course folder", path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob)
        stored = loader.load_course(root)
    known = db.session.get(SyncCourse, course["slug"]) or SyncCourse(slug=course["slug"])
    known.digest, known.files, known.pulled_at = course["digest"], course["files"], utcnow()
    known.withdrawn_at = None
    db.session.add(known)
    progress.recompute_course(stored)
    return stored
