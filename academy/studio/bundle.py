"""A course as one ZIP file: the course folder (docs/course-format.md) packed, for the studio's
download and upload.

Download packs exactly the files `export-course` writes (export.course_files), under one folder
named by the slug, with fixed dates and modes, so the same course gives the same bytes. Upload
is hostile input: before a byte is written, every entry is checked (no absolute path, no `..`,
no link or special file, no encrypted entry, at most ZIP_MAX_ENTRIES entries and ZIP_MAX_BYTES
expanded, no entry expanding more than ZIP_MAX_RATIO times), and every problem is listed; the
entries are then written into a temporary folder (counting the bytes really expanded, not the
sizes the ZIP claims) and the folder goes through the same loader as the command line."""

from __future__ import annotations

import io
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from academy.core import audit
from academy.core.errors import ServiceError
from academy.courses import access, services
from academy.courses.models import Course, CourseInstructor
from academy.extensions import db
from academy.studio import export, loader
from academy.studio.folder import CourseFormatError

_FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a ZIP can hold: no build time leaks in
_CHUNK = 64 * 1024


def course_zip(course: Course) -> bytes:
    """The course folder as a ZIP: `<slug>/course.yml`, `<slug>/assets/...`, ..."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative, data in sorted(export.course_files(course).items()):
            info = zipfile.ZipInfo(f"{course.slug}/{relative}", date_time=_FIXED_DATE)
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return out.getvalue()


@dataclass
class Checked:
    """A ZIP whose entries passed the checks: the files to write, the folder label."""

    archive: zipfile.ZipFile
    files: list[tuple[zipfile.ZipInfo, str]]  # (entry, path inside the course folder)
    label: str


def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    mode = info.external_attr >> 16
    if "\x00" in name or "\\" in name:
        return "a name with a backslash or NUL character"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "an absolute path"
    if ".." in PurePosixPath(name).parts:
        return "a path that leaves the course folder (..)"
    if stat.S_ISLNK(mode):
        return "a link (links are not allowed)"
    # No file type at all is a plain file (Windows tools, Python's writestr write none).
    if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return "a special file"
    if info.flag_bits & 0x1:
        return "an encrypted entry"
    return None


def check_zip(data: bytes) -> Checked:
    """Open and check an uploaded ZIP; ServiceError lists every problem found."""
    config = current_app.config
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise ServiceError(_("This file is not a ZIP file."), "file") from None
    entries = archive.infolist()
    if len(entries) > config["ZIP_MAX_ENTRIES"]:
        raise ServiceError(
            _("The ZIP holds %(n)d entries; at most %(limit)d are accepted.",
              n=len(entries), limit=config["ZIP_MAX_ENTRIES"]),
            "file",
        )  # fmt: skip
    problems: list[str] = []
    total = 0
    seen: set[str] = set()
    for info in entries:
        problem = _entry_problem(info)
        if problem is None and info.filename.rstrip("/") in seen:
            problem = "a name used twice"
        seen.add(info.filename.rstrip("/"))
        if problem is None and not info.is_dir():
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > _CHUNK and ratio > config["ZIP_MAX_RATIO"]:
                problem = f"expands {ratio:.0f} times (at most {config['ZIP_MAX_RATIO']})"
        if problem:
            problems.append(f"{info.filename[:200]}: {problem}")
    if total > config["ZIP_MAX_BYTES"]:
        problems.append(
            f"the files expand to {total} bytes; at most {config['ZIP_MAX_BYTES']} are accepted"
        )
    if problems:
        raise ServiceError(_("This ZIP cannot be used:") + "\n" + "\n".join(problems), "file")
    # macOS's Archive Utility adds __MACOSX/ (resource forks): not part of the course.
    files = [
        (info, info.filename)
        for info in entries
        if not info.is_dir() and not info.filename.startswith("__MACOSX/")
    ]
    if not files:
        raise ServiceError(_("This ZIP is empty."), "file")
    # One folder around everything (as the download makes, and as most ZIP tools do): that
    # folder is the course folder.
    tops = {name.split("/", 1)[0] for _info, name in files}
    label = "course.zip"
    if len(tops) == 1 and all("/" in name for _info, name in files):
        label = tops.pop()
        files = [(info, name.split("/", 1)[1]) for info, name in files]
    return Checked(archive, files, label)


def _extract(checked: Checked, target: Path) -> None:
    """Write the checked entries under `target`, counting what is really expanded."""
    budget = current_app.config["ZIP_MAX_BYTES"]
    for info, name in checked.files:
        destination = target.joinpath(*PurePosixPath(name).parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        try:
            with checked.archive.open(info) as source, destination.open("wb") as out:
                while chunk := source.read(_CHUNK):
                    written += len(chunk)
                    budget -= len(chunk)
                    if written > info.file_size or budget < 0:
                        # The ZIP lied about its sizes: a bomb in disguise.
                        raise _refused(info, "expands beyond the size the ZIP declares")
                    out.write(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            raise _refused(info, f"damaged or in an unknown format ({exc})") from None


def _refused(info: zipfile.ZipInfo, problem: str) -> ServiceError:
    return ServiceError(
        _("This ZIP cannot be used:") + f"\n{info.filename[:200]}: {problem}", "file"
    )


@dataclass
class Outcome:
    course: Course | None  # None on a dry run
    slug: str
    created: bool
    counts: dict[str, int]


def import_zip(user: Any, data: bytes, *, dry_run: bool) -> Outcome:
    """Create or update the course in the ZIP (or only check it): all or nothing; the request's
    transaction saves it. An instructor may update only a course they teach."""
    checked = check_zip(data)
    services.ensure_standard_tracks()
    with tempfile.TemporaryDirectory(prefix="academy-zip-") as folder:
        _extract(checked, Path(folder))
        try:
            course_data = loader.read_course(folder, label=checked.label)
        except CourseFormatError as exc:
            raise ServiceError(_("The course has a problem:") + f"\n{exc}", "file") from None
    existing = services.course_by_slug(course_data.slug)
    if existing is not None and not access.may_edit(user, existing):
        raise ServiceError(
            _("The course “%(slug)s” belongs to other instructors: you can update only the "
              "courses you teach. Change its slug in course.yml to make a new course.",
              slug=course_data.slug),
            "file",
        )  # fmt: skip
    items = [item for module in course_data.modules for item in module.items]
    counts = {
        "modules": len(course_data.modules),
        "lessons": sum(isinstance(i, loader.LessonData) for i in items),
        "quizzes": sum(isinstance(i, loader.QuizData) for i in items),
        "files": len(course_data.assets),
    }
    if dry_run:
        return Outcome(None, course_data.slug, existing is None, counts)
    course = loader.store_course(course_data)
    if existing is None:
        db.session.add(CourseInstructor(course_id=course.id, user_id=user.id))
        db.session.flush()
    # A ZIP replaces a whole course (and may publish it): who did it is worth keeping.
    audit.record("course.upload_zip", course, created=existing is None, **counts)
    return Outcome(course, course.slug, existing is None, counts)
