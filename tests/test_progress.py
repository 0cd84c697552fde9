"""Progress recording and completion: through the real signals, on the real database."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from academy.core import signals
from academy.core.errors import ServiceError
from academy.core.learning import learner_state
from academy.extensions import db
from academy.progress import services, state
from academy.progress.models import (
    CourseProgress,
    LearnerMonthActivity,
    LessonProgress,
    ProgressEvent,
    QuizResult,
)
from academy.quizzes.models import LAST
from tests.fixtures.progress import (
    complete_lesson,
    course_lessons,
    course_quizzes,
    enrol,
    fail_quiz,
    pass_quiz,
    take_quiz,
    view_lesson,
)


@contextmanager
def completions():
    """Every course_completed signal sent while the block runs: (user id, course id, score)."""
    sent: list[tuple[int, int, float | None]] = []
    lock = threading.Lock()

    def receiver(sender, course, score, **_):
        with lock:
            sent.append((sender.id, course.id, score))

    with signals.course_completed.connected_to(receiver):
        yield sent


def progress_of(user, course) -> CourseProgress:
    db.session.expire_all()
    return db.session.get(CourseProgress, (user.id, course.id))


def test_enrolling_creates_course_progress_with_totals(learner, progress_course):
    course = progress_course(modules=2, lessons=3, quizzes=1)
    enrol(learner, course)
    progress = progress_of(learner, course)
    assert (progress.items_done, progress.items_total, progress.percent) == (0, 8, 0.0)
    assert progress.first_activity_at is None and progress.completed_at is None


def test_viewing_records_first_view_and_time_spent(learner, progress_course):
    course = progress_course(modules=1, lessons=2, quizzes=0)
    lesson = course_lessons(course)[0]
    enrol(learner, course)
    view_lesson(learner, lesson)
    first = db.session.get(LessonProgress, (learner.id, lesson.id)).first_viewed_at
    view_lesson(learner, lesson, seconds=90)
    view_lesson(learner, lesson, seconds=10 * 3600)  # a tab left open all day counts one hour
    db.session.expire_all()
    row = db.session.get(LessonProgress, (learner.id, lesson.id))
    assert row.first_viewed_at == first
    assert row.seconds_spent == 90 + services.MAX_SECONDS_PER_VIEW
    assert row.done_at is None
    progress = progress_of(learner, course)
    assert progress.last_lesson_id == lesson.id and progress.first_activity_at is not None
    assert progress.items_done == 0


def test_completes_the_moment_the_last_lesson_is_done_after_the_quizzes(learner, progress_course):
    course = progress_course(modules=2, lessons=2, quizzes=1)
    enrol(learner, course)
    lessons, quizzes = course_lessons(course), course_quizzes(course)
    with completions() as sent:
        pass_quiz(learner, quizzes[0], 80)
        pass_quiz(learner, quizzes[1], 100)
        for lesson in lessons[:-1]:
            complete_lesson(learner, lesson)
        progress = progress_of(learner, course)
        assert progress.completed_at is None and sent == []
        assert (progress.items_done, progress.percent) == (5, 83.3)
        complete_lesson(learner, lessons[-1])
    progress = progress_of(learner, course)
    assert progress.completed_at is not None and progress.percent == 100.0
    assert sent == [(learner.id, course.id, 90.0)]


def test_completes_the_moment_the_last_quiz_is_passed_after_the_lessons(learner, progress_course):
    course = progress_course(modules=1, lessons=3, quizzes=1)
    enrol(learner, course)
    quiz = course_quizzes(course)[0]
    with completions() as sent:
        for lesson in course_lessons(course):
            complete_lesson(learner, lesson)
        fail_quiz(learner, quiz, 40)
        assert progress_of(learner, course).completed_at is None and sent == []
        pass_quiz(learner, quiz, 70)
    assert progress_of(learner, course).completed_at is not None
    assert sent == [(learner.id, course.id, 70.0)]


def test_a_course_without_quizzes_completes_with_no_score(learner, progress_course):
    course = progress_course(modules=1, lessons=2, quizzes=0)
    enrol(learner, course)
    with completions() as sent:
        for lesson in course_lessons(course):
            complete_lesson(learner, lesson)
    assert sent == [(learner.id, course.id, None)]


def test_an_empty_course_never_completes(learner, progress_course):
    course = progress_course(modules=1, lessons=0, quizzes=0)
    with completions() as sent:
        enrol(learner, course)
    assert sent == [] and progress_of(learner, course).completed_at is None


def test_completion_is_sent_once_however_often_the_last_steps_repeat(learner, progress_course):
    course = progress_course(modules=1, lessons=1, quizzes=1)
    enrol(learner, course)
    lesson, quiz = course_lessons(course)[0], course_quizzes(course)[0]
    with completions() as sent:
        pass_quiz(learner, quiz)
        complete_lesson(learner, lesson)
        completed_at = progress_of(learner, course).completed_at
        complete_lesson(learner, lesson)
        pass_quiz(learner, quiz, 90)
        signals.lesson_done.send(learner, lesson=lesson)
        db.session.commit()
    assert len(sent) == 1
    assert progress_of(learner, course).completed_at == completed_at
    kinds = db.session.scalars(
        select(ProgressEvent.kind).where(ProgressEvent.kind == services.EVENT_COMPLETED)
    ).all()
    assert kinds == [services.EVENT_COMPLETED]


def test_completion_stays_when_a_later_last_attempt_fails(learner, progress_course):
    course = progress_course(modules=1, lessons=1, quizzes=1)
    quiz = course_quizzes(course)[0]
    quiz.grading = LAST
    db.session.commit()
    enrol(learner, course)
    complete_lesson(learner, course_lessons(course)[0])
    pass_quiz(learner, quiz, 90)
    fail_quiz(learner, quiz, 10)
    progress = progress_of(learner, course)
    assert progress.completed_at is not None  # a certificate once earned is not taken back
    assert progress.items_done == 1  # but the live total shows the quiz as not passed now


@pytest.mark.parametrize(
    ("grading", "counted", "passed"),
    [("best", 80.0, True), ("last", 40.0, False)],
)
def test_best_or_last_attempt_counts(learner, progress_course, grading, counted, passed):
    course = progress_course(modules=1, lessons=1, quizzes=1)
    quiz = course_quizzes(course)[0]
    quiz.grading = grading
    db.session.commit()
    enrol(learner, course)
    take_quiz(learner, quiz, 30)
    take_quiz(learner, quiz, 80)
    take_quiz(learner, quiz, 40)
    db.session.expire_all()
    result = db.session.get(QuizResult, (learner.id, quiz.id))
    assert (result.best_percent, result.last_percent) == (80.0, 40.0)
    assert (result.percent, result.passed) == (counted, passed)
    assert (result.attempts, result.failed_attempts) == (3, 2)


def test_an_attempt_waiting_for_marking_counts_once_regraded(learner, progress_course):
    course = progress_course(modules=1, lessons=0, quizzes=1)
    quiz = course_quizzes(course)[0]
    enrol(learner, course)
    with completions() as sent:
        attempt = take_quiz(learner, quiz, None)  # an essay: no score until marked
        db.session.expire_all()
        result = db.session.get(QuizResult, (learner.id, quiz.id))
        assert (result.attempts, result.failed_attempts, result.passed) == (1, 0, False)
        # The instructor marks it: the quizzes feature sends attempt_graded again.
        attempt.percent = 75.0
        signals.attempt_graded.send(learner, attempt=attempt, quiz=quiz)
        db.session.commit()
    db.session.expire_all()
    result = db.session.get(QuizResult, (learner.id, quiz.id))
    assert (result.attempts, result.percent, result.passed) == (1, 75.0, True)
    assert sent == [(learner.id, course.id, 75.0)]


def test_progress_refused_for_a_course_the_learner_is_not_enrolled_in(
    learner, make_user, progress_course
):
    course = progress_course(modules=1, lessons=1, quizzes=1)
    other = make_user("learner")
    enrol(other, course)
    lesson, quiz = course_lessons(course)[0], course_quizzes(course)[0]
    # Reading a published lesson before enrolling is allowed and records nothing.
    signals.lesson_viewed.send(learner, lesson=lesson, seconds=None)
    assert not db.session.new
    with pytest.raises(ServiceError):
        signals.lesson_done.send(learner, lesson=lesson)
    db.session.rollback()
    with pytest.raises(ServiceError):
        take_quiz(learner, quiz, 100)
    db.session.rollback()
    assert db.session.scalars(select(LessonProgress)).all() == []
    assert db.session.scalars(select(QuizResult)).all() == []
    assert db.session.get(CourseProgress, (learner.id, course.id)) is None
    # The other learner's enrolment does not let anyone else record into the course.
    assert db.session.scalars(select(ProgressEvent.user_id)).all() == [other.id]


def test_an_instructor_previewing_records_nothing(instructor, progress_course):
    course = progress_course(modules=1, lessons=1, quizzes=0)
    lesson = course_lessons(course)[0]
    complete_lesson(instructor, lesson)
    assert db.session.scalars(select(LessonProgress)).all() == []
    assert db.session.scalars(select(ProgressEvent)).all() == []


def test_history_keeps_every_event(learner, progress_course):
    course = progress_course(modules=1, lessons=1, quizzes=1)
    enrol(learner, course)
    lesson, quiz = course_lessons(course)[0], course_quizzes(course)[0]
    view_lesson(learner, lesson, seconds=30)
    fail_quiz(learner, quiz, 10)
    pass_quiz(learner, quiz, 95)
    complete_lesson(learner, lesson)
    events = db.session.execute(
        select(
            ProgressEvent.kind, ProgressEvent.lesson_id, ProgressEvent.quiz_id, ProgressEvent.value
        )
        .where(ProgressEvent.user_id == learner.id)
        .order_by(ProgressEvent.id)
    ).all()
    assert [tuple(e) for e in events] == [
        ("enrolled", None, None, None),
        ("lesson_viewed", lesson.id, None, 30.0),
        ("quiz_graded", None, quiz.id, 10.0),
        ("quiz_graded", None, quiz.id, 95.0),
        ("lesson_viewed", lesson.id, None, None),
        ("lesson_done", lesson.id, None, None),
        ("course_completed", None, None, 95.0),
    ]


def month_activity(user) -> list[tuple[str, int]]:
    return [
        tuple(row)
        for row in db.session.execute(
            select(LearnerMonthActivity.month, LearnerMonthActivity.course_id)
            .where(LearnerMonthActivity.user_id == user.id)
            .order_by(LearnerMonthActivity.month)
        )
    ]


def test_activity_rolls_up_once_per_month_and_course(learner, progress_course, time_machine):
    from datetime import UTC, datetime

    # The last minutes of April in Bangkok: every event of the test falls in one month.
    time_machine.move_to(datetime(2027, 4, 30, 16, 50, tzinfo=UTC))
    course = progress_course(modules=1, lessons=2, quizzes=1)
    enrol(learner, course)
    db.session.commit()
    assert month_activity(learner) == []  # being enrolled is not activity
    first, second = course_lessons(course)
    view_lesson(learner, first)
    view_lesson(learner, second)
    fail_quiz(learner, course_quizzes(course)[0])
    assert month_activity(learner) == [("2027-04", course.id)]


def test_activity_falls_in_the_bangkok_month(learner, progress_course, time_machine):
    """At 00:30 on 1 January in Bangkok it is still 31 December in UTC: the activity is
    January's."""
    from datetime import UTC, datetime

    course = progress_course(modules=1, lessons=1, quizzes=0)
    enrol(learner, course)
    time_machine.move_to(datetime(2026, 12, 31, 17, 30, tzinfo=UTC), tick=False)
    view_lesson(learner, course_lessons(course)[0])
    assert month_activity(learner) == [("2027-01", course.id)]


