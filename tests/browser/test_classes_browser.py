"""Class pages, the import dry run, join page and reports in a real Chromium, at phone and PC
width, with axe-core checks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from academy.core.db import utcnow
from academy.extensions import db
from academy.progress.models import CourseProgress
from tests.browser.conftest import assert_accessible, external_requests, sign_in
from tests.fixtures.auth import PASSWORD

SHOTS = os.environ.get("ACADEMY_SCREENSHOTS")  # a folder: save screenshots to look at


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture
def classroom(make_user, make_class, make_class_course, make_programme):
    teacher = make_user("instructor", full_name="ครูสมศรี ใจดี")
    pupils = [make_user("learner", full_name=f"เด็กชายสมชาย รักเรียน {i}") for i in range(3)]
    course = make_class_course("ทักษะดิจิทัลเบื้องต้น")
    make_class_course("การขายออนไลน์")
    klass = make_class(instructor=teacher, members=pupils, courses=[course], name="ม.2/3")
    make_class(instructor=teacher, name="ม.2/4")
    make_programme("ผู้ค้าโบ๊เบ๊ รุ่น 1")
    db.session.merge(
        CourseProgress(user_id=pupils[0].id, course_id=course.id, first_activity_at=utcnow())
    )
    db.session.commit()
    return teacher, klass, pupils


@pytest.mark.parametrize("width", ["pc", "phone"])
def test_teacher_pages_are_accessible(request, classroom, width, tmp_path):
    page = request.getfixturevalue("page" if width == "pc" else "phone_page")
    teacher, klass, _pupils = classroom
    outside = external_requests(page)
    sign_in(page, teacher.username, PASSWORD)
    assert page.url.endswith("/classes")
    assert_accessible(page)
    shot(page, f"classes-{width}")
    page.get_by_role("link", name="ม.2/3").click()
    page.wait_for_load_state()
    assert page.get_by_text(klass.join_code).is_visible()
    assert_accessible(page)
    shot(page, f"class-{width}")
    page.goto("/classes/new")
    assert_accessible(page)
    # The import dry run, with problems and row numbers.
    page.goto(f"/classes/{klass.id}/import")
    assert_accessible(page)
    bad = tmp_path / "bad.csv"
    bad.write_text("ชื่อผู้ใช้;ชื่อ-นามสกุล\nab;สั้น\nsomsri.d;สมศรี ดีใจ\nsomsri.d;ซ้ำ\n", "utf-8-sig")
    page.get_by_label("ไฟล์ CSV").set_input_files(str(bad))
    page.get_by_role("button", name="ตรวจไฟล์").click()
    page.wait_for_load_state()
    problems = page.get_by_role("table", name="ปัญหาในไฟล์").inner_text()
    assert "ab" in problems and "ซ้ำกับแถวที่ 3" in problems
    assert_accessible(page)
    shot(page, f"import-problems-{width}")
    good = tmp_path / "good.csv"
    good.write_text("username,full_name\nsomsri.d,สมศรี ดีใจ\nmanee.r,มานี รักไทย\n", "utf-8-sig")
    page.get_by_label("ไฟล์ CSV").set_input_files(str(good))
    page.get_by_role("button", name="ตรวจไฟล์").click()
    page.wait_for_load_state()
    assert_accessible(page)
    shot(page, f"import-dry-run-{width}")
    page.get_by_role("button", name="นำเข้าผู้เรียน 2 คน").click()
    page.wait_for_load_state()
    assert page.get_by_text("มานี รักไทย").is_visible()
    assert_accessible(page)
    shot(page, f"import-done-{width}")
    assert outside == []


@pytest.mark.parametrize("width", ["pc", "phone"])
def test_learner_joins_with_a_code(request, classroom, make_user, width):
    page = request.getfixturevalue("page" if width == "pc" else "phone_page")
    _teacher, klass, _pupils = classroom
    newcomer = make_user("learner")
    sign_in(page, newcomer.username, PASSWORD)
    page.goto("/join")
    assert_accessible(page)
    page.get_by_label("รหัสชั้นเรียน").fill("WRONG1")
    page.get_by_role("button", name="เข้าร่วม", exact=True).click()
    page.wait_for_load_state()
    assert "ไม่มีชั้นเรียนที่ใช้รหัสนี้" in page.content()
    assert_accessible(page)
    shot(page, f"join-error-{width}")
    page.get_by_label("รหัสชั้นเรียน").fill(klass.join_code.lower())
    page.get_by_role("button", name="เข้าร่วม", exact=True).click()
    page.wait_for_load_state()
    assert "ยินดีต้อนรับสู่ ม.2/3" in page.content()


@pytest.mark.parametrize("width", ["pc", "phone"])
def test_admin_pages_and_reports_are_accessible(request, classroom, make_user, width):
    page = request.getfixturevalue("page" if width == "pc" else "phone_page")
    admin = make_user("admin")
    outside = external_requests(page)
    sign_in(page, admin.username, PASSWORD)
    for path, name in [
        ("/admin/schools", "schools"),
        (f"/admin/schools/{classroom[1].room.school_id}", "school"),
        ("/admin/programmes", "programmes"),
        ("/reports/?by=school", "report-school"),
        ("/reports/?by=room", "report-room"),
        ("/reports/months", "report-months"),
    ]:
        page.goto(path)
        assert_accessible(page)
        shot(page, f"{name}-{width}")
    page.goto("/reports/?by=course")
    assert page.locator("svg title").first.text_content().startswith("อัตราการเรียนจบ")
    assert page.get_by_role("table", name="ตามวิชา").is_visible()
    assert outside == []


def test_the_web_import_shows_its_progress_while_the_server_works(
    phone_page, make_user, make_class, tmp_path
):
    page = phone_page
    teacher = make_user("instructor")
    klass = make_class(instructor=teacher)
    source = tmp_path / "class.csv"
    source.write_text("username,full_name\nmalee.k,มาลี ใจดี\nsomsak.p,สมศักดิ์ พากเพียร\n")
    sign_in(page, teacher.username, PASSWORD)
    page.goto(f"/classes/{klass.id}/import")
    page.locator("input[type=file]").set_input_files(str(source))
    page.get_by_role("button", name="ตรวจไฟล์ (ยังไม่บันทึกอะไร)").click()
    # The page as it is while the server works: the test holds the post back (a listener
    # after classes.js's), so the check does not race however fast two passwords hash.
    page.evaluate(
        "document.getElementById('import-confirm')"
        ".addEventListener('submit', (e) => e.preventDefault())"
    )
    with page.expect_request("**/import/progress/*") as poll:
        page.get_by_role("button", name="นำเข้าผู้เรียน 2 คน").click()
    status = page.locator(".import-progress")
    assert status.is_visible() and status.inner_text().strip() == "กำลังสร้างบัญชี: 0 จาก 2…"
    assert page.get_by_role("button", name="นำเข้าผู้เรียน 2 คน").is_disabled()  # once only
    token = poll.value.url.rsplit("/", 1)[1]
    assert page.locator("input[name=progress]").input_value() == token
    shots = Path(os.environ.get("ACADEMY_SHOTS", "/tmp/academy-shots"))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "class-import-progress-360.png"), full_page=True)
    with page.expect_navigation():
        page.evaluate(
            "HTMLFormElement.prototype.submit.call(document.getElementById('import-confirm'))"
        )
    assert page.get_by_role("heading", name="นำเข้าผู้เรียน 2 คนแล้ว").is_visible()
