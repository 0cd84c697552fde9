"""Taking a quiz: starting attempts, saving answers, submitting, time limits, scoring.

Functions never commit: the request (or command) that calls them commits once when it succeeds
(core/transaction.py), before the learner is told "saved". Limits live in the database (unique
attempt numbers, one open attempt per learner and quiz), so racing requests cannot break them;
the code only turns a violation into a clear answer.

Responses as stored (JSON) and as sent by the browser, by question type (indices are the
question's own, never the shuffled display position):
single and missing-word choice: int; multiple: [int, ...]; truefalse: bool; short, numerical,
missing-word short, essay: str; matching: {"pair index": choice index, ...}; description: none.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from academy.auth.models import User
from academy.core import signals, transaction
from academy.core.db import may_write, utcnow
from academy.core.errors import ServiceError
from academy.core.learning import quiz_gate
from academy.extensions import db
from academy.quizzes import grading
from academy.quizzes.access import may_edit, may_take
from academy.quizzes.bank import question_data
from academy.quizzes.models import (
    AFTER_LAST_ATTEMPT,
    AFTER_SUBMIT,
    BEST,
    LAST,
    NEVER,
    OPEN,
    SUBMITTED,
    Attempt,
    Question,
    Quiz,
    Response,
)
from academy.quizzes.questions import (
    BLANK_CHOICE,
    DESCRIPTION,
    ESSAY,
    MATCHING,
    MISSINGWORD,
    MULTIPLE,
    SINGLE,
)
from academy.quizzes.questions import Question as QuestionData

# Answers that arrive this long after the deadline still count: the page saves as the learner
# types, and a request may leave the browser a moment before the clock runs out.


GRACE = timedelta(seconds=10)
T = TypeVar("T")
_RETRIES = 8

FEEDBACK_CHOICES = (AFTER_SUBMIT, AFTER_LAST_ATTEMPT, NEVER)
GRADING_CHOICES = (BEST, LAST)


# --------------------------------------------------------------------------- attempts


def open_attempt(user: Any, quiz: Quiz) -> Attempt | None:
    return db.session.scalar(
        select(Attempt).where(
            Attempt.quiz_id == quiz.id, Attempt.user_id == user.id, Attempt.status == OPEN
        )
    )


# Built once: the quiz page runs them on every view (issue 15).
_ATTEMPTS_OF = (
    select(Attempt)
    .where(Attempt.quiz_id == bindparam("quiz_id"), Attempt.user_id == bindparam("user_id"))
    .order_by(Attempt.number)
)
_QUESTION_COUNT = select(func.count()).where(
    Question.__table__.c.quiz_id == bindparam("quiz_id"),
    Question.__table__.c.type != DESCRIPTION,
)


def attempts_of(user: Any, quiz: Quiz) -> list[Attempt]:
    return list(db.session.scalars(_ATTEMPTS_OF, {"quiz_id": quiz.id, "user_id": user.id}))


def question_count(quiz: Quiz) -> int:
    """The questions a learner answers (descriptions are not questions), counted in the
    database rather than by loading every question with its data."""
    return db.session.scalar(_QUESTION_COUNT, {"quiz_id": quiz.id}) or 0


def attempts_left(quiz: Quiz, attempts: list[Attempt]) -> int | None:
    """None when unlimited."""
    if not quiz.attempts_allowed:
        return None
    return max(0, quiz.attempts_allowed - len(attempts))


def _build_layout(quiz: Quiz, rng: random.Random) -> list[dict[str, Any]]:
    questions = list(
        db.session.scalars(
            select(Question).where(Question.quiz_id == quiz.id).order_by(Question.position)
        )
    )
    if quiz.draw_count:
        pool = [
            q
            for q in questions
            if q.type != DESCRIPTION
            and (not quiz.draw_category or q.category == quiz.draw_category)
        ]
        drawn = set(id(q) for q in rng.sample(pool, min(quiz.draw_count, len(pool))))
        questions = [q for q in questions if id(q) in drawn]
    if quiz.shuffle_questions:
        rng.shuffle(questions)
    layout = []
    for question in questions:
        data = question.data
        count = 0
        if question.type in (SINGLE, MULTIPLE) or (
            question.type == MISSINGWORD and data.get("blank") == BLANK_CHOICE
        ):
            count = len(data.get("answers", []))
        elif question.type == MATCHING:
            count = len(dict.fromkeys(pair["right"] for pair in data.get("pairs", [])))
        order = list(range(count))
        if quiz.shuffle_answers or question.type == MATCHING:
            # Matching choices are always shuffled: in file order they would give the answer.
            rng.shuffle(order)
        layout.append({"question_id": question.id, "order": order})
    return layout


def start_attempt(user: Any, quiz: Quiz, code: str | None = None) -> Attempt:
    """The learner's open attempt, or a new one. Refuses (ServiceError) when the learner may not
    take the quiz, the quiz has no questions or no attempt is left, or (a quiz that opens only
    in a period) it is not open now or `code` is not its start code."""
    if not may_take(user, quiz):
        raise ServiceError(_("Only learners enrolled in this course can take the quiz."))
    previewing = may_edit(user, quiz)
    closes_at = None
    if quiz.period_only and not previewing:
        existing = open_attempt(user, quiz)
        if existing is not None and not _close_if_expired(existing):
            return existing  # begun while the quiz was open: no second code needed
        gate = quiz_gate(user, quiz, now=utcnow(), code=code or "")
        if not gate.open:
            raise ServiceError(gate.message or period_only_message())
        closes_at = gate.closes_at
    rng = random.SystemRandom()
    for attempt_no in range(_RETRIES):
        try:
            existing = open_attempt(user, quiz)
            if existing is not None and _close_if_expired(existing):
                existing = None
            if existing is not None:
                return existing
            last = db.session.scalar(
                select(func.max(Attempt.number)).where(
                    Attempt.quiz_id == quiz.id, Attempt.user_id == user.id
                )
            )
            number = (last or 0) + 1
            if quiz.attempts_allowed and number > quiz.attempts_allowed and not previewing:
                raise ServiceError(
                    _("You have used all %(n)d attempts at this quiz.", n=quiz.attempts_allowed)
                )
            layout = _build_layout(quiz, rng)
            if not layout:
                raise ServiceError(_("This quiz has no questions yet."))
            now = utcnow()
            deadline = (
                now + timedelta(minutes=quiz.time_limit_minutes)
                if quiz.time_limit_minutes
                else None
            )
            if closes_at is not None:
                # A quiz opened in a period ends with the period, as a time limit would.
                deadline = min(deadline or closes_at, closes_at)
            attempt = Attempt(
                quiz_id=quiz.id,
                user_id=user.id,
                number=number,
                status=OPEN,
                started_at=now,
                deadline_at=deadline,
                layout=layout,
            )
            db.session.add(attempt)
            # The unique attempt number and the one-open-attempt rule answer here.
            db.session.flush()
            return attempt
        except IntegrityError:
            # Another request started an attempt first: the loop finds and returns it (or
            # finds the limit reached).
            db.session.rollback()
        except OperationalError:
            # SQLite: a snapshot older than another writer's commit cannot upgrade to write.
            db.session.rollback()
            time.sleep(0.01 * (attempt_no + 1) * random.random())
    raise ServiceError(_("Too many people are starting at once; please try again."))


def retrying(function: Callable[..., T]) -> Callable[..., T]:
    """Run a unit of work again when SQLite reports a busy snapshot (a read transaction that
    another writer overtook cannot upgrade to write); requests avoid it with BEGIN IMMEDIATE,
    the CLI and background threads come through here."""

    @wraps(function)
    def wrapped(*args: Any, **kwargs: Any) -> T:
        for attempt_no in range(_RETRIES):
            try:
                return function(*args, **kwargs)
            except OperationalError:
                db.session.rollback()
                if attempt_no == _RETRIES - 1 or db.engine.dialect.name != "sqlite":
                    raise
                time.sleep(0.01 * (attempt_no + 1) * random.random())
        raise AssertionError("unreachable")  # pragma: no cover

    return wrapped


def lock_attempt(attempt: Attempt) -> Attempt:
    """Re-read the attempt, locked against a concurrent submit (PostgreSQL; SQLite writers are
    already serialised by BEGIN IMMEDIATE)."""
    if may_write() and db.session.get_bind().dialect.name == "sqlite":
        # This transaction began IMMEDIATE: it has held SQLite's only write lock since its
        # first statement, so the attempt it read is current and no submit can come between.
        # (One query less on every autosaved answer, issue 15.)
        return attempt
    locked = db.session.scalar(
        select(Attempt)
        .where(Attempt.id == attempt.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return locked if locked is not None else attempt


def is_expired(attempt: Attempt, now: datetime | None = None, grace: timedelta = GRACE) -> bool:
    now = now or utcnow()
    return (
        attempt.status == OPEN
        and attempt.deadline_at is not None
        and now > attempt.deadline_at + grace
    )


def _close_if_expired(attempt: Attempt, now: datetime | None = None) -> bool:
    """Close an attempt whose time is over with what was saved; True when it did."""
    if not is_expired(attempt, now):
        return False
    _grade_and_close(attempt, submitted_at=attempt.deadline_at)
    # The time is over whatever this request then answers: the closed attempt is saved.
    transaction.keep_on_refusal()
    return True


@retrying
def close_if_expired(attempt: Attempt) -> bool:
    """Lazily close on any access: called by every page that shows an attempt."""
    if attempt.status != OPEN or not is_expired(attempt):
        return False
    attempt = lock_attempt(attempt)
    closed = _close_if_expired(attempt)
    db.session.flush()
    return closed


@retrying
def close_expired_attempts(
    now: datetime | None = None,
    *,
    quiz_ids: Collection[int] | Select | None = None,
    user_ids: Collection[int] | Select | None = None,
) -> int:
    """Close every attempt whose time is over (only those of these quizzes or learners, when
    given as ids or a SELECT of ids) with what was saved. Pages that count attempts (results,
    marking, the gradebook) call it before they read, so correct numbers need no scheduled
    job; with nothing to close it is one query and no write."""
    now = now or utcnow()
    query = select(Attempt.id).where(Attempt.status == OPEN, Attempt.deadline_at < now - GRACE)
    if quiz_ids is not None:
        query = query.where(Attempt.quiz_id.in_(quiz_ids))
    if user_ids is not None:
        query = query.where(Attempt.user_id.in_(user_ids))
    return _close_each(list(db.session.scalars(query)), lambda a: _close_if_expired(a, now))


@retrying
def close_now(quiz: Quiz, user_ids: Collection[int] | Select, now: datetime) -> int:
    """Submit these learners' open attempts at the quiz now, with what was saved: the teacher
    closed it. The time limit's path: the deadline becomes now and the attempt is closed and
    graded as when time runs out. Returns how many were closed."""
    query = select(Attempt.id).where(
        Attempt.quiz_id == quiz.id, Attempt.status == OPEN, Attempt.user_id.in_(user_ids)
    )

    def close(attempt: Attempt) -> bool:
        if attempt.status != OPEN:
            return False
        attempt.deadline_at = min(attempt.deadline_at or now, now)
        _grade_and_close(attempt, submitted_at=attempt.deadline_at)
        return True

    return _close_each(list(db.session.scalars(query)), close)


def _close_each(attempt_ids: list[int], close: Callable[[Attempt], bool]) -> int:
    closed = 0
    for attempt_id in attempt_ids:
        # Locked and checked again: a learner's submit or another page may have closed it.
        closed += close(lock_attempt(db.session.get(Attempt, attempt_id)))
    db.session.flush()
    return closed


def period_only_message() -> str:
    return _("This quiz opens only during a period of your class, when your teacher opens it.")


def layout_ids(attempt: Attempt) -> list[int]:
    return [int(item["question_id"]) for item in attempt.layout]


def _check_owner(attempt: Attempt, user: Any) -> None:
    if user is None or attempt.user_id != user.id:
        raise ServiceError(_("This attempt belongs to someone else."))


def normalise_value(question: QuestionData, value: Any) -> Any:
    """The browser's JSON to what grading expects (matching keys arrive as strings)."""
    if question.type == MATCHING and isinstance(value, dict):
        converted = {}
        for key, choice in value.items():
            if isinstance(key, str) and key.isdigit() and key.isascii():
                key = int(key)
            if choice is None or choice == "":
                continue
            converted[key] = choice
        return converted
    if question.type == MULTIPLE and isinstance(value, list):
        return value
    return value


