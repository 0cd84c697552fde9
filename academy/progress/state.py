"""A learner's state in a course for the pages below progress (the course outline, the lesson
page): done lessons, quiz marks, percent, where to continue. The answer to the `learner_state`
signal (core/learning.py asks it)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import (
    Boolean,
    Float,
    Integer,
    String,
    and_,
    bindparam,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
)

from academy.assignments.services import COURSE_STATES
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


# Built once, on the tables rather than the mapped classes: they run on every course and lesson
# page, and a Core select of plain columns skips the ORM's per-statement work (~0.15 ms each;
# issue 15).
_lesson = Lesson.__table__
_module = Module.__table__
_lesson_progress = LessonProgress.__table__
_course_progress = CourseProgress.__table__
_quiz_result = QuizResult.__table__
# One statement, three parts: the lessons in order with this learner's ticks (and the course's
# last lesson), the course totals with the quiz marks (no row without course progress), and the
# newest hand-in of each assignment.
_LESSON_TICKS = (
    select(
        literal_column("'lesson'").label("kind"),
        _lesson.c.id.label("item_id"),
        _lesson_progress.c.done_at.label("done_at"),
        type_coerce(null(), Float()).label("percent"),
        type_coerce(null(), Boolean()).label("passed"),
        type_coerce(null(), Integer()).label("attempts"),
        _course_progress.c.percent.label("course_percent"),
        _course_progress.c.completed_at.label("completed_at"),
        _course_progress.c.last_lesson_id.label("last_lesson_id"),
        _module.c.position.label("module_position"),
        _lesson.c.position.label("position"),
        type_coerce(null(), String()).label("status"),
    )
    .join(_module, _module.c.id == _lesson.c.module_id)
    .outerjoin(
        _lesson_progress,
        and_(
            _lesson_progress.c.lesson_id == _lesson.c.id,
            _lesson_progress.c.user_id == bindparam("user_id"),
        ),
    )
    .outerjoin(
        _course_progress,
        and_(
            _course_progress.c.course_id == _lesson.c.course_id,
            _course_progress.c.user_id == bindparam("user_id"),
        ),
    )
    .where(_lesson.c.course_id == bindparam("course_id"))
)
_QUIZ_MARKS = (
    select(
        literal_column("'quiz'"),
        _quiz_result.c.quiz_id,
        null(),
        _quiz_result.c.percent,
        _quiz_result.c.passed,
        _quiz_result.c.attempts,
        _course_progress.c.percent,
        _course_progress.c.completed_at,
        null(),
        null(),
        null(),
        null(),
    )
    .select_from(_course_progress)
    .outerjoin(
        _quiz_result,
        and_(
            _quiz_result.c.course_id == _course_progress.c.course_id,
            _quiz_result.c.user_id == _course_progress.c.user_id,
        ),
    )
    .where(
        _course_progress.c.user_id == bindparam("user_id"),
        _course_progress.c.course_id == bindparam("course_id"),
    )
)
# The newest hand-in of each assignment (the assignments feature's statement).
_states = COURSE_STATES.subquery()
_ASSIGNMENT_STATES = select(
    literal_column("'assignment'"),
    _states.c.assignment_id,
    *(null() for _ in range(9)),  # done_at to position
    _states.c.status,
)
_STATE = union_all(_LESSON_TICKS, _QUIZ_MARKS, _ASSIGNMENT_STATES).order_by(
    literal_column("kind"),
    literal_column("module_position"),
    literal_column("position"),
    literal_column("item_id"),
)


def learner_state(user: User, course: Course) -> LearnerCourseState:
    """One query: the lessons in order with this learner's ticks, the course totals with the
    quiz marks, and the assignment states."""
    rows = db.session.execute(_STATE, {"user_id": user.id, "course_id": course.id}).all()
    lessons = [row for row in rows if row.kind == "lesson"]
    state = LearnerCourseState()
    last_lesson_id = None
    for row in lessons:
        if row.done_at is not None:
            state.done_lesson_ids.add(row.item_id)
        last_lesson_id = row.last_lesson_id
    for row in rows:
        if row.kind == "assignment":
            state.assignment_states[row.item_id] = row.status
            continue
        if row.kind != "quiz":
            continue
        state.percent = row.course_percent or 0.0
        state.completed_at = row.completed_at
        if row.item_id is not None:
            state.quiz_marks[row.item_id] = QuizMark(
                percent=row.percent, passed=row.passed, attempts=row.attempts
            )
    state.resume_lesson_id = resume_lesson_id(
        ((row.item_id, row.done_at is not None) for row in lessons), last_lesson_id
    )
    return state
