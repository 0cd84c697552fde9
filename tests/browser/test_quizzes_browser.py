"""Taking a quiz in Chromium: end to end, a network drop that loses nothing, accessibility."""

from __future__ import annotations

import time

from sqlalchemy import select

from academy.extensions import db
from academy.quizzes import services
from academy.quizzes.models import SUBMITTED, Attempt, Response
from tests.browser.conftest import assert_accessible, external_requests, sign_in
from tests.fixtures.auth import PASSWORD
from tests.fixtures.quizzes import SAMPLE_QUESTIONS

SMALL = [q for q in SAMPLE_QUESTIONS if q["title"] in ("Capital", "Sun", "Rice")]


def _saved(attempt_id: int) -> dict[int, object]:
    db.session.rollback()  # see what the server committed
    rows = db.session.scalars(select(Response).where(Response.attempt_id == attempt_id))
    return {r.question_id: r.value for r in rows}


def _wait_for(check, timeout: float = 10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    return check()


def _ids(quiz):
    return {q.title: q.id for q in quiz.questions}


def test_take_a_quiz_end_to_end(page, make_user, make_quiz, enrol):
    learner = make_user()
    quiz = make_quiz(questions=SAMPLE_QUESTIONS, time_limit_minutes=30)
    enrol(learner, quiz_course(quiz))
    outside = external_requests(page)
    sign_in(page, learner.username, PASSWORD)
    page.goto(f"/quizzes/{quiz.id}")
    page.get_by_role("button", name="เริ่มทำแบบทดสอบ").click()
    page.wait_for_url("**/attempts/*")
    assert page.locator("#quiz-timer").is_visible()
    page.get_by_label("Bangkok").check()
    page.get_by_label("Red").check()
    page.get_by_label("Blue").check()
    page.locator(f"#q-{_ids(quiz)['Sun']}-true").check()
    page.locator(f"#q-{_ids(quiz)['Rice']}").fill("ข้าว")
    page.locator(f"#q-{_ids(quiz)['Sum']}").fill("4")
    page.get_by_label("Banana").select_option(label="Yellow")
    page.get_by_label("Lime").select_option(label="Green")
    page.get_by_label("คำที่หายไป").select_option(label="ข้าว")
    page.locator(f"#q-{_ids(quiz)['Essay']}").fill("ร้านเล็ก ๆ ที่โบ๊เบ๊")
    db.session.rollback()
    attempt = db.session.scalar(select(Attempt))
    assert _wait_for(lambda: len(_saved(attempt.id)) == 8), _saved(attempt.id)
    page.get_by_role("button", name="ทำเสร็จและส่งคำตอบ…").click()
    page.wait_for_url("**/submit")
    assert "ตอบครบทุกข้อแล้ว" in page.content()
    page.get_by_role("button", name="ส่งคำตอบเลย").click()
    page.wait_for_url("**/result")
    assert "87.5%" in page.content()
    db.session.rollback()
    assert db.session.get(Attempt, attempt.id).status == SUBMITTED
    assert outside == []


def quiz_course(quiz):
    from academy.courses.models import Course

    return db.session.get(Course, quiz.course_id)


def _offline_answers(page, quiz, attempt):
    page.goto(f"/attempts/{attempt.id}")
    page.context.set_offline(True)
    page.get_by_label("Bangkok").check()
    page.locator(f"#q-{_ids(quiz)['Sun']}-false").check()
    page.locator(f"#q-{_ids(quiz)['Rice']}").fill("ข้าว")
    page.locator(f"#q-{_ids(quiz)['Rice']}").blur()
    status = page.locator("#quiz-status")
    status.filter(has_text="บันทึกไว้ในเครื่องนี้แล้ว").wait_for()
    time.sleep(1.0)  # the typing pause passes; still nothing can reach the server
    assert _saved(attempt.id) == {}


def _expected(quiz):
    ids = _ids(quiz)
    return {ids["Capital"]: 0, ids["Sun"]: False, ids["Rice"]: "ข้าว"}


def test_network_drop_same_page_sends_when_online(page, make_user, make_quiz, enrol):
    learner = make_user()
    quiz = make_quiz(questions=SMALL)
    enrol(learner, quiz_course(quiz))
    attempt = services.start_attempt(learner, quiz)
    db.session.commit()  # services never commit: the request (here, the test) does
    sign_in(page, learner.username, PASSWORD)
    _offline_answers(page, quiz, attempt)
    page.context.set_offline(False)
    assert _wait_for(lambda: _saved(attempt.id) == _expected(quiz)), _saved(attempt.id)
    page.locator("#quiz-status").filter(has_text="บันทึกแล้ว").wait_for()


def test_network_drop_page_closed_then_reopened(page, make_user, make_quiz, enrol):
    learner = make_user()
    quiz = make_quiz(questions=SMALL)
    enrol(learner, quiz_course(quiz))
    attempt = services.start_attempt(learner, quiz)
    db.session.commit()  # services never commit: the request (here, the test) does
    sign_in(page, learner.username, PASSWORD)
    _offline_answers(page, quiz, attempt)
    context = page.context
    page.close()  # the PC is switched off mid-quiz (the browser profile keeps localStorage)
    context.set_offline(False)
    again = context.new_page()
    again.goto(f"/attempts/{attempt.id}")
    # The answers kept on the device are shown again and reach the database.
    assert again.get_by_label("Bangkok").is_checked()
    assert _wait_for(lambda: _saved(attempt.id) == _expected(quiz)), _saved(attempt.id)
    again.locator("#quiz-status").filter(has_text="บันทึกแล้ว").wait_for()
    # Reloading now shows the server's answers, with nothing left on the device to send.
    again.reload()
    assert again.locator(f"#q-{_ids(quiz)['Rice']}").input_value() == "ข้าว"
    left = again.evaluate(
        "Object.keys(localStorage).filter(function (k) { return k.indexOf('academy-quiz:') === 0; })"
    )
    assert left == []


def test_quiz_pages_accessible_at_phone_width(phone_page, make_user, make_quiz, enrol):
    learner = make_user()
    quiz = make_quiz(questions=SAMPLE_QUESTIONS, time_limit_minutes=20, attempts_allowed=2)
    enrol(learner, quiz_course(quiz))
    sign_in(phone_page, learner.username, PASSWORD)
    phone_page.goto(f"/quizzes/{quiz.id}")
    assert_accessible(phone_page)
    phone_page.get_by_role("button", name="เริ่มทำแบบทดสอบ").click()
    phone_page.wait_for_url("**/attempts/*")
    assert_accessible(phone_page)
    phone_page.get_by_label("Bangkok").check()
    phone_page.get_by_role("button", name="ทำเสร็จและส่งคำตอบ…").click()
    phone_page.wait_for_url("**/submit")
    assert_accessible(phone_page)
    phone_page.get_by_role("button", name="ส่งคำตอบเลย").click()
    phone_page.wait_for_url("**/result")
    assert_accessible(phone_page)
    phone_page.goto(f"/quizzes/{quiz.id}")
    assert_accessible(phone_page)


def test_instructor_pages_accessible(page, make_user, make_quiz, make_quiz_course, make_attempt):
    teacher = make_user("instructor")
    course = make_quiz_course(instructor=teacher)
    quiz = make_quiz(course=course)
    make_attempt(quiz, make_user(), answers={"Essay": "ข้อความ", "Capital": 1}, submit=True)
    sign_in(page, teacher.username, PASSWORD)
    for path in (
        f"/quizzes/{quiz.id}/questions",
        f"/quizzes/{quiz.id}/settings",
        f"/quizzes/{quiz.id}/questions/new?type=matching",
        f"/quizzes/{quiz.id}/import",
        f"/quizzes/{quiz.id}/results",
        f"/quizzes/{quiz.id}/marking",
    ):
        page.goto(path)
        assert_accessible(page)
    page.goto(f"/quizzes/{quiz.id}/questions/new?type=matching")
    page.get_by_label("ชื่อ", exact=True).fill("จับคู่ผลไม้")
    page.get_by_label("ข้อความคำถาม").fill("จับคู่ผลไม้กับสี")
    page.get_by_role("button", name="ดูตัวอย่าง").click()
    assert page.locator(".quiz-preview select").count() == 2
    assert_accessible(page)


def test_timer_submits_when_time_is_over(page, make_user, make_quiz, enrol):
    from datetime import timedelta

    from academy.core.db import utcnow

    learner = make_user()
    quiz = make_quiz(questions=SMALL, time_limit_minutes=30)
    enrol(learner, quiz_course(quiz))
    attempt = services.start_attempt(learner, quiz)
    attempt.deadline_at = utcnow() + timedelta(seconds=5)
    db.session.commit()
    sign_in(page, learner.username, PASSWORD)
    page.goto(f"/attempts/{attempt.id}")
    page.get_by_label("Bangkok").check()
    page.locator(f"#q-{_ids(quiz)['Rice']}").fill("ข้าว")  # typed as the clock runs out
    page.wait_for_url("**/result", timeout=15000)
    db.session.rollback()
    closed = db.session.get(Attempt, attempt.id)
    assert closed.status == SUBMITTED
    assert _saved(attempt.id)[_ids(quiz)["Rice"]] == "ข้าว"
    assert closed.points == 2
