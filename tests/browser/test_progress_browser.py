"""The dashboard and the class pages in Chromium, at phone and PC width, with axe."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from academy.extensions import db
from tests.browser.conftest import assert_accessible, external_requests, sign_in
from tests.fixtures.auth import PASSWORD
from tests.fixtures.progress import (
    complete_lesson,
    course_lessons,
    course_quizzes,
    enrol,
    fail_quiz,
    finish_course,
    pass_quiz,
    view_lesson,
)


@pytest.fixture
def room(make_user, progress_course, progress_class):
    teacher = make_user("instructor", full_name="ครูสมศรี รักเรียน")
    learners = [make_user("learner", full_name=f"นักเรียน คนที่ {i:02d}") for i in range(1, 13)]
    course = progress_course(modules=4, lessons=3, quizzes=1, title_th="เปิดร้านบน TikTok Shop")
    klass = progress_class(teacher, learners=learners, courses=[course])
    lessons, quizzes = course_lessons(course), course_quizzes(course)
    for i, learner in enumerate(learners[:8]):
        for lesson in lessons[: i + 1]:
            complete_lesson(learner, lesson)
        if i % 3 == 0:
            fail_quiz(learner, quizzes[0], 30)
            fail_quiz(learner, quizzes[0], 45)
        elif i % 3 == 1:
            pass_quiz(learner, quizzes[0], 85)
    finish_course(learners[8], course)
    view_lesson(learners[9], lessons[0])
    return dict(teacher=teacher, learners=learners, course=course, klass=klass)


@pytest.mark.parametrize("width", ["phone", "pc"])
def test_dashboard(request, room, progress_course, width, time_machine):
    page = request.getfixturevalue("phone_page" if width == "phone" else "page")
    learner = room["learners"][1]
    done = progress_course(modules=1, lessons=1, quizzes=0, title_th="ความรู้เรื่องโลกร้อน")
    enrol(learner, done)
    # Finished at 00:30 on 1 January 2027 in Bangkok (still 2026 in UTC): 2570 in the BE.
    time_machine.move_to(datetime(2026, 12, 31, 17, 30, tzinfo=UTC))
    finish_course(learner, done)
    outside = external_requests(page)
    sign_in(page, learner.username, PASSWORD)
    page.goto("/dashboard")
    page.screenshot(path=f"/tmp/shots/dashboard-{width}.png", full_page=True)
    assert page.get_by_role("heading", name="เรียนต่อจากที่ค้างไว้").is_visible()
    assert page.locator("progress").first.is_visible()
    assert page.get_by_text("คอร์สที่เรียนจบแล้ว").is_visible()
    assert page.get_by_text("2570").first.is_visible()  # Buddhist Era, Bangkok's year
    # Nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert_accessible(page)
    assert outside == []


@pytest.mark.parametrize("width", ["phone", "pc"])
def test_gradebook(request, room, width):
    page = request.getfixturevalue("phone_page" if width == "phone" else "page")
    sign_in(page, room["teacher"].username, PASSWORD)
    page.goto(f"/classes/{room['klass'].id}/gradebook")
    page.screenshot(path=f"/tmp/shots/gradebook-{width}.png", full_page=True)
    table = page.locator("table.gradebook")
    assert table.is_visible()
    assert page.locator("tbody tr").count() == 12
    # The page itself never scrolls sideways: the table scrolls inside its wrapper, and the
    # learner column stays in view while it does.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    wrap = page.locator(".gradebook-wrap")
    first = page.locator("tbody tr:first-child th.sticky")
    before = first.bounding_box()["x"]
    wrap.evaluate("el => { el.scrollLeft = 400; }")
    assert wrap.evaluate("el => el.scrollLeft") > 0
    assert abs(first.bounding_box()["x"] - before) < 1
    assert_accessible(page)


def test_stuck_refreshes_itself(page, room, app):
    app.config["PROGRESS_STUCK_REFRESH_SECONDS"] = 1
    try:
        sign_in(page, room["teacher"].username, PASSWORD)
        page.goto(f"/classes/{room['klass'].id}/stuck")
        absent = room["learners"][11]
        item = page.locator(".stuck-list li.card", has_text=absent.full_name)
        assert item.is_visible()
        assert_accessible(page)
        # As a lesson page would: a write request (BEGIN IMMEDIATE) while the page polls.
        db.session.commit()  # end this thread's read transaction first
        with app.test_request_context("/", method="POST"):
            complete_lesson(absent, course_lessons(room["course"])[0])
        item.wait_for(state="detached", timeout=5000)
    finally:
        app.config.pop("PROGRESS_STUCK_REFRESH_SECONDS")


def test_stuck_and_learner_pages_on_a_phone(phone_page, room):
    sign_in(phone_page, room["teacher"].username, PASSWORD)
    phone_page.goto(f"/classes/{room['klass'].id}/stuck")
    phone_page.screenshot(path="/tmp/shots/stuck-phone.png", full_page=True)
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert_accessible(phone_page)
    phone_page.get_by_role("link", name=room["learners"][0].full_name).first.click()
    phone_page.wait_for_load_state()
    phone_page.screenshot(path="/tmp/shots/learner-phone.png", full_page=True)
    assert phone_page.get_by_role("heading", name="ลำดับเหตุการณ์").is_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert_accessible(phone_page)
