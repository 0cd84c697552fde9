"""Marking and results: an instructor marks essays; which attempt counts and when a learner
sees feedback; the marking queue and per-question statistics."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from academy.core import audit
from academy.core.errors import ServiceError
from academy.extensions import db
from academy.quizzes.access import may_edit
from academy.quizzes.models import (
    AFTER_SUBMIT,
    LAST,
    NEVER,
    SUBMITTED,
    Attempt,
    Question,
    Quiz,
    Response,
)
from academy.quizzes.questions import (
    ESSAY,
)
from academy.quizzes.taking import lock_attempt, retrying, score

# Answers that arrive this long after the deadline still count: the page saves as the learner
# types, and a request may leave the browser a moment before the clock runs out.


@retrying
def mark_essay(response: Response, fraction: float, comment: str, marker: Any) -> Attempt:
    attempt = db.session.get(Attempt, response.attempt_id)
    quiz = db.session.get(Quiz, attempt.quiz_id)
    if not may_edit(marker, quiz):
        raise ServiceError(_("Only the course's instructors can mark this quiz."))
    question = db.session.get(Question, response.question_id)
    if question is None or question.type != ESSAY:
        raise ServiceError(_("Only essay answers are marked by hand."))
    if attempt.status != SUBMITTED:
        raise ServiceError(_("The attempt is still open."))
    if (
        isinstance(fraction, bool)
        or not isinstance(fraction, (int, float))
        or not (0 <= fraction <= 1)
    ):
        raise ServiceError(_("Give a mark from 0 to 100%."), "fraction")
    attempt = lock_attempt(attempt)
    response.fraction = float(fraction)
    response.comment = (comment or "").strip() or None
    response.marked_by_id = marker.id
    score(attempt)
    audit.record(
        "response.mark", response, actor=marker, attempt_id=attempt.id,
        question_id=question.id, learner_id=attempt.user_id, fraction=response.fraction,
    )  # fmt: skip
    db.session.flush()
    return attempt


def kept_attempt(quiz: Quiz, attempts: list[Attempt]) -> Attempt | None:
    """The attempt whose score counts: the best or the last submitted one."""
    done = [a for a in attempts if a.status == SUBMITTED]
    if not done:
        return None
    if quiz.grading == LAST:
        return max(done, key=lambda a: a.number)
    return max(done, key=lambda a: (a.percent or 0.0, -a.number))


def feedback_visible(quiz: Quiz, attempt: Attempt, attempts: list[Attempt], user: Any) -> bool:
    """May this person see per-question feedback and the correct answers of this attempt?"""
    if may_edit(user, quiz):
        return True
    if attempt.status != SUBMITTED or quiz.show_feedback == NEVER:
        return False
    if quiz.show_feedback == AFTER_SUBMIT:
        return True
    # After the last attempt: only when no attempt is left (never for unlimited attempts).
    return (
        bool(quiz.attempts_allowed)
        and len(attempts) >= quiz.attempts_allowed
        and all(a.status == SUBMITTED for a in attempts)
    )


def marking_queue(quiz: Quiz) -> list[tuple[Response, Attempt, Question]]:
    rows = db.session.execute(
        select(Response, Attempt, Question)
        .join(Attempt, Response.attempt_id == Attempt.id)
        .join(Question, Response.question_id == Question.id)
        .where(
            Attempt.quiz_id == quiz.id,
            Attempt.status == SUBMITTED,
            Question.type == ESSAY,
            Response.marked_by_id.is_(None),
            Response.fraction.is_(None),  # an empty essay was scored 0 when submitted
        )
        .order_by(Attempt.submitted_at, Response.id)
    )
    return [tuple(row) for row in rows]


def question_stats(quiz: Quiz) -> list[dict[str, Any]]:
    """Per question: answers graded, share fully correct, mean fraction (weak questions show)."""
    rows = db.session.execute(
        select(
            Response.question_id,
            func.count(Response.id),
            func.avg(Response.fraction),
            func.sum(func.coalesce((Response.fraction >= 0.999).cast(db.Integer), 0)),
        )
        .join(Attempt, Response.attempt_id == Attempt.id)
        .where(
            Attempt.quiz_id == quiz.id,
            Attempt.status == SUBMITTED,
            Response.fraction.is_not(None),
        )
        .group_by(Response.question_id)
    )
    by_question = {qid: (n, mean, right) for qid, n, mean, right in rows}
    stats = []
    for question in quiz.questions:
        n, mean, right = by_question.get(question.id, (0, None, 0))
        stats.append(
            {
                "question": question,
                "answered": n,
                "mean": float(mean) if mean is not None else None,
                "share_correct": (right or 0) / n if n else None,
            }
        )
    return stats
