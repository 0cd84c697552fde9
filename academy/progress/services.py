"""Recording progress and deciding completion.

Every change goes through here: the receivers of the core signals (lesson viewed/done, attempt
graded, enrolled) call these functions inside the sender's transaction and never commit. Each
change appends a ProgressEvent (the history every report can be rebuilt from), updates the
current-state rows (LessonProgress, QuizResult, CourseProgress) and applies the course's
completion rule at once: a course is completed the moment its last requirement is met, never by
a scheduled job, and `course_completed` is sent exactly once per learner and course.

Concurrency: every write for a learner and course first locks that learner's CourseProgress row
(SELECT ... FOR UPDATE on PostgreSQL; SQLite writers are already serialised by BEGIN IMMEDIATE),
so two tabs finishing the last two items at once cannot both miss the completion; the
completion itself is a conditional UPDATE ... WHERE completed_at IS NULL whose row count decides
who sends the signal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from academy.assignments.models import PASSED, Assignment
from academy.assignments.services import states as assignment_states
from academy.auth.models import User
from academy.classes.models import Class, ClassCourse, ClassMember
from academy.core import signals
from academy.core.access import has_role
from academy.core.clock import local_month_key, month_key_sql
from academy.core.db import insert_ignoring_duplicates, utcnow
from academy.core.errors import ServiceError
from academy.courses.models import Course, Enrolment, Lesson
from academy.extensions import db
from academy.progress.models import (
    CourseProgress,
    LearnerMonthActivity,
    LessonProgress,
    ProgressEvent,
    QuizResult,
)
from academy.quizzes import taking
from academy.quizzes.models import LAST, OPEN, Attempt, Quiz

EVENT_ENROLLED = "enrolled"
EVENT_VIEWED = "lesson_viewed"
EVENT_DONE = "lesson_done"
EVENT_QUIZ = "quiz_graded"
EVENT_COMPLETED = "course_completed"
EVENT_KINDS = (EVENT_ENROLLED, EVENT_VIEWED, EVENT_DONE, EVENT_QUIZ, EVENT_COMPLETED)

# A tab left open over lunch is not study time: one visit counts for at most this long.
MAX_SECONDS_PER_VIEW = 60 * 60


# --- the completion rule -------------------------------------------------------------------


@dataclass
class CourseStatus:
    """Where a learner stands in a course: what the completion rule decides on."""

    lesson_ids: list[int] = field(default_factory=list)
    done_lesson_ids: set[int] = field(default_factory=set)
    quiz_ids: list[int] = field(default_factory=list)
    passed_quiz_ids: set[int] = field(default_factory=set)
    counted_percents: dict[int, float] = field(default_factory=dict)  # quiz id -> counted %
    assignment_ids: list[int] = field(default_factory=list)
    passed_assignment_ids: set[int] = field(default_factory=set)

    @property
    def items_total(self) -> int:
        return len(self.lesson_ids) + len(self.quiz_ids) + len(self.assignment_ids)

    @property
    def items_done(self) -> int:
        return (
            len(self.done_lesson_ids & set(self.lesson_ids))
            + len(self.passed_quiz_ids & set(self.quiz_ids))
            + len(self.passed_assignment_ids & set(self.assignment_ids))
        )

    @property
    def percent(self) -> float:
        if not self.items_total:
            return 0.0
        exact = 100.0 * self.items_done / self.items_total
        # One decimal is stored; 1999 of 2000 must not round up to 100, nor 1 of 2000 to 0.
        if self.items_done < self.items_total:
            return max(0.1, min(99.9, round(exact, 1))) if self.items_done else 0.0
        return 100.0

    @property
    def score(self) -> float | None:
        """The mean counted percent of the course's quizzes, or None for a course without."""
        marks = [self.counted_percents.get(q, 0.0) for q in self.quiz_ids]
        return round(sum(marks) / len(marks), 1) if marks else None


def all_lessons_and_quizzes(status: CourseStatus) -> bool:
    """The default rule: every lesson done, every quiz passed and every assignment passed (an
    empty course never completes, so enrolling in a course still being written does not award
    it)."""
    return status.items_total > 0 and status.items_done == status.items_total


# A course may later name another rule (e.g. "quizzes only"); the default is the strict one.
COMPLETION_RULES: dict[str, Callable[[CourseStatus], bool]] = {
    "all": all_lessons_and_quizzes,
}