def _storable(question: QuestionData, value: Any) -> Any:
    if question.type == MATCHING and isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    return value


def form_values(attempt: Attempt, form: Any) -> dict[int, Any]:
    """The answers of the no-JavaScript attempt form (a MultiDict of q-<id> fields, named as the
    attempt page draws them), decoded by question type for save_many."""
    rows = db.session.execute(
        select(Question.id, Question.type, Question.data).where(
            Question.id.in_(layout_ids(attempt))
        )
    ).all()
    values: dict[int, Any] = {}
    for question_id, kind, data in rows:
        name = f"q-{question_id}"
        blank = data.get("blank") if kind == "missingword" else None
        try:
            if kind == "multiple":
                if f"{name}-present" in form:
                    values[question_id] = sorted({int(v) for v in form.getlist(name)})
            elif kind == "single" or blank == "choice":
                if form.get(name, "") != "":
                    values[question_id] = int(form[name])
            elif kind == "truefalse":
                if form.get(name) in ("true", "false"):
                    values[question_id] = form[name] == "true"
            elif kind == "matching":
                chosen = {}
                for key in form:
                    if key.startswith(name + "-m-") and form[key] != "":
                        chosen[key.removeprefix(name + "-m-")] = int(form[key])
                if chosen or f"{name}-present" in form:
                    values[question_id] = chosen
            elif kind != "description" and name in form:
                values[question_id] = form[name]
        except ValueError:
            values[question_id] = form.get(name)  # refused by the service, with a message
    return values


