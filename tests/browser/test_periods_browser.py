"""A period in Chromium: a teacher and two learners' PCs. The teacher presses Next and, with
follow-me on, both learners' open pages move to the new item; the board shows the room; when
the teacher signs the room's computers out, the learners' pages land on the sign-in page."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PC, assert_accessible, sign_in
from tests.fixtures.auth import PASSWORD


@pytest.fixture
def quick_polls(app):
    # The pages poll every 5 s in a room; a second here keeps the test short.
    before = app.config["PERIOD_POLL_SECONDS"]
    app.config["PERIOD_POLL_SECONDS"] = 1
    yield
    app.config["PERIOD_POLL_SECONDS"] = before


def test_follow_me_moves_the_learners(browser, live_server, room_period, quick_polls):
    room = room_period(learners=2, follow_me=True)
    pages = []
    for learner in room.learners:
        context = browser.new_context(viewport=PC, base_url=live_server)
        page = context.new_page()
        errors: list[str] = []
        page.on(
            "console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None
        )
        page.errors = errors
        sign_in(page, learner.username, PASSWORD)
        pages.append(page)
    first, second = pages
    first.goto("/dashboard")
    banner = first.locator(".period-banner")
    assert banner.is_visible()
    assert "บทเรียน 1.1" in banner.inner_text()
    second.goto(f"/courses/{room.course.slug}/lessons/m1-l3")  # elsewhere, on purpose

    assert_accessible(first)
    teacher = browser.new_context(viewport=PC, base_url=live_server).new_page()
    teacher_errors: list[str] = []
    teacher.on("console", lambda m: teacher_errors.append(m.text) if m.type == "error" else None)
    sign_in(teacher, room.teacher.username, PASSWORD)
    teacher.goto(f"/classes/{room.klass.id}/period")
    assert_accessible(teacher)
    teacher.get_by_role("button", name="ถัดไป").click()
    teacher.wait_for_load_state()

    for page in pages:
        page.wait_for_url(f"**/courses/{room.course.slug}/lessons/m1-l2", timeout=15000)
        assert "บทเรียน 1.2" in page.locator(".period-banner").inner_text()

    teacher.goto(f"/classes/{room.klass.id}/period/board")
    assert teacher.locator(".board-qr svg").count() == 1
    current = teacher.locator("tr.current th")
    assert "บทเรียน 1.2" in current.inner_text()
    assert_accessible(teacher)
    assert not teacher_errors, teacher_errors

    teacher.goto(f"/classes/{room.klass.id}/period")
    teacher.get_by_role("button", name="จบคาบเรียน").click()
    teacher.wait_for_load_state()
    teacher.get_by_role("button", name="ออกจากระบบคอมพิวเตอร์ทุกเครื่องในห้องนี้").click()
    teacher.wait_for_load_state()
    for page in pages:
        page.wait_for_url("**/sign-in**", timeout=15000)
        assert not [e for e in page.errors if "Content Security Policy" in e], page.errors
