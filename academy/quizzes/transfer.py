"""GIFT import and GIFT/JSON export of a quiz's questions (used by the pages and the CLI)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from academy.core import audit
from academy.core.errors import ServiceError
from academy.extensions import db
from academy.quizzes import services
from academy.quizzes.gift import GiftError, parse_gift, write_gift
from academy.quizzes.models import Question, Quiz

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
)


def import_gift(quiz: Quiz, text: str | bytes, source: str = "<gift>") -> list[Question]:
    """Add every question of a GIFT text to the quiz, or none: an error names file:line."""
    try:
        parsed = parse_gift(text, source)
    except GiftError as error:
        db.session.rollback()
        raise ServiceError(
            _("Nothing was imported. %(where)s:%(line)d: %(reason)s",
              where=error.source, line=error.line, reason=error.reason)
        ) from None  # fmt: skip
    if not parsed.questions:
        raise ServiceError(_("Nothing was imported: the file has no questions."))
    added = services.add_questions(quiz, parsed.questions)
    audit.record("quiz.import", quiz, questions=len(added), source=source)
    db.session.commit()
    return added


def gift_header(quiz: Quiz) -> dict[str, str]:
    """The quiz's settings as the `// @key: value` lines of docs/quiz-format.md."""
    header = {"id": quiz.key, "title": quiz.title_th}
    if quiz.title_en:
        header["title_en"] = quiz.title_en
    header.update(
        {
            "pass_mark": str(quiz.pass_mark),
            "attempts": str(quiz.attempts_allowed or 0),
            "time_limit_minutes": str(quiz.time_limit_minutes or 0),
            "shuffle_questions": "true" if quiz.shuffle_questions else "false",
            "shuffle_answers": "true" if quiz.shuffle_answers else "false",
            "draw": str(quiz.draw_count or 0),
            "grading": quiz.grading,
            "show_feedback": quiz.show_feedback,
        }
    )
    return {key: " ".join(value.split()) for key, value in header.items()}


def export_gift(quiz: Quiz) -> str:
    """The quiz as canonical GIFT: its settings header, then its questions."""
    return write_gift([services.question_data(q) for q in quiz.questions], gift_header(quiz))


def export_json(quiz: Quiz) -> dict[str, Any]:
    """The quiz, its settings and its questions in the JSON form of docs/quizzes.md."""
    return {
        "format": JSON_FORMAT,
        "key": quiz.key,
        "title_th": quiz.title_th,
        "title_en": quiz.title_en,
        "settings": {name: getattr(quiz, name) for name in SETTINGS},
        "questions": [
            {"points": q.points, **services.question_data(q).to_dict()} for q in quiz.questions
        ],
    }
