"""The browser question editor: one question as title, text and a GIFT answer block.

Every type is edited the same way (the answer block is written in GIFT, the format teachers
already use for files), so one parser decides what a question is, in the editor and on import.
"""

from __future__ import annotations

import dataclasses

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from academy.core.errors import ServiceError
from academy.quizzes.gift import GiftError, escape, parse_gift, write_gift
from academy.quizzes.questions import QUESTION_TYPES
from academy.quizzes.questions import Question as QuestionData

# What a new question's answer block starts with, by type.
# Translated (they are examples for the teacher); translations must keep the GIFT marks.
TEMPLATES = {
    "single": _l("=Right answer#Feedback for it\n~Wrong answer#Why it is wrong"),
    "multiple": "~%50%" + _l("Right one") + "\n~%50%" + _l("Right two") + "\n~%-100%" + _l("Wrong"),
    "truefalse": "TRUE",
    "short": "=" + _l("Accepted answer"),
    "numerical": "#4:0",
    "matching": _l("=Left one -> Right one\n=Left two -> Right two\n= -> Extra wrong choice"),
    "missingword": _l("=right ~wrong"),
    "essay": "",
    "description": "",
}


def _unescaped(text: str, char: str) -> list[int]:
    positions, index = [], 0
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == char:
            positions.append(index)
        index += 1
    return positions


def answers_block(data: QuestionData) -> str:
    """The GIFT answer block of a question, as the editor shows it."""
    if data.type == "description":
        return ""
    written = write_gift([dataclasses.replace(data, category="")])
    opening, closing = _unescaped(written, "{")[0], _unescaped(written, "}")[-1]
    lines = written[opening + 1 : closing].split("\n")
    return "\n".join(line.removeprefix("    ") for line in lines).strip()


def build_question(
    kind: str,
    title: str,
    text: str,
    answers: str,
    text_after: str = "",
    category: str = "",
    text_format: str = "markdown",
) -> QuestionData:
    """A question from the editor's fields; ServiceError names the problem."""
    if kind not in QUESTION_TYPES:
        raise ServiceError(_("Unknown question type."))
    head = f"::{escape(title.strip())}::[{text_format}]{escape(text.strip())}"
    answers = (answers or "").replace("\r\n", "\n").strip()
    if kind == "description":
        source = head
    elif kind == "missingword":
        source = f"{head}{{{answers}}}{escape(text_after.rstrip())}"
    elif answers:
        source = f"{head} {{\n{answers}\n}}"
    else:
        source = f"{head} {{}}"
    try:
        parsed = parse_gift(source, "editor").questions
    except GiftError as error:
        raise ServiceError(
            _("The answers could not be read: %(reason)s", reason=error.reason), "answers"
        ) from None
    if len(parsed) != 1:
        raise ServiceError(_("Write exactly one question."), "answers")
    question = parsed[0]
    if question.type != kind:
        raise ServiceError(
            _(
                "These answers make a %(found)s question, not a %(wanted)s question.",
                found=question.type,
                wanted=kind,
            ),
            "answers",
        )
    try:
        return dataclasses.replace(question, category=category.strip())
    except ValueError as error:
        raise ServiceError(str(error), "category") from None