@retrying
def save_response(attempt: Attempt, question_id: Any, value: Any, user: Any) -> Response:
    """Save (insert or replace) one answer. Idempotent: sending the same answer twice keeps
    one row with that answer."""
    _check_owner(attempt, user)
    attempt = lock_attempt(attempt)
    if _close_if_expired(attempt):
        raise ServiceError(_("Time is over: the answers saved before the end were graded."))
    if attempt.status != OPEN:
        raise ServiceError(_("This attempt is closed; answers can no longer be changed."))
    if isinstance(question_id, bool) or not isinstance(question_id, int):
        try:
            question_id = int(str(question_id))
        except ValueError:
            question_id = -1
    if question_id not in layout_ids(attempt):
        raise ServiceError(_("That question is not part of this attempt."))
    question = db.session.get(Question, question_id)
    if question is None:
        raise ServiceError(_("That question is not part of this attempt."))
    data = question_data(question)
    if data.type == DESCRIPTION:
        raise ServiceError(_("That question is not part of this attempt."))
    value = normalise_value(data, value)
    try:
        grading.grade(data, value)
    except (grading.ResponseError, TypeError, ValueError):
        raise ServiceError(_("That is not a valid answer to this question.")) from None
    stored = _storable(data, value)
    response = db.session.scalar(
        select(Response).where(
            Response.attempt_id == attempt.id, Response.question_id == question_id
        )
    )
    if response is None:
        response = Response(attempt_id=attempt.id, question_id=question_id, value=stored)
        db.session.add(response)
    else:
        response.value = stored
    response.saved_at = utcnow()
    db.session.flush()
    return response


