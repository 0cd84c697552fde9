"""A period in Chromium: a teacher and two learners' PCs. The teacher presses Next and, with
follow-me on, both learners' open pages move to the new item; the board shows the room; when
the teacher signs the room's computers out, the learners' pages land on the sign-in page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from academy.core.clock import local_month_key
from academy.extensions import db
from academy.periods.models import Period
from academy.quizzes.models import SUBMITTED, Attempt
from tests.browser.conftest import PC, PHONE, assert_accessible, sign_in
from tests.fixtures.auth import PASSWORD

QUIZ_POSITION = 3  # the fixture's items: three lessons, then the quiz


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


def _learner_page(browser, live_server, learner, viewport):
    context = browser.new_context(
        viewport=viewport,
        base_url=live_server,
        service_workers="block",
        is_mobile=viewport is PHONE,
        has_touch=viewport is PHONE,
    )
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    sign_in(page, learner.username, PASSWORD)
    return page


def test_a_period_with_a_quiz_for_three_learners(
    browser, live_server, room_period, quick_polls, tmp_path
):
    room = room_period(learners=3, start=False, period_only=True)
    quiz_title = room.quiz.title_th
    teacher = browser.new_context(viewport=PC, base_url=live_server).new_page()
    teacher_errors: list[str] = []
    teacher.on("console", lambda m: teacher_errors.append(m.text) if m.type == "error" else None)
    sign_in(teacher, room.teacher.username, PASSWORD)

    # The teacher starts the period: every item of the course, follow-me on.
    teacher.goto(f"/classes/{room.klass.id}/period")
    for box in teacher.locator("input[name=item]").all():
        box.check()
    teacher.locator("input[name=follow_me]").check()
    teacher.get_by_role("button", name="เริ่มคาบเรียน").click()
    teacher.wait_for_load_state()
    assert "เริ่มคาบเรียนแล้ว" in teacher.content()

    # Three learners, each in their own browser (one on a phone), see the banner.
    viewports = (PC, PC, PHONE)
    pages = [
        _learner_page(browser, live_server, learner, viewport)
        for learner, viewport in zip(room.learners, viewports, strict=True)
    ]
    for page in pages:
        page.goto("/dashboard")
        banner = page.locator(".period-banner")
        assert banner.is_visible() and "บทเรียน 1.1" in banner.inner_text()

    # Follow me: Next, then the quiz; every learner's page moves with the teacher's.
    teacher.get_by_role("button", name="ถัดไป").click()
    teacher.wait_for_load_state()
    for page in pages:
        page.wait_for_url(f"**/courses/{room.course.slug}/lessons/m1-l2", timeout=15000)
    teacher.get_by_role("button", name=quiz_title).click()
    teacher.wait_for_load_state()
    for page in pages:
        page.wait_for_url(f"**/quizzes/{room.quiz.id}", timeout=15000)
        assert "ครูยังไม่ได้เปิดแบบทดสอบนี้" in page.content()

    # The board, open on the projector, stays open from here on.
    board = teacher.context.new_page()
    board.goto(f"/classes/{room.klass.id}/period/board")
    quiz_row = board.locator(f'tr[data-position="{QUIZ_POSITION}"]')
    assert quiz_row.locator('[data-field="answered"]').inner_text() == "0"

    # The teacher opens the quiz with a start code; the board shows it.
    teacher.get_by_role("button", name="เปิดแบบทดสอบ").click()
    teacher.wait_for_load_state()
    teacher.screenshot(path=str(tmp_path / "console-1366.png"), full_page=True)
    assert_accessible(teacher)
    code = teacher.locator(".start-code").inner_text()
    assert len(code) == 4 and code.isdigit()
    board.locator(".board-start-code").wait_for(timeout=15000)  # the board reloaded itself
    assert board.locator(".board-start-code").inner_text() == code
    assert_accessible(board)
    board.screenshot(path=str(tmp_path / "board-1366.png"), full_page=True)

    # The waiting quiz pages reload by themselves and ask for the code.
    for page in pages:
        page.locator("#start-code").wait_for(timeout=15000)
    phone = pages[2]
    phone.screenshot(path=str(tmp_path / "quiz-code-360.png"), full_page=True)
    assert_accessible(phone)
    first = pages[0]
    wrong = f"{(int(code) + 1) % 10000:04d}"
    first.locator("#start-code").fill(wrong)
    first.get_by_role("button", name="เริ่มทำแบบทดสอบ").click()
    first.wait_for_load_state()
    assert "รหัสนี้ไม่ใช่รหัสเริ่มทำที่อยู่บนจอโปรเจกเตอร์ตอนนี้" in first.content()
    for page in pages:
        page.locator("#start-code").fill(code)
        page.get_by_role("button", name="เริ่มทำแบบทดสอบ").click()
        page.wait_for_url("**/attempts/*")
    # Two learners answer the first question right; the third answers nothing.
    for page in pages[:2]:
        page.locator(".quiz-question").first.get_by_label("ถูก").check()
        page.locator('#quiz-status[data-state="saved"]').wait_for(timeout=15000)
    phone.screenshot(path=str(tmp_path / "attempt-360.png"), full_page=True)

    # The teacher closes the quiz: every open attempt is submitted with what was saved, and
    # the board (polling) shows three answered, average 33%.
    teacher.get_by_role("button", name="ปิดแบบทดสอบ").click()
    teacher.wait_for_load_state()
    assert "ส่งคำตอบที่ยังทำค้างอยู่ 3 ชุด" in teacher.content()
    db.session.rollback()
    assert [a.status for a in db.session.scalars(select(Attempt))] == [SUBMITTED] * 3
    expect(quiz_row.locator('[data-field="answered"]')).to_have_text("3", timeout=15000)
    assert (
        board.locator(f'tr[data-position="{QUIZ_POSITION}"] [data-field="average"]').inner_text()
        == "33%"
    )
    board.screenshot(path=str(tmp_path / "board-closed-1366.png"), full_page=True)

    # The end: attendance says three present, and the room's computers are signed out.
    teacher.get_by_role("button", name="จบคาบเรียน").click()
    teacher.wait_for_load_state()
    teacher.get_by_role("link", name="การเข้าเรียน").click()
    teacher.wait_for_load_state()
    statuses = teacher.locator("select[name^=status-]").evaluate_all("s => s.map(e => e.value)")
    assert statuses == ["present"] * 3
    db.session.rollback()
    period = db.session.scalars(select(Period)).one()
    # The period's own month (a run at a month's last minute must not look at the next).
    month = local_month_key(period.started_at)
    teacher.goto(f"/classes/{room.klass.id}/attendance?month={month}")
    assert teacher.locator("td.att-present").count() == 3
    assert_accessible(teacher)
    teacher.screenshot(path=str(tmp_path / "attendance-month-1366.png"), full_page=True)
    period_id = period.id
    teacher.goto(f"/classes/{room.klass.id}/periods/{period_id}")
    teacher.get_by_role("button", name="ออกจากระบบคอมพิวเตอร์ทุกเครื่องในห้องนี้").click()
    teacher.wait_for_load_state()
    for page in pages:
        page.goto("/dashboard")
        assert "/sign-in" in page.url
        assert not page.errors, page.errors
    assert not teacher_errors, teacher_errors


@pytest.mark.parametrize("width", ["page", "phone_page"])
def test_the_admin_reads_attendance_by_room(request, width, room_period, make_user, tmp_path):
    page = request.getfixturevalue(width)
    room = room_period(learners=2)
    admin = make_user("admin")
    sign_in(page, admin.username, PASSWORD)
    page.goto("/reports/")
    page.get_by_role("link", name="การเข้าเรียน").click()
    page.wait_for_url("**/reports/attendance")
    page.get_by_label("แยกตาม").select_option("room")
    page.get_by_label("เดือน").fill(local_month_key(room.period.started_at))
    page.get_by_role("button", name="แสดง").click()
    page.wait_for_url("**/reports/attendance?**")
    row = page.get_by_role("row").filter(has_text=room.klass.room.name)
    assert row.count() == 1 and "0%" in row.inner_text()  # nobody has been seen yet: 2 absent
    assert_accessible(page)
    page.screenshot(path=str(tmp_path / f"report-{width}.png"), full_page=True)