def completion_rule(course: Any) -> Callable[[CourseStatus], bool]:
    return COMPLETION_RULES[getattr(course, "completion_rule", None) or "all"]


# --- helpers -------------------------------------------------------------------------------


def _insert_ignore(model: type, **values: Any) -> int:
    """INSERT ... ON CONFLICT DO NOTHING: two requests creating the same row cannot fail."""
    result = db.session.execute(insert_ignoring_duplicates(db.session, model).values(**values))
    return result.rowcount or 0


def may_record(user: User, course_id: int) -> bool:
    """True for a learner enrolled in the course; False for an instructor or admin previewing
    it (nothing is recorded); anyone else is refused with a ServiceError."""
    enrolled = db.session.scalar(
        select(Enrolment.id).where(Enrolment.user_id == user.id, Enrolment.course_id == course_id)
    )
    if enrolled is not None:
        return True
    if has_role(user, "instructor"):
        return False
    raise ServiceError(_("You are not enrolled in this course."))


def _lock_course_progress(user_id: int, course_id: int, now: datetime) -> CourseProgress:
    """The learner's row for the course, created if missing and locked for this transaction."""
    _insert_ignore(
        CourseProgress,
        user_id=user_id,
        course_id=course_id,
        items_done=0,
        items_total=0,
        percent=0.0,
        started_at=now,
        last_activity_at=now,
    )
    return db.session.execute(
        select(CourseProgress)
        .where(CourseProgress.user_id == user_id, CourseProgress.course_id == course_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _touch(progress: CourseProgress, now: datetime, lesson_id: int | None = None) -> None:
    progress.last_activity_at = now
    if progress.first_activity_at is None:
        progress.first_activity_at = now
    if lesson_id is not None:
        progress.last_lesson_id = lesson_id


def log_event(user_id: int, course_id: int, kind: str, now: datetime, **fields: Any) -> None:
    """Append a progress event and, for activity, mark the learner active in that month and
    course (the rollup the monthly report reads), in the caller's transaction."""
    db.session.add(ProgressEvent(user_id=user_id, course_id=course_id, kind=kind, at=now, **fields))
    if kind != EVENT_ENROLLED:
        _insert_ignore(
            LearnerMonthActivity, month=local_month_key(now), user_id=user_id, course_id=course_id
        )


def rebuild_month_activity() -> int:
    """Add every (month, learner, course) with activity in progress_events that the rollup
    lacks (after loading history by hand, or to check it); returns the rows added. The caller
    commits."""
    pe = ProgressEvent.__table__
    rows = (
        select(
            month_key_sql(pe.c.at, db.session.get_bind().dialect.name), pe.c.user_id, pe.c.course_id
        )
        .where(pe.c.kind != EVENT_ENROLLED)
        .distinct()
    )
    count = select(func.count()).select_from(LearnerMonthActivity)
    before = db.session.scalar(count) or 0
    # Counted, not rowcount: drivers disagree on rowcount for INSERT ... SELECT.
    db.session.execute(
        insert_ignoring_duplicates(db.session, LearnerMonthActivity).from_select(
            ["month", "user_id", "course_id"], rows
        )
    )
    return (db.session.scalar(count) or 0) - before


def course_status(user_id: int, course_id: int) -> CourseStatus:
    """Three queries: the course's lessons with this learner's ticks, its quizzes with marks,
    its assignments with the learner's states."""
    status = CourseStatus()
    lessons = db.session.execute(
        select(Lesson.id, LessonProgress.done_at)
        .outerjoin(
            LessonProgress,
            and_(LessonProgress.lesson_id == Lesson.id, LessonProgress.user_id == user_id),
        )
        .where(Lesson.course_id == course_id)
    )
    for lesson_id, done_at in lessons:
        status.lesson_ids.append(lesson_id)
        if done_at is not None:
            status.done_lesson_ids.add(lesson_id)
    quizzes = db.session.execute(
        select(Quiz.id, QuizResult.percent, QuizResult.passed)
        .outerjoin(QuizResult, and_(QuizResult.quiz_id == Quiz.id, QuizResult.user_id == user_id))
        .where(Quiz.course_id == course_id)
    )
    for quiz_id, percent, passed in quizzes:
        status.quiz_ids.append(quiz_id)
        if percent is not None:
            status.counted_percents[quiz_id] = percent
        if passed:
            status.passed_quiz_ids.add(quiz_id)
    status.assignment_ids = list(
        db.session.scalars(select(Assignment.id).where(Assignment.course_id == course_id))
    )
    if status.assignment_ids:
        states = assignment_states(user_id, course_id)
        status.passed_assignment_ids = {a for a, s in states.items() if s == PASSED}
    return status


def _recompute(user: User, progress: CourseProgress, now: datetime) -> CourseStatus:
    """Bring the learner's totals up to date and complete the course if the rule is met."""
    status = course_status(user.id, progress.course_id)
    progress.items_done = status.items_done
    progress.items_total = status.items_total
    progress.percent = status.percent
    if progress.completed_at is not None:
        return status
    course = db.session.get(Course, progress.course_id)
    if not completion_rule(course)(status):
        return status
    # Whoever flips completed_at from NULL sends the signal; a repeat or a racing request
    # finds the column set and sends nothing.
    result = db.session.execute(
        update(CourseProgress)
        .where(
            CourseProgress.user_id == user.id,
            CourseProgress.course_id == progress.course_id,
            CourseProgress.completed_at.is_(None),
        )
        .values(completed_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        set_committed_value(progress, "completed_at", now)
        log_event(user.id, progress.course_id, EVENT_COMPLETED, now, value=status.score)
        signals.course_completed.send(user, course=course, score=status.score)
    return status


# --- recording -----------------------------------------------------------------------------


def record_view(user: User, lesson: Lesson, seconds: int | None = None) -> LessonProgress | None:
    """A learner opened a lesson: the first view is kept, time spent is added up (`seconds`
    is the time the page measured on the previous visit, capped)."""
    try:
        if not may_record(user, lesson.course_id):
            return None
    except ServiceError:
        return None  # reading a published lesson before enrolling records nothing
    now = utcnow()
    progress = _lock_course_progress(user.id, lesson.course_id, now)
    _insert_ignore(
        LessonProgress,
        user_id=user.id,
        lesson_id=lesson.id,
        course_id=lesson.course_id,
        first_viewed_at=now,
        seconds_spent=0,
    )
    spent = max(0, min(int(seconds or 0), MAX_SECONDS_PER_VIEW))
    if spent:
        db.session.execute(
            update(LessonProgress)
            .where(LessonProgress.user_id == user.id, LessonProgress.lesson_id == lesson.id)
            .values(seconds_spent=LessonProgress.seconds_spent + spent)
            .execution_options(synchronize_session=False)
        )
    log_event(
        user.id, lesson.course_id, EVENT_VIEWED, now, lesson_id=lesson.id, value=spent or None
    )
    _touch(progress, now, lesson.id)
    _recompute(user, progress, now)
    return db.session.execute(
        select(LessonProgress)
        .where(LessonProgress.user_id == user.id, LessonProgress.lesson_id == lesson.id)
        .execution_options(populate_existing=True)
    ).scalar_one()


def mark_done(user: User, lesson: Lesson) -> bool:
    """A learner finished a lesson. Returns True when this call ticked it (False: it already
    was, or an instructor previewing)."""
    if not may_record(user, lesson.course_id):
        return False
    now = utcnow()
    progress = _lock_course_progress(user.id, lesson.course_id, now)
    _insert_ignore(
        LessonProgress,
        user_id=user.id,
        lesson_id=lesson.id,
        course_id=lesson.course_id,
        first_viewed_at=now,
        seconds_spent=0,
    )
    ticked = db.session.execute(
        update(LessonProgress)
        .where(
            LessonProgress.user_id == user.id,
            LessonProgress.lesson_id == lesson.id,
            LessonProgress.done_at.is_(None),
        )
        .values(done_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if ticked:
        log_event(user.id, lesson.course_id, EVENT_DONE, now, lesson_id=lesson.id)
    _touch(progress, now, lesson.id)
    _recompute(user, progress, now)
    return bool(ticked)


def record_attempt(user: User, attempt: Attempt, quiz: Quiz) -> QuizResult | None:
    """An attempt was graded (or regraded): the learner's result for the quiz is rebuilt from
    all their submitted attempts, so a regrade never counts an attempt twice."""
    if not may_record(user, quiz.course_id):
        return None
    now = utcnow()
    progress = _lock_course_progress(user.id, quiz.course_id, now)
    rows = db.session.execute(
        select(Attempt.percent)
        .where(Attempt.quiz_id == quiz.id, Attempt.user_id == user.id, Attempt.status != OPEN)
        .order_by(Attempt.number)
    ).all()
    graded = [r.percent for r in rows if r.percent is not None]
    best = max(graded) if graded else 0.0
    last = graded[-1] if graded else 0.0
    counted = last if quiz.grading == LAST else best
    values = dict(
        percent=counted,
        best_percent=best,
        last_percent=last,
        passed=bool(graded) and counted >= quiz.pass_mark,
        attempts=len(rows),
        failed_attempts=sum(1 for p in graded if p < quiz.pass_mark),
        updated_at=now,
    )
    _insert_ignore(QuizResult, user_id=user.id, quiz_id=quiz.id, course_id=quiz.course_id)
    db.session.execute(
        update(QuizResult)
        .where(QuizResult.user_id == user.id, QuizResult.quiz_id == quiz.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    log_event(user.id, quiz.course_id, EVENT_QUIZ, now, quiz_id=quiz.id, value=attempt.percent)
    _touch(progress, now)
    _recompute(user, progress, now)
    return db.session.execute(
        select(QuizResult)
        .where(QuizResult.user_id == user.id, QuizResult.quiz_id == quiz.id)
        .execution_options(populate_existing=True)
    ).scalar_one()


def record_review(user: User, assignment: Assignment) -> None:
    """A review changed the learner's state for an assignment: totals and completion follow in
    the same transaction (a passing review can issue the certificate)."""
    if not may_record(user, assignment.course_id):
        return
    now = utcnow()
    progress = _lock_course_progress(user.id, assignment.course_id, now)
    _touch(progress, now)
    _recompute(user, progress, now)


def record_enrolment(user: User, course: Course) -> CourseProgress:
    now = utcnow()
    created = _insert_ignore(
        CourseProgress,
        user_id=user.id,
        course_id=course.id,
        items_done=0,
        items_total=0,
        percent=0.0,
        started_at=now,
        last_activity_at=now,
    )
    progress = _lock_course_progress(user.id, course.id, now)
    if created:
        log_event(user.id, course.id, EVENT_ENROLLED, now)
    _recompute(user, progress, now)
    return progress


def recompute_course(course: Course) -> int:
    """Bring every learner's totals in a course up to date after its lessons or quizzes
    changed (a re-import added or removed items); a learner who now meets the rule completes
    the course at once. Returns how many learners were looked at. The caller commits."""
    now = utcnow()
    user_ids = db.session.scalars(
        select(CourseProgress.user_id).where(CourseProgress.course_id == course.id)
    ).all()
    for user_id in user_ids:
        user = db.session.get(User, user_id)
        _recompute(user, _lock_course_progress(user_id, course.id, now), now)
    return len(user_ids)


# --- signal receivers ------------------------------------------------------------------------


def on_lesson_viewed(sender: User, lesson: Lesson, seconds: int | None = None, **_: Any) -> None:
    record_view(sender, lesson, seconds)


def on_lesson_done(sender: User, lesson: Lesson, **_: Any) -> None:
    mark_done(sender, lesson)


def on_attempt_graded(sender: User, attempt: Attempt, quiz: Quiz, **_: Any) -> None:
    record_attempt(sender, attempt, quiz)


def on_assignment_reviewed(sender: User, assignment: Assignment, **_: Any) -> None:
    record_review(sender, assignment)


def on_enrolled(sender: User, course: Course, **_: Any) -> None:
    record_enrolment(sender, course)


def close_expired_attempts_of(klass: Class) -> int:
    """Close the class's timed attempts whose time is over, before a teacher's page counts
    them (the gradebook, a learner's page): the numbers are right without a scheduled job."""
    members = select(ClassMember.user_id).where(ClassMember.class_id == klass.id)
    taught = (
        select(Quiz.id)
        .join(ClassCourse, ClassCourse.course_id == Quiz.course_id)
        .where(ClassCourse.class_id == klass.id)
    )
    return taking.close_expired_attempts(quiz_ids=taught, user_ids=members)
