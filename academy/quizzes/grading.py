"""Grading quiz responses: pure functions over `Question`s, no Flask or database.

`grade(question, response)` scores one answer as a fraction from 0 to 1; `score_attempt` adds up
a whole attempt. A response is what the learner's browser sent, so anything that could not
have come from the quiz form (a wrong type, an index that does not exist) raises
`ResponseError` instead of being graded: a forged request must not earn, or silently lose,
marks. A response that is merely wrong (a typo, a word where a number belongs) is graded 0.

The rules are documented for teachers in docs/quiz-format.md ("How answers are graded").
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext
from functools import lru_cache
from itertools import groupby
from typing import Any

from academy.quizzes.questions import (
    BLANK_CHOICE,
    BLANK_SHORT,
    DESCRIPTION,
    ESSAY,
    MATCHING,
    MULTIPLE,
    NUMERICAL,
    SHORT,
    SINGLE,
    TRUEFALSE,
    NumericAnswer,
    Question,
)

__all__ = [
    "MAX_ESSAY_LENGTH",
    "MAX_TEXT_LENGTH",
    "NOT_A_NUMBER",
    "AttemptScore",
    "GradeResult",
    "ManualGrade",
    "ResponseError",
    "grade",
    "matches_answer",
    "normalise_text",
    "parse_number",
    "readable_answer",
    "score_attempt",
]

# Feedback given when a numerical answer is not a number; a constant so the web layer can
# recognise and translate it.
NOT_A_NUMBER = "not a number"

# Longer than any real answer; anything bigger was not typed into the form.
MAX_TEXT_LENGTH = 2_000
MAX_ESSAY_LENGTH = 200_000

# Multiple-response weights written as 33.33333% add up to 99.99999%; a learner who picks every
# right choice must still get full marks.
_FULL_MARKS_SLACK = 1e-4


class ResponseError(ValueError):
    """The response cannot have come from the quiz form (wrong type, unknown choice...)."""


@dataclass(frozen=True)
class GradeResult:
    """One graded response.

    `fraction` is the credit from 0 to 1 (None for a description, which is not scored).
    `correct` is True for full credit, False otherwise, None when not decided (an essay waiting
    for the teacher, a description). `feedback` lists the texts to show the learner: the
    feedback of the chosen answers, then the question's general feedback.
    """

    fraction: float | None
    correct: bool | None
    needs_manual: bool = False
    feedback: tuple[str, ...] = ()


@dataclass(frozen=True)
class ManualGrade:
    """A teacher's grade, passed in place of the response (an essay, or a regrade)."""

    fraction: float
    feedback: str = ""


@dataclass(frozen=True)
class AttemptScore:
    points: float
    max_points: float
    percent: float
    pending_manual: bool


# ----------------------------------------------------------------------------- text matching

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)

# Thai combining marks in the order the Thai standard (WTT 2.0) types them: a vowel above or
# below the consonant, then a tone mark or other sign, then NIKHAHIT (the circle of SARA AM).
# Unicode gives most of these combining class 0, so NFC does not reorder them and "ที่" typed
# tone-first is a different string from vowel-first, though both look the same.
_THAI_MARK_RANK = {
    **dict.fromkeys("\u0e31\u0e34\u0e35\u0e36\u0e37\u0e38\u0e39\u0e3a\u0e47", 0),
    **dict.fromkeys("\u0e48\u0e49\u0e4a\u0e4b\u0e4c\u0e4e", 1),
    "\u0e4d": 2,
}
_THAI_MARK_RUN = re.compile("[" + "".join(_THAI_MARK_RANK) + "]{2,}")
# NFKC splits SARA AM (ำ) into NIKHAHIT + SARA AA. A tone typed after SARA AM ("น" "ำ" "้",
# a common slip that renders the same) ends up after SARA AA; it belongs before NIKHAHIT.
_TONE_AFTER_SARA_AM = re.compile("\u0e4d\u0e32([\u0e48-\u0e4c]+)")


def _sort_thai_marks(match: re.Match[str]) -> str:
    ordered = sorted(match.group(), key=_THAI_MARK_RANK.__getitem__)
    # The same mark typed twice shows once but would never match the teacher's answer.
    return "".join(mark for mark, _ in groupby(ordered))


