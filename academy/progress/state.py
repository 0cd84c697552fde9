"""A learner's state in a course for the pages below progress (the course outline, the lesson
page): done lessons, quiz marks, percent, where to continue. The answer to the `learner_state`
signal (core/learning.py asks it)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, bindparam, select

from academy.assignments.services import states as assignment_states
from academy.auth.models import User
from academy.core.learning import LearnerCourseState, QuizMark
from academy.courses.models import Course, Lesson, Module
from academy.extensions import db
from academy.progress.models import (
    CourseProgress,
    LessonProgress,
    QuizResult,
)

EVENT_ENROLLED = "enrolled"
EVENT_VIEWED = "lesson_viewed"
EVENT_DONE = "lesson_done"
EVENT_QUIZ = "quiz_graded"
EVENT_COMPLETED = "course_completed"
EVENT_KINDS = (EVENT_ENROLLED, EVENT_VIEWED, EVENT_DONE, EVENT_QUIZ, EVENT_COMPLETED)

# A tab left open over lunch is not study time: one visit counts for at most this long.
MAX_SECONDS_PER_VIEW = 60 * 60


def resume_lesson_id(ordered: Iterable[tuple[int, bool]], last_lesson_id: int | None) -> int | None:
    """The first lesson not done, looking from the learner's last lesson onwards (then from
    the start); None when every lesson is done."""
    items = list(ordered)
    start = 0
    for index, (lesson_id, _done) in enumerate(items):
        if lesson_id == last_lesson_id:
            start = index
            break
    for lesson_id, done in items[start:] + items[:start]:
        if not done:
            return lesson_id
    return None


# Built once: they run on every course and lesson page (issue 15).
_LESSON_TICKS = (
    select(
        Lesson.id,
        LessonProgress.done_at,
        CourseProgress.percent,
        CourseProgress.completed_at,
        CourseProgress.last_lesson_id,
    )
    .join(Module, Module.id == Lesson.module_id)
    .outerjoin(
        LessonProgress,
        and_(LessonProgress.lesson_id == Lesson.id, LessonProgress.user_id == bindparam("user_id")),
    )
    .outerjoin(
        CourseProgress,
        and_(
            CourseProgress.course_id == Lesson.course_id,
            CourseProgress.user_id == bindparam("user_id"),
        ),
    )
    .where(Lesson.course_id == bindparam("course_id"))
    .order_by(Module.position, Lesson.position, Lesson.id)
)
_QUIZ_MARKS = (
    select(
        QuizResult.quiz_id,
        QuizResult.percent,
        QuizResult.passed,
        QuizResult.attempts,
        CourseProgress.percent,
        CourseProgress.completed_at,
    )
    .select_from(CourseProgress)
    .outerjoin(
        QuizResult,
        and_(
            QuizResult.course_id == CourseProgress.course_id,
            QuizResult.user_id == CourseProgress.user_id,
        ),
    )
    .where(
        CourseProgress.user_id == bindparam("user_id"),
        CourseProgress.course_id == bindparam("course_id"),
    )
)


def learner_state(user: User, course: Course) -> LearnerCourseState:
    """Two queries: the lessons in order with this learner's ticks and the course totals, and
    the quiz marks."""
    params = {"user_id": user.id, "course_id": course.id}
    lessons = db.session.execute(_LESSON_TICKS, params).all()
    marks = db.session.execute(_QUIZ_MARKS, params).all()
    state = LearnerCourseState()
    last_lesson_id = None
    for row in lessons:
        if row.done_at is not None:
            state.done_lesson_ids.add(row.id)
        last_lesson_id = row.last_lesson_id
    for quiz_id, percent, passed, attempts, course_percent, completed_at in marks:
        state.percent = course_percent or 0.0
        state.completed_at = completed_at
        if quiz_id is not None:
            state.quiz_marks[quiz_id] = QuizMark(percent=percent, passed=passed, attempts=attempts)
    state.assignment_states = assignment_states(user.id, course.id)
    state.resume_lesson_id = resume_lesson_id(
        ((row.id, row.done_at is not None) for row in lessons), last_lesson_id
    )
    return state
