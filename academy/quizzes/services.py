"""Quiz rules: starting attempts, saving answers, submitting, time limits, essay marking.

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
from functools import lru_cache, wraps
from typing import Any, TypeVar

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from academy.core import audit, signals, transaction
from academy.core.access import ADMIN, rule
from academy.core.db import utcnow
from academy.core.errors import ServiceError
from academy.core.markdown import render_markdown
from academy.courses.models import Course, CourseInstructor, Enrolment, Module
from academy.extensions import db
from academy.quizzes import grading
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


# --------------------------------------------------------------------------- permissions


@rule("quiz.edit")
def _may_edit_quiz(user: Any, obj: Any) -> bool:
    """The course's instructors and admins edit its quizzes, see results and mark essays."""
    if user.role == ADMIN:
        return True
    course_id = getattr(obj, "course_id", None) if not isinstance(obj, Course) else obj.id
    if course_id is None:
        return False
    return (
        db.session.get(CourseInstructor, {"course_id": course_id, "user_id": user.id}) is not None
    )


def may_edit(user: Any, quiz: Quiz) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and _may_edit_quiz(user, quiz)


def is_enrolled(user: Any, course_id: int) -> bool:
    return (
        db.session.scalar(
            select(Enrolment.id).where(
                Enrolment.user_id == user.id, Enrolment.course_id == course_id
            )
        )
        is not None
    )


def may_take(user: Any, quiz: Quiz) -> bool:
    """Enrolled learners take the quiz; the course's instructors and admins may preview it."""
    if not getattr(user, "is_authenticated", False):
        return False
    return is_enrolled(user, quiz.course_id) or may_edit(user, quiz)


def outline_items(course: Course) -> list[tuple[int | None, int, str, int, str, Quiz]]:
    """The course's quizzes for its outline (the `outline_items` signal)."""
    quizzes = db.session.scalars(
        select(Quiz).where(Quiz.course_id == course.id).order_by(Quiz.position, Quiz.id)
    )
    return [(q.module_id, q.position, "quiz", q.id, q.key, q) for q in quizzes]


# --------------------------------------------------------------------------- questions


def question_data(question: Question) -> QuestionData:
    return QuestionData.from_dict(question.data)


def set_question(question: Question, data: QuestionData, points: float | None = None) -> None:
    question.type = data.type
    question.title = data.title[:300]
    question.category = data.category[:200]
    question.data = data.to_dict()
    if points is not None:
        question.points = points


# A quiz page shows every question: beyond this it is too long to take or to edit (a quiz of
# 100,000 questions took 83 s to show).
MAX_QUESTIONS_PER_QUIZ = 1000


def add_questions(quiz: Quiz, items: list[QuestionData]) -> list[Question]:
    """Append questions to a quiz (the caller commits)."""
    have = db.session.scalar(select(func.count(Question.id)).where(Question.quiz_id == quiz.id))
    if have + len(items) > MAX_QUESTIONS_PER_QUIZ:
        raise ServiceError(
            _(
                "A quiz holds at most %(max)d questions; this one has %(have)d and you are "
                "adding %(n)d. Split the questions into several quizzes.",
                max=MAX_QUESTIONS_PER_QUIZ,
                have=have,
                n=len(items),
            )
        )
    last = db.session.scalar(select(func.max(Question.position)).where(Question.quiz_id == quiz.id))
    position = (last or 0) + 1
    added = []
    for item in items:
        question = Question(quiz_id=quiz.id, position=position, points=1.0)
        set_question(question, item)
        db.session.add(question)
        added.append(question)
        position += 1
    db.session.flush()
    return added


def move_question(question: Question, direction: int) -> None:
    questions = list(
        db.session.scalars(
            select(Question)
            .where(Question.quiz_id == question.quiz_id)
            .order_by(Question.position, Question.id)
        )
    )
    index = questions.index(question)
    other = index + direction
    if 0 <= other < len(questions):
        questions[index], questions[other] = questions[other], questions[index]
    for position, item in enumerate(questions, start=1):
        item.position = position
    audit.record("question.move", question, quiz_id=question.quiz_id, position=question.position)


def create_quiz(course: Course, title: str, module: Module | None = None) -> Quiz:
    """A new quiz at the end of a module (the course's last module by default)."""
    if module is None:
        module = db.session.scalars(
            select(Module)
            .where(Module.course_id == course.id)
            .order_by(Module.position.desc(), Module.id.desc())
        ).first()
        if module is None:
            raise ServiceError(_("The course has no module to put the quiz in."))
    count = db.session.scalar(select(func.count(Quiz.id)).where(Quiz.course_id == course.id))
    quiz = Quiz(
        course_id=course.id,
        module_id=module.id,
        key=f"quiz-{count + 1}",
        position=1000 + count,
        title_th=title,
    )
    db.session.add(quiz)
    db.session.flush()
    return quiz


# --------------------------------------------------------------------------- attempts


def open_attempt(user: Any, quiz: Quiz) -> Attempt | None:
    return db.session.scalar(
        select(Attempt).where(
            Attempt.quiz_id == quiz.id, Attempt.user_id == user.id, Attempt.status == OPEN
        )
    )