def _tidy(text: str) -> str:
    """Everything `normalise_text` does except collapsing whitespace."""
    text = text.translate(_ZERO_WIDTH)
    text = unicodedata.normalize("NFKC", text)
    # casefold() can produce unnormalised text (e.g. for "İ"), hence NFKC again.
    text = unicodedata.normalize("NFKC", text.casefold())
    # One pass can expose another fix-up (a repeated SARA AM with a tone between them), so
    # repeat until nothing changes: the form must be the same however often it is applied.
    for _ in range(8):
        before = text
        text = text.replace("\u0e33", "\u0e4d\u0e32")  # what NFKC does to SARA AM
        text = _TONE_AFTER_SARA_AM.sub("\\1\u0e4d\u0e32", text)
        text = _THAI_MARK_RUN.sub(_sort_thai_marks, text)
        text = text.replace("\u0e4d\u0e32", "\u0e33").replace("\u0e40\u0e40", "\u0e41")
        if text == before:
            break
    return text


def normalise_text(text: str) -> str:
    """The form short answers are compared in.

    Removes zero-width characters, applies NFKC (so composed and decomposed accents,
    full-width letters and digits compare equal), ignores case, puts Thai vowel and tone marks
    in one canonical order, treats NIKHAHIT + SARA AA as SARA AM and "เเ" as "แ", and collapses
    runs of whitespace.
    """
    return " ".join(_tidy(text).split())


# Moodle's short-answer wildcard: a run of unescaped `*` matches any characters, `\*` is a
# literal star (qtype_shortanswer_question::compare_string_with_wildcard).
_WILDCARD_RUN = re.compile(r"(?<!\\)\*+")


def _collapse(text: str) -> str:
    # Like normalise_text's whitespace rule, but a space next to a wildcard is kept: "New *"
    # must not accept "Newcastle".
    words = " ".join(text.split())
    if not words:
        return " " if text else ""
    return (" " if text[0].isspace() else "") + words + (" " if text[-1].isspace() else "")


@lru_cache(maxsize=4096)
def _pieces(answer: str) -> tuple[str, ...]:
    # Each piece between wildcards is normalised as typed answers are, so the Thai-aware
    # comparison holds on both sides of a `*`.
    pieces = [_collapse(_tidy(piece.replace("\\*", "*"))) for piece in _WILDCARD_RUN.split(answer)]
    pieces[0] = pieces[0].lstrip()
    pieces[-1] = pieces[-1].rstrip()
    return tuple(pieces)


def _matches(given: str, answer: str) -> bool:
    # Wildcards only (no `?` or classes), so taking each piece at its first place after the
    # previous one is exact; no regular expression, so no backtracking on long answers.
    pieces = _pieces(answer)
    if len(pieces) == 1:
        return given == pieces[0]
    first, *middle, last = pieces
    if not given.startswith(first):
        return False
    position = len(first)
    for piece in middle:
        found = given.find(piece, position)
        if found < 0:
            return False
        position = found + len(piece)
    return len(given) - position >= len(last) and given.endswith(last)


def matches_answer(typed: str, answer: str) -> bool:
    """Whether a typed short answer matches an accepted answer, as Moodle compares them.

    A run of `*` in the accepted answer stands for any characters (`colo*r` accepts
    "colour"), `\\*` for a star itself; the rest is compared after `normalise_text`.
    """
    return _matches(normalise_text(typed), answer)


def readable_answer(answer: str) -> str:
    """An accepted answer as the result page shows it: each `*` as a space, as Moodle does."""
    return " ".join(piece.replace("\\*", "*") for piece in re.split(r"(?<!\\)\*", answer)).strip()


# ----------------------------------------------------------------------------- numbers

_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?", re.ASCII)
# 1,500 and 12,345.50 are Thai (and English) thousands separators.
_GROUPED_RE = re.compile(r"[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?", re.ASCII)
_JSON_INDEX_RE = re.compile(r"0|[1-9][0-9]{0,5}")
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\ufe63": "-"})


def _ascii_digits(text: str) -> str:
    # Thai digits (๐-๙) and any other script's decimal digits become 0-9.
    return "".join(
        str(unicodedata.decimal(char))
        if char > "\x7f" and unicodedata.decimal(char, None) is not None
        else char
        for char in text
    )