def test_the_rollup_rebuilds_from_the_events(learner, progress_course):
    from datetime import UTC, datetime

    course = progress_course(modules=1, lessons=1, quizzes=0)
    enrol(learner, course)
    view_lesson(learner, course_lessons(course)[0])
    # History loaded by hand (no rollup row): 31 Jan 17:00 UTC is February in Bangkok.
    db.session.add(
        ProgressEvent(user_id=learner.id, course_id=course.id, kind="lesson_viewed",
                      at=datetime(2026, 1, 31, 17, 0, tzinfo=UTC))
    )  # fmt: skip
    db.session.commit()
    before = month_activity(learner)
    assert services.rebuild_month_activity() == 1
    db.session.commit()
    assert month_activity(learner) == sorted([("2026-02", course.id), *before])
    assert services.rebuild_month_activity() == 0  # nothing missing: nothing added


def test_rebuild_activity_command(learner, progress_course, runner):
    course = progress_course(modules=1, lessons=1, quizzes=0)
    enrol(learner, course)
    view_lesson(learner, course_lessons(course)[0])
    db.session.execute(db.delete(LearnerMonthActivity))
    db.session.commit()
    result = runner.invoke(args=["academy", "rebuild-activity"])
    assert result.exit_code == 0, result.output
    assert "1 row(s) added" in result.output
    assert len(month_activity(learner)) == 1


