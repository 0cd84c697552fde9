"""The quiz question model: plain, immutable dataclasses with no Flask or database code.

A `Question` is valid as soon as it exists: `__post_init__` normalises the texts (line endings,
surrounding whitespace) and checks every rule the GIFT writer and the grader rely on, raising
`ValueError` naming the field. That keeps one source of truth for "what is a question" shared
by the GIFT parser, the JSON importer (`Question.from_dict`) and the grader.

Collections are stored as tuples so that questions are hashable and cannot change under a
running attempt; any sequence is accepted when constructing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from academy.core.markdown import MarkdownRefused, check_markdown
from academy.quizzes.checks import WEIGHT_SUM_TOLERANCE, QuestionError
from academy.quizzes.checks import fraction as _fraction
from academy.quizzes.checks import number as _number
from academy.quizzes.checks import set_field as _set
from academy.quizzes.checks import text as _clean

SINGLE = "single"
MULTIPLE = "multiple"
TRUEFALSE = "truefalse"
SHORT = "short"
NUMERICAL = "numerical"
MATCHING = "matching"
MISSINGWORD = "missingword"
ESSAY = "essay"
DESCRIPTION = "description"

QUESTION_TYPES: tuple[str, ...] = (
    SINGLE,
    MULTIPLE,
    TRUEFALSE,
    SHORT,
    NUMERICAL,
    MATCHING,
    MISSINGWORD,
    ESSAY,
    DESCRIPTION,
)

TEXT_FORMATS: tuple[str, ...] = ("moodle", "html", "markdown", "plain")

# How a missing-word blank is answered: pick from choices (`{=a ~b}`) or type one of the
# accepted answers (`{=a =b}`).
BLANK_CHOICE = "choice"
BLANK_SHORT = "short"
BLANK_KINDS: tuple[str, ...] = (BLANK_CHOICE, BLANK_SHORT)


# Which optional fields each type uses; everything else must stay at its default so that
# a question means one thing only (and round-trips through GIFT unchanged).
TYPE_FIELDS: dict[str, frozenset[str]] = {
    SINGLE: frozenset({"answers"}),
    MULTIPLE: frozenset({"answers"}),
    SHORT: frozenset({"answers"}),
    MISSINGWORD: frozenset({"answers", "text_after", "blank"}),
    TRUEFALSE: frozenset({"correct", "feedback_true", "feedback_false"}),
    NUMERICAL: frozenset({"numeric", "wrong_feedback"}),
    MATCHING: frozenset({"pairs"}),
    ESSAY: frozenset(),
    DESCRIPTION: frozenset(),
}
OPTIONAL_DEFAULTS: dict[str, Any] = {
    "answers": (),
    "correct": None,
    "feedback_true": "",
    "feedback_false": "",
    "numeric": (),
    "wrong_feedback": "",
    "pairs": (),
    "text_after": "",
    "blank": "",
}


@dataclass(frozen=True)
class Answer:
    """One choice or accepted short answer. `fraction` is the credit, from -1 to 1."""

    text: str
    fraction: float
    feedback: str = ""

    def __post_init__(self) -> None:
        _set(self, "text", _clean(self.text, "text").strip())
        _set(self, "fraction", _fraction(self.fraction, "fraction"))
        _set(self, "feedback", _clean(self.feedback, "feedback").strip())

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "fraction": self.fraction, "feedback": self.feedback}


@dataclass(frozen=True)
class NumericAnswer:
    """An accepted numerical answer: `value` ± `tolerance`, or the range `minimum`..`maximum`.

    Exactly one form is used: a range has `value=None` and both bounds set. Ranges are kept as
    written instead of being converted to value ± tolerance (as Moodle does) so that `1..5`
    survives a round trip without floating-point drift.
    """

    value: float | None = None
    tolerance: float = 0.0
    fraction: float = 1.0
    feedback: str = ""
    minimum: float | None = None
    maximum: float | None = None

    def __post_init__(self) -> None:
        _set(self, "fraction", _fraction(self.fraction, "fraction"))
        _set(self, "feedback", _clean(self.feedback, "feedback").strip())
        _set(self, "tolerance", _number(self.tolerance, "tolerance"))
        if self.value is None:
            if self.minimum is None or self.maximum is None:
                raise QuestionError("value: give either value (± tolerance) or both min and max")
            if self.tolerance != 0:
                raise QuestionError("tolerance: a min..max range cannot also have a tolerance")
            _set(self, "minimum", _number(self.minimum, "min"))
            _set(self, "maximum", _number(self.maximum, "max"))
            if self.minimum > self.maximum:  # type: ignore[operator]
                raise QuestionError(f"min: {self.minimum} is larger than max {self.maximum}")
        else:
            if self.minimum is not None or self.maximum is not None:
                raise QuestionError("min: give either value (± tolerance) or min and max, not both")
            _set(self, "value", _number(self.value, "value"))
            if self.tolerance < 0:
                raise QuestionError(f"tolerance: must not be negative, got {self.tolerance!r}")

    @classmethod
    def range(
        cls, minimum: float, maximum: float, fraction: float = 1.0, feedback: str = ""
    ) -> NumericAnswer:
        return cls(None, 0.0, fraction, feedback, minimum, maximum)

    def to_dict(self) -> dict[str, Any]:
        if self.value is None:
            bounds: dict[str, Any] = {"min": self.minimum, "max": self.maximum}
        else:
            bounds = {"value": self.value, "tolerance": self.tolerance}
        return {**bounds, "fraction": self.fraction, "feedback": self.feedback}


@dataclass(frozen=True)
class Pair:
    """A matching pair. An empty `left` makes `right` an extra wrong choice (a distractor)."""

    left: str
    right: str

    def __post_init__(self) -> None:
        _set(self, "left", _clean(self.left, "left").strip())
        _set(self, "right", _clean(self.right, "right").strip())

    def to_dict(self) -> dict[str, Any]:
        return {"left": self.left, "right": self.right}


@dataclass(frozen=True)
class Question:
    """A quiz question of one of `QUESTION_TYPES`.

    Only the fields of the question's own type may be set; the others keep their defaults:

    - single, multiple, short: `answers`
    - missingword: `answers`, `blank` ("choice" or "short") and `text_after`; `text` is the part
      of the sentence before the blank
    - truefalse: `correct`, `feedback_true` (shown to learners who answered True),
      `feedback_false`
    - numerical: `numeric`, `wrong_feedback` (shown when no accepted answer matches)
    - matching: `pairs`
    - essay, description: nothing else
    """

    type: str
    title: str
    text: str
    text_format: str = "moodle"
    answers: tuple[Answer, ...] = ()
    feedback: str = ""
    category: str = ""
    correct: bool | None = None
    feedback_true: str = ""
    feedback_false: str = ""
    numeric: tuple[NumericAnswer, ...] = ()
    wrong_feedback: str = ""
    pairs: tuple[Pair, ...] = ()
    text_after: str = ""
    blank: str = ""

    def __post_init__(self) -> None:
        if self.type not in QUESTION_TYPES:
            raise QuestionError(
                f"type: unknown question type {self.type!r}; use one of {', '.join(QUESTION_TYPES)}"
            )
        title = _clean(self.title, "title").strip()
        if not title:
            raise QuestionError("title: must not be empty")
        _set(self, "title", title)
        if self.text_format not in TEXT_FORMATS:
            raise QuestionError(
                f"text_format: unknown format {self.text_format!r}; "
                f"use one of {', '.join(TEXT_FORMATS)}"
            )
        category = _clean(self.category, "category").strip()
        if "\n" in category:
            raise QuestionError("category: must be a single line")
        _set(self, "category", category)
        for name in ("feedback", "feedback_true", "feedback_false", "wrong_feedback"):
            _set(self, name, _clean(getattr(self, name), name).strip())

        text = _clean(self.text, "text")
        text_after = _clean(self.text_after, "text_after")
        if self.type == MISSINGWORD:
            # Keep the spaces next to the blank: Thai writes words without spaces, so
            # "ฉันชอบ{...}ข้าว" must not gain spaces around the blank when rendered.
            text, text_after = text.lstrip(), text_after.rstrip()
        else:
            text = text.strip()
        _set(self, "text", text)
        _set(self, "text_after", text_after)
        if self.text_format != "plain":
            for name in ("text", "text_after", "feedback"):
                try:
                    check_markdown(getattr(self, name))
                except MarkdownRefused as refused:
                    raise QuestionError(f"{name}: {refused.english}") from None

        _set(self, "answers", self._tuple_of(self.answers, Answer, "answers"))
        _set(self, "numeric", self._tuple_of(self.numeric, NumericAnswer, "numeric"))
        _set(self, "pairs", self._tuple_of(self.pairs, Pair, "pairs"))
        self._check_fields_of_type()
        self._check_rules()

    @staticmethod
    def _tuple_of(items: Any, kind: type, name: str) -> tuple[Any, ...]:
        if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
            raise QuestionError(f"{name}: must be a list of {kind.__name__}")
        for index, item in enumerate(items):
            if not isinstance(item, kind):
                raise QuestionError(f"{name}[{index}]: must be a {kind.__name__}, got {item!r}")
        return tuple(items)

    def _check_fields_of_type(self) -> None:
        allowed = TYPE_FIELDS[self.type]
        for name, default in OPTIONAL_DEFAULTS.items():
            if name not in allowed and getattr(self, name) != default:
                raise QuestionError(f"{name}: not used by {self.type} questions; leave it empty")

    def _check_rules(self) -> None:
        kind = self.type
        if kind == MISSINGWORD:
            if self.blank not in BLANK_KINDS:
                raise QuestionError(
                    f"blank: must be 'choice' or 'short' for a missing-word question, "
                    f"got {self.blank!r}"
                )
            if not self.text_after.strip():
                raise QuestionError(
                    "text_after: a missing-word question needs text after the blank "
                    "(with nothing after it, it is a single-choice or short-answer question)"
                )
            kind = SINGLE if self.blank == BLANK_CHOICE else SHORT

        for index, answer in enumerate(self.answers):
            if not answer.text:
                raise QuestionError(f"answers[{index}].text: must not be empty")

        if kind == SINGLE:
            if len(self.answers) < 2:
                raise QuestionError("answers: a choice question needs at least 2 choices")
            if not any(answer.fraction == 1.0 for answer in self.answers):
                raise QuestionError(
                    "answers: a single-choice question needs a choice worth 100% (=)"
                )
        elif kind == MULTIPLE:
            if len(self.answers) < 2:
                raise QuestionError("answers: a choice question needs at least 2 choices")
            total = sum(answer.fraction for answer in self.answers if answer.fraction > 0)
            # No right choice at all (`{~a ~b}`) is what Moodle imports with a notice; it is
            # kept, and `question_warnings` says so. Any other sum is a slip in the weights.
            if total and abs(total - 1.0) > WEIGHT_SUM_TOLERANCE:
                raise QuestionError(
                    f"answers: the positive weights of a multiple-answer question must add up "
                    f"to 100%, they add up to {total * 100:g}% (for thirds write 33.33333%)"
                )
        elif kind == SHORT:
            if not self.answers:
                raise QuestionError("answers: a short-answer question needs at least one answer")
            if max(answer.fraction for answer in self.answers) != 1.0:
                raise QuestionError("answers: a short-answer question needs an answer worth 100%")
            for index, answer in enumerate(self.answers):
                # GIFT reads `=... -> ...` as a matching pair, so a short answer containing
                # "->" could never be written back; refuse it up front.
                for name in ("text", "feedback"):
                    if "->" in getattr(answer, name):
                        raise QuestionError(
                            f"answers[{index}].{name}: '->' cannot be used in a short-answer "
                            f"question (GIFT would read it as a matching question)"
                        )
        elif kind == TRUEFALSE:
            if not isinstance(self.correct, bool):
                raise QuestionError("correct: a true/false question needs correct = true or false")
        elif kind == NUMERICAL:
            if not self.numeric:
                raise QuestionError("numeric: a numerical question needs at least one answer")
            if max(answer.fraction for answer in self.numeric) != 1.0:
                raise QuestionError("numeric: a numerical question needs an answer worth 100%")
        elif kind == DESCRIPTION:
            if self.feedback:
                raise QuestionError(
                    "feedback: a description has no answer block, so it has no feedback"
                )
        elif kind == MATCHING:
            real = [pair for pair in self.pairs if pair.left]
            if len(real) < 2:
                raise QuestionError("pairs: a matching question needs at least 2 pairs")
            for index, pair in enumerate(self.pairs):
                if not pair.right:
                    raise QuestionError(f"pairs[{index}].right: must not be empty")
                if "->" in pair.left:
                    raise QuestionError(f"pairs[{index}].left: must not contain '->'")

    # ------------------------------------------------------------------ helpers for callers

    @property
    def blank_kind(self) -> str:
        """How the question is answered: the type itself, or "choice"/"short" for a blank."""
        return self.blank if self.type == MISSINGWORD else self.type

    def match_choices(self) -> tuple[str, ...]:
        """The distinct right-hand texts of a matching question, in file order.

        This is the list learners pick from (shuffle it for display); a matching response may
        name a choice by its index in this tuple.
        """
        seen: dict[str, None] = {}
        for pair in self.pairs:
            seen.setdefault(pair.right, None)
        return tuple(seen)

    # ------------------------------------------------------------------ JSON form

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON form (see docs/quiz-format.md): common keys plus the type's own."""
        data: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "text": self.text,
            "text_format": self.text_format,
            "feedback": self.feedback,
            "category": self.category,
        }
        if self.type == MISSINGWORD:
            data["text_after"] = self.text_after
            data["blank"] = self.blank
        if self.type in (SINGLE, MULTIPLE, SHORT, MISSINGWORD):
            data["answers"] = [answer.to_dict() for answer in self.answers]
        elif self.type == TRUEFALSE:
            data["correct"] = self.correct
            data["feedback_true"] = self.feedback_true
            data["feedback_false"] = self.feedback_false
        elif self.type == NUMERICAL:
            data["numeric"] = [answer.to_dict() for answer in self.numeric]
            data["wrong_feedback"] = self.wrong_feedback
        elif self.type == MATCHING:
            data["pairs"] = [pair.to_dict() for pair in self.pairs]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Question:
        """Build a question from its JSON form; raises QuestionError naming the bad field."""
        if not isinstance(data, Mapping):
            raise QuestionError(f"question: must be an object, got {type(data).__name__}")
        for key in ("type", "title", "text"):
            if key not in data:
                raise QuestionError(f"{key}: missing")
        kind = data["type"]
        if kind not in QUESTION_TYPES:
            raise QuestionError(
                f"type: unknown question type {kind!r}; use one of {', '.join(QUESTION_TYPES)}"
            )
        allowed = {"type", "title", "text", "text_format", "feedback", "category"}
        allowed |= TYPE_FIELDS[kind]
        for key in data:
            if key not in allowed:
                raise QuestionError(f"{key}: unknown field for a {kind} question")

        kwargs: dict[str, Any] = {key: data[key] for key in data if key not in _LIST_FIELDS}
        if kind == TRUEFALSE and "correct" not in data:
            raise QuestionError("correct: missing")
        if "answers" in TYPE_FIELDS[kind]:
            kwargs["answers"] = _items(data, "answers", _answer_from_dict)
        if kind == NUMERICAL:
            kwargs["numeric"] = _items(data, "numeric", _numeric_from_dict)
        if kind == MATCHING:
            kwargs["pairs"] = _items(data, "pairs", _pair_from_dict)
        return cls(**kwargs)