def parse_number(text: str) -> Decimal | None:
    """Read a number as a learner types it, or None when it is not one.

    Accepts Thai digits, a Unicode minus sign, thousands separators (1,500 is one thousand five
    hundred, as written in Thailand) and, when there is exactly one comma and no point, a
    decimal comma (3,5 is 3.5). Exact decimals, so an answer on the tolerance edge counts.
    """
    text = unicodedata.normalize("NFKC", text.translate(_ZERO_WIDTH))
    text = _ascii_digits(text.translate(_MINUS_SIGNS)).strip()
    if _GROUPED_RE.fullmatch(text):
        text = text.replace(",", "")
    elif text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    if not _NUMBER_RE.fullmatch(text):
        return None
    return Decimal(text)


def _exact(value: float) -> Decimal:
    # repr() is the shortest decimal that reads back as this float: the number the teacher
    # wrote, not its binary approximation.
    return Decimal(repr(value))


def _bounds(answer: NumericAnswer) -> tuple[Decimal, Decimal]:
    if answer.value is None:
        return _exact(answer.minimum), _exact(answer.maximum)  # type: ignore[arg-type]
    with localcontext() as context:
        context.prec = 80
        value, tolerance = _exact(answer.value), _exact(answer.tolerance)
        return value - tolerance, value + tolerance


# ----------------------------------------------------------------------------- grading


def grade(question: Question, response: Any) -> GradeResult:
    """Grade one response. Raises ResponseError when it cannot have come from the quiz form.

    Responses by question type: single and missing-word choice, the index of the chosen answer
    (or None); multiple, a set or list of indices; truefalse, a bool; short and missing-word
    short, the typed text; numerical, the typed text; matching, a dict from pair index to the
    chosen right-hand text (or its index in `question.match_choices()`; the pair index may be
    a string such as "0", as JSON stores it); essay, the text;
    description, None. Unanswered is None. A `ManualGrade` replaces the response of any type.
    """
    if question.type == DESCRIPTION:
        if response is not None:
            raise ResponseError("a description takes no response")
        return GradeResult(None, None)
    if isinstance(response, ManualGrade):
        return _manual(question, response)
    kind = question.blank_kind
    if kind in (SINGLE, BLANK_CHOICE):
        return _grade_single(question, response)
    if kind == MULTIPLE:
        return _grade_multiple(question, response)
    if kind == TRUEFALSE:
        return _grade_truefalse(question, response)
    if kind in (SHORT, BLANK_SHORT):
        return _grade_short(question, response)
    if kind == NUMERICAL:
        return _grade_numerical(question, response)
    if kind == MATCHING:
        return _grade_matching(question, response)
    if kind == ESSAY:
        _text(response, MAX_ESSAY_LENGTH)
        return GradeResult(0.0, None, needs_manual=True, feedback=_with_general(question, []))
    raise AssertionError(f"unhandled question type {question.type}")  # pragma: no cover


def _with_general(question: Question, feedback: Iterable[str]) -> tuple[str, ...]:
    texts = [text for text in feedback if text]
    if question.feedback:
        texts.append(question.feedback)
    return tuple(texts)


def _result(question: Question, fraction: float, feedback: Iterable[str]) -> GradeResult:
    # Negative weights cost marks within a question but never below zero for the question.
    fraction = min(1.0, max(0.0, fraction))
    return GradeResult(fraction, fraction >= 1.0, False, _with_general(question, feedback))


def _manual(question: Question, grade_: ManualGrade) -> GradeResult:
    fraction = grade_.fraction
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)):
        raise ResponseError(f"a manual grade must be a number, got {fraction!r}")
    if not (math.isfinite(fraction) and 0 <= fraction <= 1):
        raise ResponseError(f"a manual grade must be between 0 and 1, got {fraction!r}")
    return _result(question, float(fraction), [grade_.feedback])


def _index(value: Any, count: int, what: str) -> int:
    # bool is an int subclass, but True is not a choice number.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ResponseError(f"{what} must be a whole-number index, got {value!r}")
    if not 0 <= value < count:
        raise ResponseError(f"{what} {value} does not exist (there are {count})")
    return value


