"""What a learner has done in a course, as lower features (the course outline, the lesson
page, the quiz page) need to show it. The progress feature, which sits above them, registers
the real provider at start-up; until then every learner looks like they have just begun."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def shown_percent(value: float | None, complete: Any = False) -> int:
    """A percentage as a person reads it: a whole number, halves rounded up (1 of 8 is 13%).

    Only something complete (`complete` truthy, or the full 100) shows 100%, and anything
    started shows at least 1%: "100%" must mean done and "0%" nothing done yet.
    """
    if complete or (value is not None and value >= 100):
        return 100
    if value is None or not value > 0:
        return 0
    return min(99, max(1, math.floor(value + 0.5)))


@dataclass
class QuizMark:
    percent: float
    passed: bool
    attempts: int


@dataclass
class LearnerCourseState:
    done_lesson_ids: set[int] = field(default_factory=set)
    quiz_marks: dict[int, QuizMark] = field(default_factory=dict)  # quiz id -> mark
    # assignment id -> "waiting", "needs_changes" or "passed" (absent: not handed in)
    assignment_states: dict[int, str] = field(default_factory=dict)
    percent: float = 0.0
    completed_at: datetime | None = None
    resume_lesson_id: int | None = None  # "continue where you left off"


_provider: Callable[[Any, Any], LearnerCourseState] | None = None


def register_state_provider(provider: Callable[[Any, Any], LearnerCourseState]) -> None:
    global _provider
    _provider = provider


def learner_state(user: Any, course: Any) -> LearnerCourseState:
    if _provider is None or not getattr(user, "is_authenticated", False):
        return LearnerCourseState()
    return _provider(user, course)


_learning_check: Callable[[Any], bool] | None = None


def register_learning_check(check: Callable[[Any], bool]) -> None:
    """The courses feature answers "is this person enrolled in anything?"."""
    global _learning_check
    _learning_check = check


def is_learning(user: Any) -> bool:
    """Whether someone who is not a learner by role (an admin) also learns: then the learner's
    menu items are theirs too."""
    if _learning_check is None or not getattr(user, "is_authenticated", False):
        return False
    return _learning_check(user)
