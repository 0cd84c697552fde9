"""A quiz as a file, written once for every way in and out: the GIFT file of a course folder
(the studio's loader and export), the quiz page's GIFT import and GIFT/JSON export, and the
CLI. The `// @key: value` settings header (docs/course-format.md) is read and written only
here, so the course export and the quiz page export cannot drift apart."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from academy.core import audit
from academy.core.errors import ServiceError
from academy.courses.services import KEY_RULE, TITLE_MAX
from academy.extensions import db
from academy.quizzes import bank
from academy.quizzes.gift import GiftError, GiftFile, key_line, parse_gift, write_gift
from academy.quizzes.models import Question, Quiz, new_question_key

JSON_FORMAT = 1
SETTINGS = (
    "pass_mark",
    "attempts_allowed",
    "time_limit_minutes",
    "shuffle_questions",
    "shuffle_answers",
    "draw_count",
    "draw_category",
    "grading",
    "show_feedback",
    "period_only",
)
# Header keys, in the order export writes them.
QUIZ_KEYS = (
    "id",
    "title",
    "title_en",
    "pass_mark",
    "attempts",
    "time_limit_minutes",
    "shuffle_questions",
    "shuffle_answers",
    "draw",
    "draw_category",
    "grading",
    "show_feedback",
    "period_only",
)


# --- reading -----------------------------------------------------------------------------------


def header_line(text: str, key: str) -> int:
    """The line of `// @key:` in the file (1 when it is not there), for error messages."""
    pattern = re.compile(rf"^\s*//\s*@{re.escape(key)}\s*:", re.I)
    for number, line in enumerate(text.split("\n"), start=1):
        if pattern.match(line):
            return number
    return 1


def _bool(value: str) -> bool | None:
    return {"true": True, "false": False}.get(value.strip().lower())


def quiz_settings(header: dict[str, str], text: str, source: str) -> dict[str, Any]:
    """Check the `// @key: value` settings; returns Quiz column values. A wrong value raises
    GiftError at its line."""

    def fail(key: str, reason: str) -> GiftError:
        return GiftError(reason, header_line(text, key), source)

    for key in header:
        if key not in QUIZ_KEYS:
            raise fail(key, f"unknown quiz setting '@{key}' (allowed: {', '.join(QUIZ_KEYS)})")
    key = header.get("id", "")
    if not key:
        raise GiftError("'// @id: ...' is missing at the top of the quiz", 1, source)
    if not KEY_RULE.match(key):
        raise fail("id", "'@id' must be 1-64 characters of a-z 0-9 - _")
    title = header.get("title", "").strip()
    if not title:
        raise GiftError("'// @title: ...' is missing at the top of the quiz", 1, source)
    if len(title) > TITLE_MAX or len(header.get("title_en", "")) > TITLE_MAX:
        raise fail("title", f"the title is longer than {TITLE_MAX} characters")

    def number(name: str, default: int, high: int) -> int:
        raw = header.get(name)
        if raw is None:
            return default
        if not re.fullmatch(r"\d{1,6}", raw.strip()) or int(raw) > high:
            raise fail(name, f"'@{name}' must be a whole number from 0 to {high}")
        return int(raw)

    def flag(name: str, default: bool) -> bool:
        raw = header.get(name)
        if raw is None:
            return default
        value = _bool(raw)
        if value is None:
            raise fail(name, f"'@{name}' must be true or false")
        return value

    def choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
        raw = header.get(name, default).strip()
        if raw not in allowed:
            raise fail(name, f"'@{name}' must be one of {', '.join(allowed)}")
        return raw

    return {
        "key": key,
        "title_th": title,
        "title_en": header.get("title_en", "").strip() or None,
        "pass_mark": number("pass_mark", 60, 100),
        "attempts_allowed": number("attempts", 0, 1000),
        "time_limit_minutes": number("time_limit_minutes", 0, 10000),
        "shuffle_questions": flag("shuffle_questions", False),
        "shuffle_answers": flag("shuffle_answers", True),
        "draw_count": number("draw", 0, 10000),
        "draw_category": header.get("draw_category", "").strip() or None,
        "grading": choice("grading", "best", ("best", "last")),
        "show_feedback": choice(
            "show_feedback", "after_submit", ("after_submit", "after_last_attempt", "never")
        ),
        "period_only": flag("period_only", False),
    }


def read_quiz_file(text: str, source: str) -> tuple[GiftFile, dict[str, Any]]:
    """A whole quiz file: its questions and its checked settings (GiftError names file:line)."""
    parsed = parse_gift(text, source, settings=QUIZ_KEYS)
    for key in parsed.keys:
        if key is not None and not KEY_RULE.match(key):
            raise GiftError(
                f"the question id '{key}' must be 1-64 characters of a-z 0-9 - _",
                key_line(text if isinstance(text, str) else text.decode(), key),
                source,
            )
    return parsed, quiz_settings(parsed.header, text, source)


def store_questions(
    quiz: Quiz, questions: list[Any], keys: list[str | None] | None = None
) -> list[str]:
    """Make the quiz's questions those of its file, updating rows in place, so learners'
    answers to questions that stayed keep their rows: a question with an id (`keys`, its
    `// @question:` line) is the row of that id, or a new one; one without is matched by title
    (the GIFT ::name::) when the title is unique, else by position, among the rows no id
    claimed, and keeps that row's id (a new row gets a new one). Returns the ids in order."""
    keys = list(keys) if keys is not None else [None] * len(questions)
    existing = list(
        db.session.scalars(
            select(Question)
            .where(Question.quiz_id == quiz.id)
            .order_by(Question.position, Question.id)
        )
    )
    by_key = {row.key: row for row in existing}
    claimed = {key for key in keys if key in by_key}
    unclaimed = [row for row in existing if row.key not in claimed]
    old_titles = [row.title for row in unclaimed]
    new_titles = [q.title[:300] for q, key in zip(questions, keys, strict=True) if key is None]
    by_title = {
        row.title: row
        for row in unclaimed
        if old_titles.count(row.title) == 1 and new_titles.count(row.title) == 1
    }
    spare = [row for row in unclaimed if row.title not in by_title]
    stored = []
    for position, (question, key) in enumerate(zip(questions, keys, strict=True), start=1):
        title = question.title[:300]
        if key is not None:
            row = by_key.get(key) or Question(quiz_id=quiz.id, key=key)
        else:
            row = by_title.get(title)
            if row is None:
                row = spare.pop(0) if spare else Question(quiz_id=quiz.id, key=new_question_key())
        row.position = position
        row.type = question.type
        row.title = title
        row.category = question.category[:200]
        row.data = question.to_dict()
        db.session.add(row)
        stored.append(row.key)
    for row in spare:
        db.session.delete(row)
    return stored