def save_many(attempt: Attempt, values: dict[int, Any], user: Any) -> list[str]:
    """The form without JavaScript posts every answer at once; returns the refusals."""
    problems = []
    for question_id, value in values.items():
        try:
            save_response(attempt, question_id, value, user)
        except ServiceError as error:
            problems.append(str(error.message))
            if attempt.status != OPEN:
                break
    return problems


@dataclass
class SubmitResult:
    attempt: Attempt
    changed: bool
    message: str


@retrying
def submit(attempt: Attempt, user: Any = None) -> SubmitResult:
    """Submit once. A repeated submit, or one after the time ran out, changes nothing."""
    if user is not None:
        _check_owner(attempt, user)
    attempt = lock_attempt(attempt)
    if attempt.status != OPEN:
        return SubmitResult(attempt, False, _("This attempt was already submitted."))
    if _close_if_expired(attempt):
        return SubmitResult(
            attempt, False, _("Time was over: the answers saved before the end were graded.")
        )
    _grade_and_close(attempt, submitted_at=utcnow())
    db.session.flush()
    return SubmitResult(attempt, True, _("Your answers were submitted."))


def response_map(attempt: Attempt) -> dict[int, Response]:
    return {
        r.question_id: r
        for r in db.session.scalars(select(Response).where(Response.attempt_id == attempt.id))
    }


def questions_map(attempt: Attempt) -> dict[int, Question]:
    ids = layout_ids(attempt)
    return {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(ids)))}


def _grade_and_close(attempt: Attempt, submitted_at: datetime | None) -> None:
    attempt.status = SUBMITTED
    attempt.submitted_at = submitted_at or utcnow()
    score(attempt)


def score(attempt: Attempt) -> None:
    """(Re)grade every saved response and the attempt, then tell progress."""
    questions = questions_map(attempt)
    responses = response_map(attempt)
    points = max_points = 0.0
    pending = False
    for question_id in layout_ids(attempt):
        question = questions.get(question_id)
        if question is None:  # deleted since the attempt started
            continue
        data = question_data(question)
        response = responses.get(question_id)
        if response is not None and response.marked_by_id is not None:
            value: Any = grading.ManualGrade(response.fraction or 0.0, "")
        else:
            value = normalise_value(data, response.value) if response is not None else None
        try:
            result = grading.grade(data, value)
        except grading.ResponseError:
            result = grading.GradeResult(0.0, False)
        if result.fraction is None:
            continue
        if result.needs_manual and (response is None or not str(response.value or "").strip()):
            # An essay left empty has nothing to mark: it scores 0 and holds nothing up.
            result = grading.GradeResult(0.0, False)
        if response is not None and response.marked_by_id is None:
            response.fraction = None if result.needs_manual else result.fraction
        pending = pending or (result.needs_manual and data.type == ESSAY)
        points += result.fraction * question.points
        max_points += question.points
    quiz = db.session.get(Quiz, attempt.quiz_id)
    attempt.points = round(points, 6)
    attempt.max_points = max_points
    attempt.percent = round(100 * points / max_points, 2) if max_points else 0.0
    attempt.needs_marking = pending
    passed = attempt.percent >= quiz.pass_mark
    # Pending essays can only raise the score: a pass stands, a fail is not decided yet.
    attempt.passed = True if passed else (None if pending else False)
    user = db.session.get(User, attempt.user_id)
    signals.attempt_graded.send(user, attempt=attempt, quiz=quiz)