def _text(value: Any, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ResponseError(f"the answer must be text, got {type(value).__name__}")
    if len(value) > limit:
        raise ResponseError(f"the answer is longer than {limit} characters")
    return value


def _grade_single(question: Question, response: Any) -> GradeResult:
    if response is None:
        return _result(question, 0.0, [])
    answer = question.answers[_index(response, len(question.answers), "choice")]
    return _result(question, answer.fraction, [answer.feedback])


def _grade_multiple(question: Question, response: Any) -> GradeResult:
    if response is None:
        response = ()
    if not isinstance(response, (set, frozenset, list, tuple)):
        raise ResponseError(f"choices must be a set or list of indices, got {response!r}")
    picked = [_index(value, len(question.answers), "choice") for value in response]
    if len(set(picked)) != len(picked):
        raise ResponseError("the same choice is picked twice")
    chosen = [question.answers[index] for index in sorted(picked)]
    total = sum(answer.fraction for answer in chosen)
    if total > 1.0 - _FULL_MARKS_SLACK:
        total = 1.0
    return _result(question, total, [answer.feedback for answer in chosen])


def _grade_truefalse(question: Question, response: Any) -> GradeResult:
    if response is None:
        return _result(question, 0.0, [])
    if not isinstance(response, bool):
        raise ResponseError(f"a true/false answer must be True or False, got {response!r}")
    feedback = question.feedback_true if response else question.feedback_false
    return _result(question, 1.0 if response == question.correct else 0.0, [feedback])


def _grade_short(question: Question, response: Any) -> GradeResult:
    given = normalise_text(_text(response, MAX_TEXT_LENGTH))
    if not given:
        return _result(question, 0.0, [])
    # As Moodle: the first accepted answer that matches decides, so `=%0%*#feedback` written
    # last is "any other answer".
    for answer in question.answers:
        if _matches(given, answer.text):
            return _result(question, answer.fraction, [answer.feedback])
    return _result(question, 0.0, [])


def _grade_numerical(question: Question, response: Any) -> GradeResult:
    typed = _text(response, MAX_TEXT_LENGTH)
    if not typed.strip():
        return _result(question, 0.0, [])
    number = parse_number(typed)
    if number is None:
        return _result(question, 0.0, [NOT_A_NUMBER])
    matches = []
    for answer in question.numeric:
        low, high = _bounds(answer)
        if low <= number <= high:
            matches.append(answer)
    if not matches:
        return _result(question, 0.0, [question.wrong_feedback])
    best = max(matches, key=lambda answer: answer.fraction)
    return _result(question, best.fraction, [best.feedback])


def _grade_matching(question: Question, response: Any) -> GradeResult:
    if response is None:
        response = {}
    if not isinstance(response, Mapping):
        raise ResponseError(f"a matching answer must map pair indices to choices, got {response!r}")
    choices = question.match_choices()
    scored = [index for index, pair in enumerate(question.pairs) if pair.left]
    right = 0
    answered: set[int] = set()
    for key, value in response.items():
        # Responses are stored as JSON, whose object keys are always strings.
        if isinstance(key, str) and _JSON_INDEX_RE.fullmatch(key):
            key = int(key)
        index = _index(key, len(question.pairs), "pair")
        if index in answered:
            raise ResponseError(f"pair {index} is answered twice")
        answered.add(index)
        if index not in scored:
            raise ResponseError(f"pair {index} is an extra choice, not something to match")
        if isinstance(value, str):
            if value not in choices:
                raise ResponseError(f"{value!r} is not one of the choices")
            chosen = value
        else:
            chosen = choices[_index(value, len(choices), "matching choice")]
        if chosen == question.pairs[index].right:
            right += 1
    return _result(question, right / len(scored), [])


# ----------------------------------------------------------------------------- attempts


def score_attempt(items: Iterable[tuple[Question, float, Any]]) -> AttemptScore:
    """Add up an attempt from (question, points available, response) items.

    Descriptions count for nothing. An essay without a `ManualGrade` counts 0 for now and sets
    `pending_manual`. `percent` is rounded to 2 decimals (0 when nothing is scored).
    """
    points = 0.0
    max_points = 0.0
    pending = False
    for question, available, response in items:
        if isinstance(available, bool) or not isinstance(available, (int, float)):
            raise TypeError(f"points for {question.title!r} must be a number")
        if not (math.isfinite(available) and available >= 0):
            raise ValueError(f"points for {question.title!r} must be zero or more")
        result = grade(question, response)
        if result.fraction is None:
            continue
        pending = pending or result.needs_manual
        points += result.fraction * available
        max_points += available
    percent = round(100 * points / max_points, 2) if max_points else 0.0
    return AttemptScore(round(points, 6), max_points, percent, pending)