@dataclass
class GiftImport:
    """What an import added, and what the instructor should look at ("file:line: reason")."""

    added: list[Question] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def import_gift(quiz: Quiz, text: str | bytes, source: str = "<gift>") -> GiftImport:
    """Add every question of a GIFT text to the quiz, or none: an error names file:line.

    A file of `$CATEGORY:` lines only adds zero questions, as in Moodle; a file with nothing
    at all is refused.
    """
    try:
        parsed = parse_gift(text, source)
    except GiftError as error:
        raise ServiceError(
            _("Nothing was imported. %(where)s:%(line)d: %(reason)s",
              where=error.source, line=error.line, reason=error.reason)
        ) from None  # fmt: skip
    if not parsed.questions and not parsed.categories:
        raise ServiceError(_("Nothing was imported: the file has no questions."))
    added = bank.add_questions(quiz, parsed.questions) if parsed.questions else []
    audit.record("quiz.import", quiz, questions=len(added), source=source)
    return GiftImport(added, [str(warning) for warning in parsed.warnings])


# --- writing -----------------------------------------------------------------------------------


def quiz_header(quiz: Quiz) -> dict[str, str]:
    """The quiz's settings as the `// @key: value` lines, in QUIZ_KEYS order (a line break in a
    title would end its header line, so it becomes a space)."""

    def flag(value: bool) -> str:
        return "true" if value else "false"

    header = {"id": quiz.key, "title": quiz.title_th}
    if quiz.title_en:
        header["title_en"] = quiz.title_en
    header.update({
        "pass_mark": str(quiz.pass_mark),
        "attempts": str(quiz.attempts_allowed or 0),
        "time_limit_minutes": str(quiz.time_limit_minutes or 0),
        "shuffle_questions": flag(quiz.shuffle_questions),
        "shuffle_answers": flag(quiz.shuffle_answers),
        "draw": str(quiz.draw_count or 0),
    })  # fmt: skip
    if quiz.draw_category:
        header["draw_category"] = quiz.draw_category
    header["grading"] = quiz.grading
    header["show_feedback"] = quiz.show_feedback
    if quiz.period_only:  # written only when set, so existing course folders stay as they are
        header["period_only"] = flag(True)
    return {key: " ".join(value.splitlines()) for key, value in header.items()}


def quiz_text(quiz: Quiz) -> str:
    """The quiz as its GIFT file: the settings header, then the questions."""
    return write_gift(
        [bank.question_data(q) for q in quiz.questions],
        quiz_header(quiz),
        [q.key for q in quiz.questions],
    )


def export_json(quiz: Quiz) -> dict[str, Any]:
    """The quiz, its settings and its questions in the JSON form of docs/quizzes.md."""
    return {
        "format": JSON_FORMAT,
        "key": quiz.key,
        "title_th": quiz.title_th,
        "title_en": quiz.title_en,
        "settings": {name: getattr(quiz, name) for name in SETTINGS},
        "questions": [
            {"points": q.points, **bank.question_data(q).to_dict()} for q in quiz.questions
        ],
    }