_LIST_FIELDS = frozenset({"answers", "numeric", "pairs"})


def _items(
    data: Mapping[str, Any], key: str, build: Callable[[Mapping[str, Any]], Any]
) -> list[Any]:
    if key not in data:
        raise QuestionError(f"{key}: missing")
    items = data[key]
    if not isinstance(items, list):
        raise QuestionError(f"{key}: must be a list")
    result = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise QuestionError(f"{key}[{index}]: must be an object")
        try:
            result.append(build(item))
        except ValueError as error:
            raise QuestionError(f"{key}[{index}].{error}") from None
    return result


def _only(item: Mapping[str, Any], allowed: set[str], required: set[str]) -> None:
    for key in item:
        if key not in allowed:
            raise QuestionError(f"{key}: unknown field")
    for key in sorted(required):
        if key not in item:
            raise QuestionError(f"{key}: missing")


def _answer_from_dict(item: Mapping[str, Any]) -> Answer:
    _only(item, {"text", "fraction", "feedback"}, {"text", "fraction"})
    return Answer(item["text"], item["fraction"], item.get("feedback", ""))


def _numeric_from_dict(item: Mapping[str, Any]) -> NumericAnswer:
    if "min" in item or "max" in item:
        _only(item, {"min", "max", "fraction", "feedback"}, {"min", "max", "fraction"})
        return NumericAnswer.range(
            item["min"], item["max"], item["fraction"], item.get("feedback", "")
        )
    _only(item, {"value", "tolerance", "fraction", "feedback"}, {"value", "fraction"})
    return NumericAnswer(
        item["value"], item.get("tolerance", 0.0), item["fraction"], item.get("feedback", "")
    )


def _pair_from_dict(item: Mapping[str, Any]) -> Pair:
    _only(item, {"left", "right"}, {"left", "right"})
    return Pair(item["left"], item["right"])


__all__ = [
    "BLANK_CHOICE",
    "BLANK_SHORT",
    "QUESTION_TYPES",
    "TEXT_FORMATS",
    "Answer",
    "NumericAnswer",
    "Pair",
    "Question",
    "QuestionError",
]
