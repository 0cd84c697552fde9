"""Reading the files of a course folder so that every problem names its file and line: the
error type, the YAML documents (course.yml, module.yml, lesson front matter) and the reader
that walks the folder."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

import yaml

from academy.core.markdown import render_markdown
from academy.courses import files, services

T = TypeVar("T")

# Course folders hold Thai and English texts.
LANGUAGES = ("th", "en")
# Module folders and the files in them: 01-name (the number orders them).
NUMBERED = re.compile(r"^(\d{1,4})-([^/]+)$")


class CourseFormatError(ValueError):
    """A course folder cannot be loaded; str() is "<file>:<line>: <reason>"."""

    def __init__(self, reason: str, source: str = "", line: int | None = None) -> None:
        where = source + (f":{line}" if line else "")
        super().__init__(f"{where}: {reason}" if where else reason)
        self.reason = reason
        self.source = source
        self.line = line


class CourseFormatErrors(CourseFormatError):
    """Several files of a folder have problems; str() is one `<file>:<line>: <reason>` a line,
    so a dry run lists them all at once."""

    def __init__(self, problems: list[CourseFormatError]) -> None:
        first = problems[0]
        super().__init__(first.reason, first.source, first.line)
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(ValueError.__str__(p) for p in self.problems)


class Yaml:
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


class Reader:
    def __init__(self, root: Path, label: str) -> None:
        self.root = root
        self.label = label
        self.keys: dict[str, str] = {}  # id -> the file that used it first
        self.raw: dict[str, bytes] = {}  # path in the folder -> the bytes as the author wrote them
        self.problems: list[CourseFormatError] = []  # of files read on past a problem

    def collect(self, read: Callable[..., T], *args: Any) -> T | None:
        """`read(*args)`, or None with its problem kept: one file's problem does not hide the
        next file's (the problems are raised together at the end, course_problems)."""
        try:
            return read(*args)
        except CourseFormatError as exc:
            self.problems.append(exc)
            return None

    def raise_problems(self) -> None:
        if len(self.problems) == 1:
            raise self.problems[0]
        if self.problems:
            raise CourseFormatErrors(self.problems)

    def name(self, path: Path) -> str:
        return f"{self.label}/{path.relative_to(self.root).as_posix()}"

    def read_text(self, path: Path) -> str:
        source = self.name(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CourseFormatError(f"cannot be read: {exc.strerror}", source) from None
        self.raw[path.relative_to(self.root).as_posix()] = raw
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

    def claim(self, key: str, doc: Yaml) -> None:
        if key in self.keys:
            raise doc.fail(f"duplicate id '{key}' (also used in {self.keys[key]})", "id")
        self.keys[key] = doc.source

    def entries(self, folder: Path) -> list[Path]:
        # Hidden files (.DS_Store, .gitkeep) are tools' business, not the course's.
        return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


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