def attempts_of(user: Any, quiz: Quiz) -> list[Attempt]:
    return list(
        db.session.scalars(
            select(Attempt)
            .where(Attempt.quiz_id == quiz.id, Attempt.user_id == user.id)
            .order_by(Attempt.number)
        )
    )


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


def start_attempt(user: Any, quiz: Quiz) -> Attempt:
    """The learner's open attempt, or a new one. Refuses (ServiceError) when the learner may not
    take the quiz, the quiz has no questions or no attempt is left."""
    if not may_take(user, quiz):
        raise ServiceError(_("Only learners enrolled in this course can take the quiz."))
    previewing = may_edit(user, quiz)
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
            attempt = Attempt(
                quiz_id=quiz.id,
                user_id=user.id,
                number=number,
                status=OPEN,
                started_at=now,
                deadline_at=now + timedelta(minutes=quiz.time_limit_minutes)
                if quiz.time_limit_minutes
                else None,
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


def _retrying(function: Callable[..., T]) -> Callable[..., T]:
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


def _lock_attempt(attempt: Attempt) -> Attempt:
    """Re-read the attempt, locked against a concurrent submit (PostgreSQL; SQLite writers are
    already serialised by BEGIN IMMEDIATE)."""
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


@_retrying
def close_if_expired(attempt: Attempt) -> bool:
    """Lazily close on any access: called by every page that shows an attempt."""
    if attempt.status != OPEN or not is_expired(attempt):
        return False
    attempt = _lock_attempt(attempt)
    closed = _close_if_expired(attempt)
    db.session.flush()
    return closed


@_retrying
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
    stale = list(db.session.scalars(query))
    closed = 0
    for attempt_id in stale:
        # Locked and checked again: a learner's submit or another page may have closed it.
        attempt = _lock_attempt(db.session.get(Attempt, attempt_id))
        closed += _close_if_expired(attempt, now)
    db.session.flush()
    return closed


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


@_retrying
def save_response(attempt: Attempt, question_id: Any, value: Any, user: Any) -> Response:
    """Save (insert or replace) one answer. Idempotent: sending the same answer twice keeps
    one row with that answer."""
    _check_owner(attempt, user)
    attempt = _lock_attempt(attempt)
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


@_retrying
def submit(attempt: Attempt, user: Any = None) -> SubmitResult:
    """Submit once. A repeated submit, or one after the time ran out, changes nothing."""
    if user is not None:
        _check_owner(attempt, user)
    attempt = _lock_attempt(attempt)
    if attempt.status != OPEN:
        return SubmitResult(attempt, False, _("This attempt was already submitted."))
    if _close_if_expired(attempt):
        return SubmitResult(
            attempt, False, _("Time was over: the answers saved before the end were graded.")
        )
    _grade_and_close(attempt, submitted_at=utcnow())
    db.session.flush()
    return SubmitResult(attempt, True, _("Your answers were submitted."))


def _response_map(attempt: Attempt) -> dict[int, Response]:
    return {
        r.question_id: r
        for r in db.session.scalars(select(Response).where(Response.attempt_id == attempt.id))
    }


def _questions_map(attempt: Attempt) -> dict[int, Question]:
    ids = layout_ids(attempt)
    return {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(ids)))}


def _grade_and_close(attempt: Attempt, submitted_at: datetime | None) -> None:
    attempt.status = SUBMITTED
    attempt.submitted_at = submitted_at or utcnow()
    _score(attempt)


def _score(attempt: Attempt) -> None:
    """(Re)grade every saved response and the attempt, then tell progress."""
    questions = _questions_map(attempt)
    responses = _response_map(attempt)
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
    user = db.session.get(_user_model(), attempt.user_id)
    signals.attempt_graded.send(user, attempt=attempt, quiz=quiz)


def _user_model():
    from academy.auth.models import User

    return User


@_retrying
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
    attempt = _lock_attempt(attempt)
    response.fraction = float(fraction)
    response.comment = (comment or "").strip() or None
    response.marked_by_id = marker.id
    _score(attempt)
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


# --------------------------------------------------------------------------- what pages show


# Question texts change rarely and a class opens the same ones forty times at once: keep the
# rendered HTML by content (a changed text is a new key), so each worker renders it once.
@lru_cache(maxsize=4096)
def _inline(text: str) -> Any:
    """A short text (a choice) as inline HTML: the Markdown path without the wrapping <p>."""
    html = str(render_markdown(text, fallback=True))
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    # Sanitised by render_markdown; only the outer <p> of a one-paragraph text is removed.
    return Markup(html)  # noqa: S704


@lru_cache(maxsize=4096)
def _text_html(text: str, text_format: str) -> Any:
    if text_format == "plain":
        return Markup("<p>%s</p>") % text
    return render_markdown(text, fallback=True)


