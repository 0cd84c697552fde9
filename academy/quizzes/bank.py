"""The question bank: a quiz's questions as data, adding, editing and ordering them, new
quizzes, and the quizzes of a course's outline. Functions never commit (core/transaction.py)."""

from __future__ import annotations

import json
from functools import lru_cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select

from academy.core import audit
from academy.core.errors import ServiceError
from academy.courses.models import Course, Module
from academy.extensions import db
from academy.quizzes.models import (
    Question,
    Quiz,
)
from academy.quizzes.questions import Question as QuestionData

# Answers that arrive this long after the deadline still count: the page saves as the learner
# types, and a request may leave the browser a moment before the clock runs out.


# Built once: it runs on every course and lesson page (issue 15).
_OUTLINE_QUIZZES = (
    select(Quiz).where(Quiz.course_id == bindparam("course_id")).order_by(Quiz.position, Quiz.id)
)


def outline_items(course: Course) -> list[tuple[int | None, int, str, int, str, Quiz]]:
    """The course's quizzes for its outline (the `outline_items` signal)."""
    quizzes = db.session.scalars(_OUTLINE_QUIZZES, {"course_id": course.id})
    return [(q.module_id, q.position, "quiz", q.id, q.key, q) for q in quizzes]


# --------------------------------------------------------------------------- questions


def question_data(question: Question) -> QuestionData:
    """The question as data. Parsing checks every field (and its Markdown) again, ~0.1 ms per
    question on every quiz page; the result is immutable, so it is kept per process by the
    stored JSON and the limits it was checked against (issue 15)."""
    limits = tuple(current_app.config.get(name) for name in _PARSE_LIMITS)
    return _parsed(json.dumps(question.data, sort_keys=True, ensure_ascii=False), limits)


_PARSE_LIMITS = ("MARKDOWN_MAX_CHARS", "MARKDOWN_MAX_NESTING")


@lru_cache(maxsize=4096)
def _parsed(stored: str, _limits: tuple) -> QuestionData:
    return QuestionData.from_dict(json.loads(stored))


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
