"""The courses/ folder format (docs/course-format.md): load a course folder, export it back.

`load_course(path)` reads and checks the whole folder first; any problem raises
CourseFormatError("<file>:<line>: <what is wrong>") before anything is stored. Then the course
is created or updated in one transaction, keeping every module, lesson, quiz and question that
kept its id (learners' progress points at their database ids).
Writing a course back to a folder is studio/export.py.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from academy.core.markdown import MarkdownRefused, check_markdown
from academy.courses import files, services
from academy.courses.models import (
    DRAFT,
    PUBLISHED,
    Course,
    CourseAsset,
    Lesson,
    Module,
)
from academy.extensions import db
from academy.quizzes import transfer
from academy.quizzes.gift import GiftError, add_keys
from academy.quizzes.models import Quiz
from academy.studio import export
from academy.studio.assignment_files import (
    ASSIGNMENT_SUFFIX,
    AssignmentData,
    read_assignment,
    store_assignments,
)
from academy.studio.folder import (
    LANGUAGES,
    NUMBERED,
    CourseFormatError,
    Reader,
    Yaml,
    check_links,
    split_front_matter,
)

# The project's own course folders (`flask academy import-courses`, the demo seed).
COURSES_DIR = Path(__file__).resolve().parents[2] / "courses"


def course_folders(base: Path = COURSES_DIR) -> list[Path]:
    """Every course folder under `base` (a folder with a course.yml), in name order."""
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))


# --- what a folder holds, before anything touches the database -------------------------------


@dataclass
class LessonData:
    key: str
    title_th: str
    title_en: str | None
    minutes: int | None
    body: str
    source: str


@dataclass
class QuizData:
    key: str
    settings: dict[str, Any]
    questions: list[Any]
    source: str
    keys: list[str | None] = field(default_factory=list)  # each question's id, if the file has it
    stored_keys: list[str] = field(default_factory=list)  # the ids they have once stored


@dataclass
class ModuleData:
    key: str
    title_th: str
    title_en: str | None
    summary_th: str | None
    summary_en: str | None
    items: list[LessonData | QuizData | AssignmentData] = field(default_factory=list)
    source: str = ""


@dataclass
class CourseData:
    slug: str
    title_th: str
    title_en: str | None
    summary_th: str | None
    summary_en: str | None
    track: str | None
    cover: str | None
    duration_minutes: int | None
    status: str
    sequential: bool
    language: str
    modules: list[ModuleData] = field(default_factory=list)
    assets: dict[str, tuple[bytes, files.Checked]] = field(default_factory=dict)
    label: str = ""
    raw: dict[str, bytes] = field(default_factory=dict)  # the text files as read


def read_course(path: str | os.PathLike[str], label: str | None = None) -> CourseData:
    """Read and check a course folder completely; raise CourseFormatError naming every problem
    (of course.yml: the first; of the other files: each file's first).
    Problems name files as `<label>/<path in the folder>` (the folder's own path by default;
    an uploaded ZIP's folder name for the studio)."""
    root = Path(path)
    label = label or os.fspath(path).rstrip("/") or "."
    if not root.is_dir():
        raise CourseFormatError("is not a folder", label)
    reader = Reader(root, label)
    if not (root / "course.yml").is_file():
        raise CourseFormatError("course.yml is missing", label)

    assets = _read_assets(reader)
    # A problem of course.yml stops the reading; the files' problems found before it (a
    # refused cover image) are listed first, since they may be its cause.
    try:
        doc = Yaml(reader.read_text(root / "course.yml"), reader.name(root / "course.yml"))
        doc.only(("slug", "title", "summary", "track", "cover", "duration_minutes", "status",
                  "sequential", "language"))  # fmt: skip
        slug = doc.data.get("slug")
        if not isinstance(slug, str) or not services.SLUG_RULE.match(slug):
            raise doc.fail("'slug' must be 1-64 characters of a-z 0-9 - _", "slug")
        title_th, title_en = doc.pair("title", required=True, limit=services.TITLE_MAX)
        summary_th, summary_en = doc.pair("summary", required=False, limit=None)
        _check_summaries(doc, summary_th, summary_en)
        track = doc.text("track")
        if track is not None and services.track_by_slug(track) is None:
            known = ", ".join(t.slug for t in services.list_tracks())
            raise doc.fail(f"unknown track '{track}' (known: {known})", "track")
        cover = doc.text("cover")
        if cover is not None:
            if ".." in cover.split("/"):
                raise doc.fail("'cover' must not leave the course folder (..)", "cover")
            if cover not in assets:
                raise doc.fail(f"'cover': {cover} is not a file in assets/", "cover")
            if not assets[cover][1].is_image:
                raise doc.fail(f"'cover': {cover} is not an image", "cover")
        status = doc.data.get("status", DRAFT)
        if status not in (DRAFT, PUBLISHED):
            raise doc.fail("'status' must be draft or published", "status")
        sequential = doc.data.get("sequential", False)
        if not isinstance(sequential, bool):
            raise doc.fail("'sequential' must be true or false", "sequential")
        language = doc.data.get("language", "th")
        if language not in LANGUAGES:
            raise doc.fail("'language' must be th or en", "language")
        data = CourseData(
            slug=slug, title_th=title_th or "", title_en=title_en, summary_th=summary_th,
            summary_en=summary_en, track=track, cover=cover,
            duration_minutes=doc.integer("duration_minutes"), status=status,
            sequential=sequential, language=language, assets=assets, label=label, raw=reader.raw,
        )  # fmt: skip

        for entry in reader.entries(root):
            if entry.name in ("course.yml", "assets"):
                continue
            match = NUMBERED.match(entry.name)
            if not entry.is_dir() or not match:
                reader.problems.append(CourseFormatError(
                    "unexpected file: a course folder holds course.yml, assets/ and numbered "
                    "module folders (01-name/)",
                    reader.name(entry),
                ))  # fmt: skip
        modules = [e for e in reader.entries(root) if e.is_dir() and NUMBERED.match(e.name)]
        modules.sort(key=lambda p: (int(NUMBERED.match(p.name).group(1)), p.name))
        for folder in modules:
            module = reader.collect(_read_module, reader, folder, data)
            if module is not None:
                data.modules.append(module)
    except CourseFormatError as exc:
        reader.problems.append(exc)
    reader.raise_problems()
    return data


def _read_assets(reader: Reader) -> dict[str, tuple[bytes, files.Checked]]:
    folder = reader.root / "assets"
    found: dict[str, tuple[bytes, files.Checked]] = {}
    if not folder.exists():
        return found
    if not folder.is_dir() or folder.is_symlink():
        raise CourseFormatError("assets must be a folder", reader.name(folder))
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            checked = reader.collect(_read_asset, reader, path)
            if checked is not None:
                found[path.relative_to(reader.root).as_posix()] = checked
    return found


def _read_asset(reader: Reader, path: Path) -> tuple[bytes, files.Checked]:
    relative = path.relative_to(reader.root).as_posix()
    source = reader.name(path)
    if path.is_symlink() or not path.is_file():
        raise CourseFormatError("links and special files are not allowed in assets/", source)
    if files.safe_asset_path(relative) is None:
        raise CourseFormatError(
            "file names in assets/ may use only A-Z a-z 0-9 . _ - (no spaces)", source
        )
    data = path.read_bytes()
    try:
        return data, files.check_file(path.name, data)
    except files.FileRefused as exc:
        raise CourseFormatError(str(exc), source) from None


def _read_module(reader: Reader, folder: Path, course: CourseData) -> ModuleData:
    yml = folder / "module.yml"
    if not yml.is_file():
        raise CourseFormatError("module.yml is missing", reader.name(folder))
    doc = Yaml(reader.read_text(yml), reader.name(yml))
    doc.only(("id", "title", "summary"))
    key = doc.key()
    reader.claim(key, doc)
    title_th, title_en = doc.pair("title", required=True, limit=services.TITLE_MAX)
    summary_th, summary_en = doc.pair("summary", required=False, limit=None)
    _check_summaries(doc, summary_th, summary_en)
    module = ModuleData(key, title_th or "", title_en, summary_th, summary_en, source=doc.source)
    items = []
    for entry in reader.entries(folder):
        if entry.name == "module.yml":
            continue
        match = NUMBERED.match(entry.name)
        if not match or not entry.is_file() or entry.suffix not in (".md", ".gift"):
            reader.problems.append(CourseFormatError(
                "unexpected file: a module folder holds module.yml, numbered lessons "
                "(01-name.md), quizzes (02-name.gift) and assignments (03-name.assignment.md)",
                reader.name(entry),
            ))  # fmt: skip
            continue
        items.append((int(match.group(1)), entry.name, entry))
    for _number, _name, entry in sorted(items):
        if entry.name.endswith(ASSIGNMENT_SUFFIX):
            item = reader.collect(read_assignment, reader, entry, course.assets)
        elif entry.suffix == ".md":
            item = reader.collect(_read_lesson, reader, entry, course)
        else:
            item = reader.collect(_read_quiz, reader, entry)
        if item is not None:
            module.items.append(item)
    return module


def _read_lesson(reader: Reader, path: Path, course: CourseData) -> LessonData:
    source = reader.name(path)
    text = reader.read_text(path)
    front, front_line, body, body_line = split_front_matter(text, source)
    doc = Yaml(front, source, front_line)
    doc.only(("id", "title", "minutes"))
    key = doc.key()
    reader.claim(key, doc)
    title_th, title_en = doc.pair("title", required=True, limit=services.TITLE_MAX)
    minutes = doc.integer("minutes", 0, 10000)
    try:
        check_links(body, course.assets, source, body_line)
    except MarkdownRefused as exc:
        raise CourseFormatError(exc.english, source, body_line + (exc.line or 1) - 1) from None
    return LessonData(key, title_th or "", title_en, minutes, body, source)


def _check_summaries(doc: Yaml, *summaries: str | None) -> None:
    for summary in summaries:
        try:
            check_markdown(summary)
        except MarkdownRefused as exc:
            raise doc.fail(f"'summary': {exc.english}", "summary") from None


# --- quizzes ----------------------------------------------------------------------------------


def _read_quiz(reader: Reader, path: Path) -> QuizData:
    source = reader.name(path)
    text = reader.read_text(path)
    try:
        parsed, settings = transfer.read_quiz_file(text, source)
    except GiftError as exc:
        raise CourseFormatError(exc.reason, source, exc.line) from None
    if settings["key"] in reader.keys:
        raise CourseFormatError(
            f"duplicate id '{settings['key']}' (also used in {reader.keys[settings['key']]})",
            source,
            transfer.header_line(text, "id"),
        )
    reader.keys[settings["key"]] = source
    if not parsed.questions:
        raise CourseFormatError("the quiz has no questions", source, 1)
    return QuizData(settings["key"], settings, list(parsed.questions), source, list(parsed.keys))


# --- storing ----------------------------------------------------------------------------------


def load_course(path: str | os.PathLike[str]) -> Course:
    """Load or update one course folder (see the module docstring); the whole folder is read
    and checked before anything is stored, and the caller's unit of work commits it."""
    services.ensure_standard_tracks()
    return store_course(read_course(path))


def store_course(data: CourseData) -> Course:
    track = services.track_by_slug(data.track) if data.track else None
    course = services.course_by_slug(data.slug) or Course(slug=data.slug)
    course.title_th, course.title_en = data.title_th, data.title_en
    course.summary_th, course.summary_en = data.summary_th, data.summary_en
    course.track = track
    course.cover_path = data.cover
    course.duration_minutes = data.duration_minutes
    course.status = data.status
    course.sequential = data.sequential
    course.language = data.language
    db.session.add(course)
    db.session.flush()

    # Files: stored by content; rows say which course file name maps to which content.
    existing_assets = {
        a.path: a
        for a in db.session.scalars(select(CourseAsset).where(CourseAsset.course_id == course.id))
    }
    for relative, (blob, checked) in data.assets.items():
        files.store(blob, checked.sha256)
        asset = existing_assets.pop(relative, None) or CourseAsset(
            course_id=course.id, path=relative
        )
        asset.content_type, asset.size, asset.sha256 = (
            checked.content_type,
            checked.size,
            checked.sha256,
        )
        db.session.add(asset)
    for gone in existing_assets.values():
        db.session.delete(gone)

    modules = {
        m.key: m for m in db.session.scalars(select(Module).where(Module.course_id == course.id))
    }
    lessons = {
        x.key: x for x in db.session.scalars(select(Lesson).where(Lesson.course_id == course.id))
    }
    quizzes = {
        q.key: q for q in db.session.scalars(select(Quiz).where(Quiz.course_id == course.id))
    }
    keep_modules: set[str] = set()
    keep_lessons: set[str] = set()
    keep_quizzes: set[str] = set()
    placed: list[tuple[Module, int, AssignmentData]] = []
    paths = set(data.assets)
    for m_position, m_data in enumerate(data.modules, start=1):
        module = modules.get(m_data.key) or Module(course_id=course.id, key=m_data.key)
        module.position = m_position
        module.title_th, module.title_en = m_data.title_th, m_data.title_en
        module.summary_th, module.summary_en = m_data.summary_th, m_data.summary_en
        db.session.add(module)
        db.session.flush()
        keep_modules.add(m_data.key)
        for position, item in enumerate(m_data.items, start=1):
            if isinstance(item, LessonData):
                lesson = lessons.get(item.key) or Lesson(course_id=course.id, key=item.key)
                lesson.module_id = module.id
                lesson.position = position
                lesson.title_th, lesson.title_en = item.title_th, item.title_en
                lesson.minutes = item.minutes
                lesson.body = item.body
                lesson.body_html = services.render_lesson(course.slug, item.body, paths)
                db.session.add(lesson)
                keep_lessons.add(item.key)
            elif isinstance(item, AssignmentData):
                placed.append((module, position, item))
            else:
                quiz = quizzes.get(item.key) or Quiz(course_id=course.id, key=item.key)
                for name, value in item.settings.items():
                    setattr(quiz, name, value)
                quiz.module_id = module.id
                quiz.position = position
                db.session.add(quiz)
                db.session.flush()
                item.stored_keys = transfer.store_questions(quiz, item.questions, item.keys)
                keep_quizzes.add(item.key)
    db.session.flush()
    for key, quiz in quizzes.items():
        if key not in keep_quizzes:
            db.session.delete(quiz)
    store_assignments(course, placed, paths)
    for key, lesson in lessons.items():
        if key not in keep_lessons:
            db.session.delete(lesson)
    db.session.flush()
    for key, module in modules.items():
        if key not in keep_modules:
            db.session.delete(module)
    db.session.flush()
    export.remember_sources(course, _sources(data))
    db.session.expire(course)
    return course


def _sources(data: CourseData) -> dict[tuple[str, str], tuple[str, bytes]]:
    """(kind, key) -> (path in the folder, bytes) of every text file that made an object. A
    quiz file whose questions had no ids is kept with the ids they were given added above
    them, so they travel with the course (a school server pulls this folder)."""
    found = {("course", ""): "course.yml"}
    quizzes = {}
    for module in data.modules:
        found["module", module.key] = module.source
        for item in module.items:
            kind = {LessonData: "lesson", QuizData: "quiz"}.get(type(item), "assignment")
            found[kind, item.key] = item.source
            if isinstance(item, QuizData) and None in item.keys:
                quizzes[item.key] = item.stored_keys
    prefix = data.label + "/"
    out = {}
    for ident, source in found.items():
        path = source.removeprefix(prefix)
        if path in data.raw:
            raw = data.raw[path]
            if ident[0] == "quiz" and ident[1] in quizzes:
                raw = add_keys(raw, quizzes[ident[1]]).encode()
            out[ident] = (path, raw)
    return out
