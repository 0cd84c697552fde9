"""The checks every question field goes through (academy.quizzes.questions): texts, numbers
and fractions, each failure a QuestionError naming the field."""

from __future__ import annotations

import math
from typing import Any

# A multiple-response question's positive weights must add up to 100%. GIFT weights are written
# in percent with a few decimals (thirds are 33.33333%), so allow for that rounding.
WEIGHT_SUM_TOLERANCE = 1e-4
# Any one text of a question (its text, an answer, a feedback): a long question is a few
# thousand characters; this keeps one question from filling a page or a worker (a 20 MB
# question was accepted).
TEXT_MAX = 20_000


class QuestionError(ValueError):
    """A question (or its JSON form) is invalid; the message starts with the field's name."""


def text(value: Any, name: str) -> str:
    """Check a text field and normalise line endings (files from Windows editors carry \\r)."""
    if not isinstance(value, str):
        raise QuestionError(f"{name}: must be a string, got {type(value).__name__}")
    if len(value) > TEXT_MAX:
        raise QuestionError(f"{name}: too long ({len(value)} characters; at most {TEXT_MAX})")
    return value.replace("\r\n", "\n").replace("\r", "\n")


def number(value: Any, name: str) -> float:
    # bool is an int subclass; True as a fraction is almost certainly a bug in the caller.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise QuestionError(f"{name}: must be a number, got {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise QuestionError(f"{name}: must be a finite number, got {value!r}")
    return result


def fraction(value: Any, name: str) -> float:
    value_ = number(value, name)
    if not -1.0 <= value_ <= 1.0:
        raise QuestionError(f"{name}: must be between -1 and 1 (-100% to 100%), got {value!r}")
    return value_


def set_field(obj: object, name: str, value: Any) -> None:
    # The dataclasses are frozen; normalising in __post_init__ needs the escape hatch.
    object.__setattr__(obj, name, value)
