"""The courses/ folder format (docs/course-format.md): load a course folder, export it back.

`load_course(path)` reads and checks the whole folder first; any problem raises
CourseFormatError("<file>:<line>: <what is wrong>") before anything is stored. Then the course
is created or updated in one transaction, keeping every module, lesson, quiz and question that
kept its id (learners' progress points at their database ids).
`export_course(course, path)` writes the same format; export -> import -> export is
byte-identical.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml
from sqlalchemy import select

from academy.assignments import rubric
from academy.assignments.models import KINDS, PASS_RULES, PHOTOS, Assignment
from academy.core.markdown import MarkdownRefused, check_markdown, render_markdown
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
from academy.quizzes.gift import GiftError
from academy.quizzes.models import Quiz

# The project's own course folders (`flask academy import-courses`, the demo seed).
COURSES_DIR = Path(__file__).resolve().parents[2] / "courses"
NUMBERED = re.compile(r"^(\d{1,4})-([^/]+)$")
ASSIGNMENT_SUFFIX = ".assignment.md"
LANGUAGES = ("th", "en")


def course_folders(base: Path = COURSES_DIR) -> list[Path]:
    """Every course folder under `base` (a folder with a course.yml), in name order."""
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))


class CourseFormatError(ValueError):
    """A course folder cannot be loaded; str() is "<file>:<line>: <reason>"."""

    def __init__(self, reason: str, source: str = "", line: int | None = None) -> None:
        where = source + (f":{line}" if line else "")
        super().__init__(f"{where}: {reason}" if where else reason)
        self.reason = reason
        self.source = source
        self.line = line


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


@dataclass
class ModuleData:
    key: str
    title_th: str
    title_en: str | None
    summary_th: str | None
    summary_en: str | None
    items: list[LessonData | QuizData | AssignmentData] = field(default_factory=list)


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


class _Yaml:
    """A YAML mapping with the line of every key, so errors can point at it."""

    def __init__(self, text: str, source: str, first_line: int = 1) -> None:
        self.source = source
        self.offset = first_line - 1
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            self.data = yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = (mark.line + 1 + self.offset) if mark else None
            raise CourseFormatError(f"YAML cannot be read: {exc.problem}", source, line) from None
        except yaml.YAMLError as exc:
            raise CourseFormatError(f"YAML cannot be read: {exc}", source, first_line) from None
        if self.data is None:
            self.data = {}
        if not isinstance(self.data, dict):
            raise CourseFormatError("expected `key: value` lines", source, first_line)
        self.lines: dict[tuple[str, ...], int] = {}
        self._walk(node, ())

    def _walk(self, node: Any, prefix: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                path = (*prefix, str(key.value))
                self.lines[path] = key.start_mark.line + 1 + self.offset
                self._walk(value, path)
        elif isinstance(node, yaml.SequenceNode):
            # List items are named by their index ("criteria", "2", "type").
            for index, value in enumerate(node.value):
                path = (*prefix, str(index))
                self.lines[path] = value.start_mark.line + 1 + self.offset
                self._walk(value, path)

    def line(self, *path: str) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, self.offset + 1)

    def fail(self, reason: str, *path: str) -> CourseFormatError:
        return CourseFormatError(reason, self.source, self.line(*path))

    def only(self, allowed: tuple[str, ...]) -> None:
        for key in self.data:
            if str(key) not in allowed:
                raise self.fail(
                    f"unknown setting '{key}' (allowed: {', '.join(allowed)})", str(key)
                )

    def key(self) -> str:
        value = self.data.get("id")
        if value is None:
            raise self.fail("'id' is missing")
        if not isinstance(value, str) or not services.KEY_RULE.match(value):
            raise self.fail("'id' must be 1-64 characters of a-z 0-9 - _", "id")
        return value

    def text(self, name: str, *, required: bool = False, limit: int | None = None) -> str | None:
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                raise self.fail(f"'{name}' is missing", name)
            return None
        if not isinstance(value, str):
            raise self.fail(f"'{name}' must be text", name)
        value = value.strip()
        if limit and len(value) > limit:
            raise self.fail(f"'{name}' is longer than {limit} characters", name)
        return value

    def pair(
        self, name: str, *, required: bool, limit: int | None
    ) -> tuple[str | None, str | None]:
        """A {th: ..., en: ...} text; a plain string is the Thai text."""
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.fail(f"'{name}' is missing (give at least `th:`)", name)
            return None, None
        if isinstance(value, str):
            value = {"th": value}
        if not isinstance(value, dict):
            raise self.fail(f"'{name}' must have `th:` and optionally `en:` lines", name)
        result: dict[str, str | None] = {}
        for language in value:
            if language not in LANGUAGES:
                raise self.fail(f"'{name}': unknown language '{language}' (th, en)", name, language)
        for language in LANGUAGES:
            text = value.get(language)
            if text is not None and not isinstance(text, str):
                raise self.fail(f"'{name}.{language}' must be text", name, language)
            text = (text or "").strip() or None
            if text and limit and len(text) > limit:
                raise self.fail(
                    f"'{name}.{language}' is longer than {limit} characters", name, language
                )
            result[language] = text
        if required and not result["th"]:
            raise self.fail(f"'{name}.th' is missing: every course is written in Thai", name)
        return result["th"], result["en"]

    def integer(self, name: str, low: int = 0, high: int = 100000) -> int | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(f"'{name}' must be a whole number from {low} to {high}", name)
        return value


class _Reader:
    def __init__(self, root: Path, label: str) -> None:
        self.root = root
        self.label = label
        self.keys: dict[str, str] = {}  # id -> the file that used it first

    def name(self, path: Path) -> str:
        return f"{self.label}/{path.relative_to(self.root).as_posix()}"

    def read_text(self, path: Path) -> str:
        source = self.name(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CourseFormatError(f"cannot be read: {exc.strerror}", source) from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise CourseFormatError(
                f"not UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8", source, line
            ) from None
        text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        if "\x00" in text:
            line = text.count("\n", 0, text.index("\x00")) + 1
            raise CourseFormatError("contains a NUL character: is this a text file?", source, line)
        return text

    def claim(self, key: str, doc: _Yaml) -> None:
        if key in self.keys:
            raise doc.fail(f"duplicate id '{key}' (also used in {self.keys[key]})", "id")
        self.keys[key] = doc.source

    def entries(self, folder: Path) -> list[Path]:
        # Hidden files (.DS_Store, .gitkeep) are tools' business, not the course's.
        return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def read_course(path: str | os.PathLike[str]) -> CourseData:
    """Read and check a course folder completely; raise CourseFormatError on the first problem."""
    root = Path(path)
    label = os.fspath(path).rstrip("/") or "."
    if not root.is_dir():
        raise CourseFormatError("is not a folder", label)
    reader = _Reader(root, label)
    if not (root / "course.yml").is_file():
        raise CourseFormatError("course.yml is missing", label)

    assets = _read_assets(reader)
    doc = _Yaml(reader.read_text(root / "course.yml"), reader.name(root / "course.yml"))
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
        sequential=sequential, language=language, assets=assets,
    )  # fmt: skip

    for entry in reader.entries(root):
        if entry.name in ("course.yml", "assets"):
            continue
        match = NUMBERED.match(entry.name)
        if not entry.is_dir() or not match:
            raise CourseFormatError(
                "unexpected file: a course folder holds course.yml, assets/ and numbered "
                "module folders (01-name/)",
                reader.name(entry),
            )
    modules = [e for e in reader.entries(root) if e.is_dir() and NUMBERED.match(e.name)]
    modules.sort(key=lambda p: (int(NUMBERED.match(p.name).group(1)), p.name))
    for folder in modules:
        data.modules.append(_read_module(reader, folder, data))
    return data


def _read_assets(reader: _Reader) -> dict[str, tuple[bytes, files.Checked]]:
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
            relative = path.relative_to(reader.root).as_posix()
            source = reader.name(path)
            if path.is_symlink() or not path.is_file():
                raise CourseFormatError(
                    "links and special files are not allowed in assets/", source
                )
            if files.safe_asset_path(relative) is None:
                raise CourseFormatError(
                    "file names in assets/ may use only A-Z a-z 0-9 . _ - (no spaces)", source
                )
            data = path.read_bytes()
            try:
                checked = files.check_file(name, data)
            except files.FileRefused as exc:
                raise CourseFormatError(str(exc), source) from None
            found[relative] = (data, checked)
    return found


def _read_module(reader: _Reader, folder: Path, course: CourseData) -> ModuleData:
    yml = folder / "module.yml"
    if not yml.is_file():
        raise CourseFormatError("module.yml is missing", reader.name(folder))
    doc = _Yaml(reader.read_text(yml), reader.name(yml))
    doc.only(("id", "title", "summary"))
    key = doc.key()
    reader.claim(key, doc)
    title_th, title_en = doc.pair("title", required=True, limit=services.TITLE_MAX)
    summary_th, summary_en = doc.pair("summary", required=False, limit=None)
    _check_summaries(doc, summary_th, summary_en)
    module = ModuleData(key, title_th or "", title_en, summary_th, summary_en)
    items = []
    for entry in reader.entries(folder):
        if entry.name == "module.yml":
            continue
        match = NUMBERED.match(entry.name)
        if not match or not entry.is_file() or entry.suffix not in (".md", ".gift"):
            raise CourseFormatError(
                "unexpected file: a module folder holds module.yml, numbered lessons "
                "(01-name.md), quizzes (02-name.gift) and assignments (03-name.assignment.md)",
                reader.name(entry),
            )
        items.append((int(match.group(1)), entry.name, entry))
    for _number, _name, entry in sorted(items):
        if entry.name.endswith(ASSIGNMENT_SUFFIX):
            module.items.append(_read_assignment(reader, entry, course))
        elif entry.suffix == ".md":
            module.items.append(_read_lesson(reader, entry, course))
        else:
            module.items.append(_read_quiz(reader, entry))
    return module


def split_front_matter(text: str, source: str) -> tuple[str, int, str, int]:
    """(front matter, its first line, body, the body's first line)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise CourseFormatError("a lesson starts with a `---` line, then id: and title:", source, 1)
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            front = "\n".join(lines[1:index])
            body_lines = lines[index + 1 :]
            first = index + 2
            while body_lines and not body_lines[0].strip():
                body_lines.pop(0)
                first += 1
            return front, 2, "\n".join(body_lines).rstrip(), first
    raise CourseFormatError("the front matter is not closed with a `---` line", source, 1)


def _read_lesson(reader: _Reader, path: Path, course: CourseData) -> LessonData:
    source = reader.name(path)
    text = reader.read_text(path)
    front, front_line, body, body_line = split_front_matter(text, source)
    doc = _Yaml(front, source, front_line)
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


def _check_summaries(doc: _Yaml, *summaries: str | None) -> None:
    for summary in summaries:
        try:
            check_markdown(summary)
        except MarkdownRefused as exc:
            raise doc.fail(f"'summary': {exc.english}", "summary") from None


def check_links(body: str, assets: dict[str, Any], source: str, first_line: int = 1) -> None:
    """Every relative link or image must name a file in assets/ (and never leave the folder).
    Raises MarkdownRefused for a text beyond the Markdown limits."""
    problems: list[tuple[str, str]] = []

    def record(url: str) -> str:
        path = unquote(url.split("#", 1)[0].split("?", 1)[0])
        if ".." in path.split("/") or path.startswith("~"):
            problems.append((url, "leaves the course folder (..)"))
        elif files.safe_asset_path(path) is None:
            problems.append(
                (url, "must be a file in assets/ (assets/name.png) or a full https:// link")
            )
        elif path not in assets:
            problems.append((url, "is not a file in assets/"))
        return url

    render_markdown(body, rewrite_url=record)
    if problems:
        url, reason = problems[0]
        lines = body.split("\n")
        number = next((i for i, line in enumerate(lines) if url in line), 0)
        raise CourseFormatError(f"link '{url}' {reason}", source, first_line + number)


# --- assignments ------------------------------------------------------------------------------

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


def _read_assignment(reader: _Reader, path: Path, course: CourseData) -> AssignmentData:
    source = reader.name(path)
    text = reader.read_text(path)
    front, front_line, body, body_line = split_front_matter(text, source)
    doc = _Yaml(front, source, front_line)
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
        check_links(body, course.assets, source, body_line)
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


# --- quizzes ----------------------------------------------------------------------------------


def _read_quiz(reader: _Reader, path: Path) -> QuizData:
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
    return QuizData(settings["key"], settings, list(parsed.questions), source)


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
    assignments = {
        a.key: a
        for a in db.session.scalars(select(Assignment).where(Assignment.course_id == course.id))
    }
    keep_assignments: set[str] = set()
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
                assignment = assignments.get(item.key) or Assignment(
                    course_id=course.id, key=item.key
                )
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
                keep_assignments.add(item.key)
            else:
                quiz = quizzes.get(item.key) or Quiz(course_id=course.id, key=item.key)
                for name, value in item.settings.items():
                    setattr(quiz, name, value)
                quiz.module_id = module.id
                quiz.position = position
                db.session.add(quiz)
                db.session.flush()
                transfer.store_questions(quiz, item.questions)
                keep_quizzes.add(item.key)
    db.session.flush()
    for key, quiz in quizzes.items():
        if key not in keep_quizzes:
            db.session.delete(quiz)
    for key, assignment in assignments.items():
        if key not in keep_assignments:
            db.session.delete(assignment)
    for key, lesson in lessons.items():
        if key not in keep_lessons:
            db.session.delete(lesson)
    db.session.flush()
    for key, module in modules.items():
        if key not in keep_modules:
            db.session.delete(module)
    db.session.flush()
    db.session.expire(course)
    return course


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
    front = dump_yaml(_compact({
        "id": assignment.key,
        "title": _pair(assignment.title_th, assignment.title_en),
        "hand_in": list(assignment.kinds),
        "photos": assignment.max_photos if PHOTOS in assignment.kinds else None,
        "criteria": list(assignment.criteria),
        "pass": assignment.pass_rule,
        "pass_points": assignment.pass_points if assignment.pass_rule == rubric.POINTS else None,
        "resubmissions": assignment.resubmissions,
    }))  # fmt: skip
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