def test_learner_state_in_one_query(learner, progress_course, count_queries):
    course = progress_course(modules=2, lessons=3, quizzes=1)
    enrol(learner, course)
    lessons, quizzes = course_lessons(course), course_quizzes(course)
    complete_lesson(learner, lessons[0])
    complete_lesson(learner, lessons[1])
    complete_lesson(learner, lessons[3])
    view_lesson(learner, lessons[4])
    fail_quiz(learner, quizzes[0], 50)
    with count_queries() as queries:
        db.session.refresh(learner), db.session.refresh(course)  # as a page has them loaded
        before = len(queries)
        state = learner_state(learner, course)
    # lessons with ticks, totals, quiz marks and assignment states in one (issue 15)
    assert len(queries) - before == 1, queries
    assert state.done_lesson_ids == {lessons[0].id, lessons[1].id, lessons[3].id}
    assert state.resume_lesson_id == lessons[4].id  # last activity: lesson 5, not done
    assert state.quiz_marks[quizzes[0].id].percent == 50.0
    assert state.quiz_marks[quizzes[0].id].passed is False
    assert state.percent == round(100 * 3 / 8, 1) and state.completed_at is None


def test_resume_goes_on_after_the_last_lesson_then_wraps():
    ordered = [(1, True), (2, False), (3, True), (4, False)]
    assert state.resume_lesson_id(ordered, None) == 2
    assert state.resume_lesson_id(ordered, 3) == 4
    assert state.resume_lesson_id([(1, False), (2, True), (3, True)], 3) == 1
    assert state.resume_lesson_id([(1, True)], 1) is None


