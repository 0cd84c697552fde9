"""Quiz services: every rule and refusal, on the real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from academy.core import signals
from academy.core.db import utcnow
from academy.core.errors import ServiceError
from academy.core.transaction import unit_of_work
from academy.extensions import db
from academy.quizzes import services
from academy.quizzes.models import OPEN, SUBMITTED, Attempt, Response
from tests.fixtures.quizzes import RIGHT


def _qid(quiz, title):
    return next(q.id for q in quiz.questions if q.title == title)


def test_full_marks_and_essay_pending(make_quiz, learner, make_attempt, instructor):
    quiz = make_quiz(pass_mark=50)
    attempt = make_attempt(quiz, learner, answers=RIGHT, submit=True)
    assert attempt.status == SUBMITTED
    # 7 auto-graded questions right, the essay waits for the teacher (description not scored).
    assert attempt.max_points == 8
    assert attempt.points == 7
    assert attempt.needs_marking is True
    assert attempt.passed is True


def test_signal_sent_on_grading_before_commit(make_quiz, learner, make_attempt):
    quiz = make_quiz(questions=[q for q in _sample() if q["type"] == "truefalse"])
    seen = []

    def receiver(sender, attempt, quiz):
        seen.append((sender.id, attempt.id, attempt.status, attempt.percent))

    signals.attempt_graded.connect(receiver)
    try:
        attempt = make_attempt(quiz, learner, answers={"Sun": True}, submit=True)
    finally:
        signals.attempt_graded.disconnect(receiver)
    assert seen == [(learner.id, attempt.id, SUBMITTED, 100.0)]


def _sample():
    from tests.fixtures.quizzes import SAMPLE_QUESTIONS

    return SAMPLE_QUESTIONS


def test_not_enrolled_refused(make_quiz, learner):
    quiz = make_quiz()
    with pytest.raises(ServiceError):
        services.start_attempt(learner, quiz)
    assert db.session.scalar(select(func.count(Attempt.id))) == 0


def test_instructor_of_course_may_preview(make_quiz, make_quiz_course, instructor, make_user):
    course = make_quiz_course(instructor=instructor)
    quiz = make_quiz(course=course, attempts_allowed=1)
    first = services.start_attempt(instructor, quiz)
    services.submit(first)
    second = services.start_attempt(instructor, quiz)  # previews are not limited
    assert second.number == 2
    other = make_user("instructor")
    with pytest.raises(ServiceError):
        services.start_attempt(other, quiz)


def test_resume_open_attempt_and_limit(make_quiz, learner, enrol):
    quiz = make_quiz(attempts_allowed=2)
    enrol(learner, quiz_course(quiz))
    first = services.start_attempt(learner, quiz)
    assert services.start_attempt(learner, quiz).id == first.id
    services.submit(first, learner)
    second = services.start_attempt(learner, quiz)
    assert second.number == 2
    services.submit(second, learner)
    with pytest.raises(ServiceError, match="2"):
        services.start_attempt(learner, quiz)


def quiz_course(quiz):
    from academy.courses.models import Course

    return db.session.get(Course, quiz.course_id)


def test_layout_fixed_draw_and_shuffle(make_quiz, learner, enrol):
    questions = [
        {
            "type": "truefalse",
            "title": f"Q{i}",
            "text": f"Statement {i}",
            "correct": True,
            "category": "a" if i < 6 else "b",
        }
        for i in range(10)
    ]
    quiz = make_quiz(questions=questions, draw_count=3, draw_category="a", shuffle_questions=True)
    enrol(learner, quiz_course(quiz))
    attempt = services.start_attempt(learner, quiz)
    ids = services.layout_ids(attempt)
    assert len(ids) == 3
    in_a = {q.id for q in quiz.questions if q.category == "a"}
    assert set(ids) <= in_a
    db.session.expire_all()
    assert services.layout_ids(services.start_attempt(learner, quiz)) == ids


def test_answer_order_shuffled_per_attempt(make_quiz, learner, enrol):
    choices = [{"text": f"c{i}", "fraction": 1.0 if i == 0 else 0.0} for i in range(8)]
    quiz = make_quiz(
        questions=[{"type": "single", "title": "S", "text": "?", "answers": choices}],
        shuffle_answers=True,
    )
    enrol(learner, quiz_course(quiz))
    orders = set()
    for _ in range(5):
        attempt = services.start_attempt(learner, quiz)
        orders.add(tuple(attempt.layout[0]["order"]))
        assert sorted(attempt.layout[0]["order"]) == list(range(8))
        services.submit(attempt)
    assert len(orders) > 1


def test_save_is_idempotent_upsert(make_quiz, learner, make_attempt):
    quiz = make_quiz()
    attempt = make_attempt(quiz, learner)
    for value in (1, 0, 0):
        services.save_response(attempt, _qid(quiz, "Capital"), value, learner)
    rows = db.session.scalars(select(Response).where(Response.attempt_id == attempt.id)).all()
    assert [r.value for r in rows] == [0]


@pytest.mark.parametrize(
    ("title", "value"),
    [
        ("Capital", 7),
        ("Capital", "0"),
        ("Capital", True),
        ("Colours", [0, 0]),
        ("Colours", 1),
        ("Sun", "yes"),
        ("Rice", ["x"]),
        ("Rice", "x" * 5000),
        ("Match", {"2": "Purple"}),
        ("Match", {"0": "Orange"}),
        ("Match", ["Yellow"]),
        ("Intro", "anything"),
    ],
)
def test_forged_values_refused_nothing_saved(make_quiz, learner, make_attempt, title, value):
    quiz = make_quiz()
    attempt = make_attempt(quiz, learner)
    with pytest.raises(ServiceError):
        services.save_response(attempt, _qid(quiz, title), value, learner)
    assert db.session.scalar(select(func.count(Response.id))) == 0


def test_refusals_other_learner_foreign_question_closed(make_quiz, make_user, make_attempt):
    quiz = make_quiz()
    owner, other = make_user(), make_user()
    attempt = make_attempt(quiz, owner)
    with pytest.raises(ServiceError, match="คนอื่น"):
        services.save_response(attempt, _qid(quiz, "Capital"), 0, other)
    other_quiz = make_quiz()
    with pytest.raises(ServiceError, match="ไม่ได้อยู่"):
        services.save_response(attempt, other_quiz.questions[0].id, 0, owner)
    with pytest.raises(ServiceError, match="ไม่ได้อยู่"):
        services.save_response(attempt, "abc", 0, owner)
    services.save_response(attempt, _qid(quiz, "Capital"), 0, owner)
    services.submit(attempt, owner)
    with pytest.raises(ServiceError, match="ปิดแล้ว"):
        services.save_response(attempt, _qid(quiz, "Capital"), 1, owner)
    response = db.session.scalar(select(Response))
    assert response.value == 0


def test_submit_once(make_quiz, learner, make_attempt):
    quiz = make_quiz()
    attempt = make_attempt(quiz, learner, answers={"Capital": 0})
    first = services.submit(attempt, learner)
    submitted_at, points = attempt.submitted_at, attempt.points
    second = services.submit(attempt, learner)
    assert first.changed and not second.changed
    assert "ไปแล้ว" in second.message
    assert (attempt.submitted_at, attempt.points) == (submitted_at, points)


def test_time_limit_closes_with_saved_answers(make_quiz, learner, make_attempt):
    quiz = make_quiz(time_limit_minutes=10)
    attempt = make_attempt(quiz, learner, answers={"Capital": 0, "Sun": True})
    assert attempt.deadline_at is not None
    attempt.deadline_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    with pytest.raises(ServiceError, match="หมดเวลาแล้ว"):
        services.save_response(attempt, _qid(quiz, "Rice"), "ข้าว", learner)
    assert attempt.status == SUBMITTED
    assert attempt.points == 2
    assert attempt.submitted_at == attempt.deadline_at
    late = services.submit(attempt, learner)
    assert not late.changed


def test_late_submit_says_so(make_quiz, learner, make_attempt):
    quiz = make_quiz(time_limit_minutes=5)
    attempt = make_attempt(quiz, learner, answers={"Capital": 0})
    attempt.deadline_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    result = services.submit(attempt, learner)
    assert not result.changed and "หมดเวลาไปแล้ว" in result.message
    assert attempt.status == SUBMITTED and attempt.points == 1


def test_close_expired_attempts(make_quiz, make_user, make_attempt):
    quiz = make_quiz(time_limit_minutes=5)
    a = make_attempt(quiz, make_user())
    b = make_attempt(quiz, make_user())
    a.deadline_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert services.close_expired_attempts() == 1
    assert (a.status, b.status) == (SUBMITTED, OPEN)


def test_start_after_expiry_closes_and_counts(make_quiz, learner, make_attempt):
    quiz = make_quiz(time_limit_minutes=5, attempts_allowed=1)
    attempt = make_attempt(quiz, learner)
    attempt.deadline_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    with pytest.raises(ServiceError, match="ครบ 1"):
        services.start_attempt(learner, quiz)
    db.session.refresh(attempt)
    assert attempt.status == SUBMITTED


def test_mark_essay_rescores(make_quiz, learner, make_attempt, make_quiz_course, instructor):
    course = make_quiz_course(instructor=instructor)
    quiz = make_quiz(
        course=course, questions=[q for q in _sample() if q["title"] in ("Sun", "Essay")]
    )
    attempt = make_attempt(quiz, learner, answers={"Sun": True, "Essay": "text"}, submit=True)
    assert (attempt.percent, attempt.needs_marking, attempt.passed) == (50.0, True, None)
    queue = services.marking_queue(quiz)
    assert len(queue) == 1
    response = queue[0][0]
    with pytest.raises(ServiceError):
        services.mark_essay(response, 1.0, "", learner)
    with pytest.raises(ServiceError):
        services.mark_essay(response, 1.5, "", instructor)
    services.mark_essay(response, 0.5, "Good start", instructor)
    assert (attempt.percent, attempt.needs_marking, attempt.passed) == (75.0, False, True)
    assert response.comment == "Good start"
    assert services.marking_queue(quiz) == []


def test_kept_attempt_best_or_last(make_quiz, learner, make_attempt):
    quiz = make_quiz(questions=[q for q in _sample() if q["type"] == "truefalse"])
    make_attempt(quiz, learner, answers={"Sun": True}, submit=True)
    make_attempt(quiz, learner, answers={"Sun": False}, submit=True)
    attempts = services.attempts_of(learner, quiz)
    assert services.kept_attempt(quiz, attempts).number == 1
    quiz.grading = "last"
    assert services.kept_attempt(quiz, attempts).number == 2


@pytest.mark.parametrize(
    ("show", "allowed", "taken", "visible"),
    [
        ("after_submit", 0, 1, True),
        ("never", 0, 1, False),
        ("after_last_attempt", 0, 1, False),
        ("after_last_attempt", 2, 1, False),
        ("after_last_attempt", 2, 2, True),
    ],
)
def test_feedback_visibility(make_quiz, learner, make_attempt, show, allowed, taken, visible):
    quiz = make_quiz(
        questions=[q for q in _sample() if q["type"] == "truefalse"],
        show_feedback=show,
        attempts_allowed=allowed,
    )
    for _ in range(taken):
        attempt = make_attempt(quiz, learner, answers={"Sun": True}, submit=True)
    attempts = services.attempts_of(learner, quiz)
    assert services.feedback_visible(quiz, attempt, attempts, learner) is visible


def test_view_model_has_no_answers(make_quiz, learner, make_attempt):
    quiz = make_quiz()
    attempt = make_attempt(quiz, learner)
    text = repr(services.attempt_questions(attempt))
    for secret in ("fraction", "GENERALFEEDBACK", "Yes, Krung Thep", "correct"):
        assert secret not in text
    revealed = repr(services.attempt_questions(attempt, reveal=True))
    assert "GENERALFEEDBACK" in revealed


def test_question_stats(make_quiz, make_user, make_attempt):
    quiz = make_quiz(questions=[q for q in _sample() if q["title"] in ("Sun", "Capital")])
    make_attempt(quiz, make_user(), answers={"Sun": True, "Capital": 1}, submit=True)
    make_attempt(quiz, make_user(), answers={"Sun": True, "Capital": 0}, submit=True)
    stats = {s["question"].title: s for s in services.question_stats(quiz)}
    assert stats["Sun"]["share_correct"] == 1.0
    assert stats["Capital"]["share_correct"] == 0.5
    assert stats["Capital"]["mean"] == 0.5


def _race(app, n, target):
    barrier = threading.Barrier(n)
    errors: list[str] = []
    results: list[int] = []

    def run():
        with app.app_context():
            barrier.wait()
            try:
                # Each thread is one unit of work, as each request is (the request commits).
                with unit_of_work():
                    value = target()
                results.append(value)
            except ServiceError as error:
                errors.append(str(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.rollback()  # read what the threads committed, not an older snapshot
    # Close the extra pooled connections the threads opened (PostgreSQL warns at exit else).
    db.session.remove()
    db.engine.dispose()
    return results, errors


def test_concurrent_start_one_open_attempt(app, make_quiz, learner, enrol):
    quiz = make_quiz()
    enrol(learner, quiz_course(quiz))
    quiz_id, user_id = quiz.id, learner.id

    def start():
        from academy.auth.models import User
        from academy.quizzes.models import Quiz

        return services.start_attempt(
            db.session.get(User, user_id), db.session.get(Quiz, quiz_id)
        ).id

    results, errors = _race(app, 10, start)
    assert errors == []
    assert len(set(results)) == 1
    assert db.session.scalar(select(func.count(Attempt.id))) == 1


def test_concurrent_start_and_submit_respects_limit(app, make_quiz, learner, enrol):
    quiz = make_quiz(attempts_allowed=3)
    enrol(learner, quiz_course(quiz))
    quiz_id, user_id = quiz.id, learner.id

    def start_and_submit():
        from academy.auth.models import User
        from academy.quizzes.models import Quiz

        user = db.session.get(User, user_id)
        ids = []
        for _ in range(4):
            # Each start and each submit is a request of its own: its own unit of work.
            with unit_of_work():
                attempt = services.start_attempt(user, db.session.get(Quiz, quiz_id))
            ids.append(attempt.id)
            with unit_of_work():
                services.submit(attempt, user)
        return ids

    _results, errors = _race(app, 10, start_and_submit)
    assert errors and all("ครบ 3" in e or "ลองอีกครั้ง" in e for e in errors)
    numbers = db.session.scalars(select(Attempt.number).order_by(Attempt.number)).all()
    assert numbers == [1, 2, 3]


def test_empty_essay_scores_zero_and_holds_nothing_up(make_quiz, learner, make_attempt):
    quiz = make_quiz(questions=[q for q in _sample() if q["title"] in ("Sun", "Essay")])
    attempt = make_attempt(quiz, learner, answers={"Sun": True, "Essay": "   "}, submit=True)
    assert (attempt.percent, attempt.needs_marking, attempt.passed) == (50.0, False, False)
    assert services.marking_queue(quiz) == []


def test_right_answer_of_a_wildcard_short_answer_reads_like_moodle() -> None:
    from academy.quizzes.gift import parse_gift

    (question,) = parse_gift("::s:: x {=colo*r =%0%*#no}").questions
    assert services.right_answer(question) == "colo r"
    (choice,) = parse_gift("::c:: x {=5 * 3 ~8}").questions
    assert services.right_answer(choice) == "5 * 3"