def attempt_questions(attempt: Attempt, reveal: bool = False) -> list[dict[str, Any]]:
    """The view-model of an attempt's questions, built on the server.

    Without `reveal` it holds only what the learner may see while answering: texts and choices
    in the attempt's order, never a fraction, a feedback or which choice is right. With
    `reveal` (a submitted attempt whose feedback may be shown) each item also carries
    `result` (fraction, feedback texts) and `right_answer` (a readable correct answer).
    """
    questions = _questions_map(attempt)
    responses = _response_map(attempt)
    items = []
    number = 0
    for entry in attempt.layout:
        question = questions.get(int(entry["question_id"]))
        if question is None:
            continue
        data = question_data(question)
        response = responses.get(question.id)
        if data.type != DESCRIPTION:
            number += 1
        item = _item(
            data,
            question.id,
            question.points,
            list(entry.get("order") or []),
            response.value if response is not None else None,
            number if data.type != DESCRIPTION else None,
        )
        if reveal:
            item.update(_revealed(data, response))
        items.append(item)
    return items


def preview_items(data: QuestionData) -> list[dict[str, Any]]:
    """A question as a learner would see it (the editor's preview), choices in file order."""
    count = len(data.answers) if data.blank_kind in (SINGLE, MULTIPLE, BLANK_CHOICE) else 0
    if data.type == MATCHING:
        count = len(data.match_choices())
    return [_item(data, 0, 1.0, list(range(count)), None, 1)]


def _item(
    data: QuestionData,
    question_id: int,
    points: float,
    order: list[int],
    value: Any,
    number: int | None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": question_id,
        "number": number,
        "type": data.type,
        "kind": data.blank_kind,
        "title": data.title,
        "points": points,
        "text_html": _text_html(data.text, data.text_format),
        "value": value,
        "answered": value not in (None, "", [], {}),
    }
    if data.type == MISSINGWORD:
        item["before_html"] = _inline(data.text)
        item["after_html"] = _inline(data.text_after)
    if data.blank_kind in (SINGLE, MULTIPLE, BLANK_CHOICE):
        item["choices"] = [
            {"index": i, "html": _inline(data.answers[i].text)}
            for i in order
            if i < len(data.answers)
        ]
    if data.type == MATCHING:
        choices = data.match_choices()
        item["lefts"] = [
            {"index": i, "html": _inline(pair.left)}
            for i, pair in enumerate(data.pairs)
            if pair.left
        ]
        item["match_choices"] = [
            {"index": i, "text": choices[i]} for i in order if i < len(choices)
        ]
    return item


def _revealed(data: QuestionData, response: Response | None) -> dict[str, Any]:
    value = normalise_value(data, response.value) if response is not None else None
    try:
        result = grading.grade(data, value)
    except grading.ResponseError:
        result = grading.GradeResult(0.0, False)
    fraction = result.fraction
    feedback = [t for t in result.feedback if t != grading.NOT_A_NUMBER]
    if response is not None and response.marked_by_id is not None:
        fraction = response.fraction
    comment = response.comment if response is not None else None
    pending = result.needs_manual and response is not None and response.marked_by_id is None
    if result.needs_manual and (response is None or not str(response.value or "").strip()):
        pending = False
    return {
        "fraction": fraction,
        "correct": result.correct if fraction is None or fraction < 1 else True,
        "pending": pending,
        "feedback_html": [_inline(t) for t in feedback],
        "comment": comment,
        "right_answer": right_answer(data),
        "your_answer": readable_response(data, value),
    }


def readable_response(data: QuestionData, value: Any) -> str:
    """The learner's saved answer in words."""
    if value in (None, "", [], {}):
        return ""
    kind = data.blank_kind
    try:
        if kind in (SINGLE, BLANK_CHOICE):
            return data.answers[value].text
        if kind == MULTIPLE:
            return ", ".join(data.answers[i].text for i in sorted(value))
        if kind == "truefalse":
            return _("True") if value else _("False")
        if kind == MATCHING:
            choices = data.match_choices()
            return "; ".join(
                f"{data.pairs[k].left} → {choices[v] if isinstance(v, int) else v}"
                for k, v in sorted(value.items())
            )
    except (IndexError, TypeError, AttributeError):
        return ""
    return str(value)


def right_answer(data: QuestionData) -> str:
    """A correct answer in words, for the result page once it may be shown."""
    kind = data.blank_kind
    if kind in (SINGLE, BLANK_CHOICE):
        return " / ".join(a.text for a in data.answers if a.fraction == 1.0)
    if kind == "short":
        typed = [grading.readable_answer(a.text) for a in data.answers if a.fraction == 1.0]
        return " / ".join(text for text in typed if text)
    if kind == MULTIPLE:
        return ", ".join(a.text for a in data.answers if a.fraction > 0)
    if kind == "truefalse":
        return _("True") if data.correct else _("False")
    if kind == "numerical":
        parts = []
        for answer in data.numeric:
            if answer.fraction != 1.0:
                continue
            if answer.value is None:
                parts.append(f"{answer.minimum:g}–{answer.maximum:g}")
            elif answer.tolerance:
                parts.append(f"{answer.value:g} ± {answer.tolerance:g}")
            else:
                parts.append(f"{answer.value:g}")
        return " / ".join(parts)
    if kind == MATCHING:
        return "; ".join(f"{p.left} → {p.right}" for p in data.pairs if p.left)
    return ""