# --- racing requests --------------------------------------------------------------------------


def _race(app, jobs):
    """Run each job in its own thread, as its own POST request with its own session, all
    released at once; re-raises the first error."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job):
        try:
            with app.test_request_context("/", method="POST"):
                barrier.wait(timeout=10)
                job()
                db.session.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # Close the extra connections the threads opened now, not when the interpreter exits.
    db.engine.dispose()
    if errors:
        raise errors[0]


def _load(model, ident):
    return db.session.get(model, ident)


@pytest.mark.parametrize("round_", range(3))
def test_two_tabs_finishing_the_same_last_lesson_complete_once(
    app, learner, progress_course, round_
):
    from academy.auth.models import User
    from academy.courses.models import Lesson

    course = progress_course(modules=1, lessons=2, quizzes=0)
    enrol(learner, course)
    first, last = course_lessons(course)
    complete_lesson(learner, first)
    user_id, lesson_id = learner.id, last.id
    db.session.commit()

    def finish():
        services.mark_done(_load(User, user_id), _load(Lesson, lesson_id))

    with completions() as sent:
        _race(app, [finish, finish])
    assert sent == [(user_id, course.id, None)]
    assert progress_of(learner, course).completed_at is not None


@pytest.mark.parametrize("round_", range(3))
def test_the_last_lesson_and_the_last_quiz_at_once_complete_exactly_once(
    app, learner, progress_course, round_
):
    """Two tabs meet the last two requirements at the same moment: neither may miss the
    other's write (no completion at all) and they may not both complete."""
    from academy.auth.models import User
    from academy.courses.models import Lesson

    course = progress_course(modules=1, lessons=2, quizzes=1)
    enrol(learner, course)
    first, last = course_lessons(course)
    quiz = course_quizzes(course)[0]
    complete_lesson(learner, first)
    user_id, lesson_id, quiz_id = learner.id, last.id, quiz.id
    db.session.commit()

    def finish_lesson():
        services.mark_done(_load(User, user_id), _load(Lesson, lesson_id))

    def pass_the_quiz():
        from academy.quizzes.models import Quiz

        pass_quiz(_load(User, user_id), _load(Quiz, quiz_id), 100)

    with completions() as sent:
        _race(app, [finish_lesson, pass_the_quiz])
    assert sent == [(user_id, course.id, 100.0)]


def test_recompute_after_the_course_changed(learner, progress_course, runner):
    course = progress_course(modules=1, lessons=2, quizzes=0)
    enrol(learner, course)
    first, second = course_lessons(course)
    complete_lesson(learner, first)
    assert progress_of(learner, course).percent == 50.0
    # The re-imported course dropped the second lesson: the learner has now done everything.
    db.session.delete(second)
    db.session.commit()
    with completions() as sent:
        result = runner.invoke(args=["academy", "recompute-progress", course.slug])
    assert result.exit_code == 0, result.output
    assert "for 1 learner" in result.output
    progress = progress_of(learner, course)
    assert (progress.items_total, progress.percent) == (1, 100.0)
    assert progress.completed_at is not None and len(sent) == 1
    missing = runner.invoke(args=["academy", "recompute-progress", "no-such-course"])
    assert missing.exit_code != 0 and "no-such-course" in missing.output
