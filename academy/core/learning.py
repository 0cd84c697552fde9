"""What a learner has done in a course, as lower features (the course outline, the lesson
page, the quiz page) need to show it. The progress feature, which sits above them, answers the
`learner_state` signal; without an answer every learner looks like they have just begun."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from academy.core import signals


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


def learner_state(user: Any, course: Any) -> LearnerCourseState:
    if not getattr(user, "is_authenticated", False):
        return LearnerCourseState()
    for _receiver, state in signals.learner_state.send(user, course=course):
        if state is not None:
            return state
    return LearnerCourseState()


def is_learning(user: Any) -> bool:
    """Whether someone who is not a learner by role (an admin) also learns: then the learner's
    menu items are theirs too. The courses feature answers (enrolled in anything)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return any(answer for _receiver, answer in signals.is_learning.send(user))


@dataclass(frozen=True)
class QuizGate:
    """A higher feature's word on whether a learner may start a gated quiz now (the periods
    feature answers for quizzes that open only during a period of the learner's class)."""

    open: bool
    message: str | None = None  # why not, in the learner's language
    needs_code: bool = False  # the start code shown on the projector
    closes_at: datetime | None = None  # an attempt begun now ends by then (the period's end)


def quiz_gate(user: Any, quiz: Any, *, now: datetime, code: str | None = None) -> QuizGate:
    """Ask whether `user` may start `quiz` now. `code` None only looks (the quiz page); a
    string is the learner's try at the start code (counted when wrong). Without an answer the
    quiz stays shut: a quiz meant for a period never opens by accident."""
    for _receiver, gate in signals.quiz_gate.send(user, quiz=quiz, now=now, code=code):
        if gate is not None:
            return gate
    return QuizGate(False)
