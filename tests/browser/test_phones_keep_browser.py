"""Keep this course on this phone, in a real Chromium at 360 px: a seller saves a course, goes
offline, reads two lessons (with their picture) and marks them done, comes back online and the
progress arrives on the server; sign-out drops the kept course and the queue."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select

from academy.courses import services
from academy.courses.models import Lesson
from academy.extensions import db
from academy.progress.models import LessonProgress
from academy.studio import services as authoring
from tests.browser.conftest import assert_accessible, sign_in
from tests.browser.test_phones_browser import CACHE_NAMES, CACHED_URLS, _controlled
from tests.fixtures.auth import PASSWORD
from tests.fixtures.files import PNG

SHOTS = Path(os.environ.get("ACADEMY_SHOTS", "/tmp/academy-shots"))


def _course_with_a_picture(make_course):
    course = make_course(modules=1, lessons=3, title_th="ขายของออนไลน์ให้ปัง")
    authoring.add_file(course, "stall.png", PNG)
    lesson = course.modules[0].lessons[0]
    lesson.body += "\n\n![แผงขายของ](assets/stall.png)"
    lesson.body_html = services.render_lesson(course.slug, lesson.body, {"assets/stall.png"})
    db.session.commit()
    return course


def _done_keys(user) -> set[str]:
    db.session.rollback()  # see what the server committed
    return set(
        db.session.scalars(
            select(Lesson.key)
            .join(LessonProgress, LessonProgress.lesson_id == Lesson.id)
            .where(LessonProgress.user_id == user.id, LessonProgress.done_at.is_not(None))
        )
    )


def test_a_kept_course_is_read_and_marked_offline_and_the_marks_arrive(
    sw_phone_page, make_user, make_course, enrol
):
    page = sw_phone_page
    context = page.context
    seller = make_user(full_name="นางสาวมะลิ ขายดี")
    course = _course_with_a_picture(make_course)
    enrol(seller, course)
    slug = course.slug
    SHOTS.mkdir(parents=True, exist_ok=True)

    _controlled(page)
    sign_in(page, seller.username, PASSWORD)
    page.goto(f"/courses/{slug}")
    keep = page.get_by_role("region", name="เก็บคอร์สนี้ไว้ในโทรศัพท์")
    keep.get_by_role("button", name="เก็บไว้ในโทรศัพท์").click()
    # The size comes before anything is saved.
    expect(keep.locator(".keep-status")).to_contain_text("ใช้พื้นที่ในโทรศัพท์ประมาณ")
    assert not [n for n in page.evaluate(CACHE_NAMES) if n.startswith("academy-course-")]
    expect(keep.get_by_role("button")).to_have_text(["บันทึกเลย"])  # the only one shown
    page.screenshot(path=str(SHOTS / "keep-size-360.png"), full_page=True)
    keep.get_by_role("button", name="บันทึกเลย").click()
    expect(keep.locator(".keep-status")).to_contain_text("เก็บไว้ในโทรศัพท์แล้ว")
    page.screenshot(path=str(SHOTS / "keep-saved-360.png"), full_page=True)
    assert_accessible(page)
    names = [n for n in page.evaluate(CACHE_NAMES) if n.startswith("academy-course-")]
    assert len(names) == 1 and names[0].startswith(f"academy-course-{slug}@"), names
    kept = page.evaluate(CACHED_URLS)
    for n in (1, 2, 3):
        assert f"/courses/{slug}/lessons/m1-l{n}" in kept
    assert f"/courses/{slug}/assets/stall.png" in kept

    context.set_offline(True)
    page.goto(f"/courses/{slug}/lessons/m1-l1")
    expect(page.get_by_role("heading", name="บทเรียน 1.1")).to_be_visible()
    picture = page.get_by_role("img", name="แผงขายของ")
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=picture.element_handle()
    )
    page.get_by_role("button", name="เรียนจบบทนี้แล้ว").click()
    outbox = page.locator("#outbox")
    expect(outbox).to_contain_text("รอส่งเมื่อกลับมาออนไลน์ (1 รายการ)")
    expect(page.get_by_role("button", name="เรียนจบบทนี้แล้ว")).to_be_hidden()
    expect(page.locator(".outbox-note")).to_have_text(
        "บันทึกว่าเรียนจบไว้ในโทรศัพท์แล้ว จะส่งเมื่อกลับมาออนไลน์"
    )
    page.get_by_role("link", name="บทเรียน 1.2").click()
    expect(page.get_by_role("heading", name="บทเรียน 1.2")).to_be_visible()
    page.get_by_role("button", name="เรียนจบบทนี้แล้ว").click()
    expect(outbox).to_contain_text("(2 รายการ)")
    expect(outbox.get_by_role("listitem")).to_have_text(
        ["“บทเรียน 1.1” เรียนจบแล้ว", "“บทเรียน 1.2” เรียนจบแล้ว"]
    )
    page.screenshot(path=str(SHOTS / "keep-waiting-360.png"), full_page=True)
    assert_accessible(page)
    # Reopening a lesson offline still says its mark is waiting.
    page.goto(f"/courses/{slug}/lessons/m1-l1")
    expect(page.locator(".outbox-note")).to_be_visible()
    assert _done_keys(seller) == set()

    context.set_offline(False)
    expect(outbox).to_contain_text("ส่งแล้ว", timeout=15000)
    expect(page.locator(".outbox-note")).to_have_text("บันทึกว่าเรียนจบแล้ว")
    page.screenshot(path=str(SHOTS / "keep-sent-360.png"), full_page=True)
    assert _done_keys(seller) == {"m1-l1", "m1-l2"}
    assert page.evaluate("localStorage.getItem('academy-outbox')") == "[]"

    page.get_by_role("button", name="ออกจากระบบ", exact=True).click()
    page.wait_for_url("**/sign-in")
    assert not [n for n in page.evaluate(CACHE_NAMES) if not n.startswith("academy-shell-")]
    assert page.evaluate("localStorage.length") == 0


def _keep(page, slug: str):
    page.goto(f"/courses/{slug}")
    keep = page.get_by_role("region", name="เก็บคอร์สนี้ไว้ในโทรศัพท์")
    keep.get_by_role("button", name="เก็บไว้ในโทรศัพท์").click()
    keep.get_by_role("button", name="บันทึกเลย").click()
    expect(keep.locator(".keep-status")).to_contain_text("เก็บไว้ในโทรศัพท์แล้ว")
    return keep


def _seller_keeping(page, make_user, make_course, enrol, lessons: int):
    """A seller signed in at the phone, who has kept an enrolled course of `lessons` lessons."""
    seller = make_user()
    course = make_course(modules=1, lessons=lessons)
    enrol(seller, course)
    _controlled(page)
    sign_in(page, seller.username, PASSWORD)
    _keep(page, course.slug)
    return seller, course


def _course_caches(page) -> list[str]:
    return [n for n in page.evaluate(CACHE_NAMES) if n.startswith("academy-course-")]


def test_a_kept_course_is_updated_when_it_changes_and_dropped_when_it_closes(
    sw_phone_page, make_user, make_course, enrol
):
    from academy.courses.models import DRAFT

    page = sw_phone_page
    _seller, course = _seller_keeping(page, make_user, make_course, enrol, lessons=2)
    before = _course_caches(page)
    db.session.rollback()  # a fresh transaction: the server wrote since this thread last read
    lesson = db.session.scalar(
        select(Lesson).where(Lesson.course_id == course.id, Lesson.key == "m1-l2")
    )
    lesson.body = "## ฉบับใหม่\n\nเนื้อหาที่แก้แล้ว"
    lesson.body_html = services.render_lesson(course.slug, lesson.body, set())
    db.session.commit()
    page.goto(f"/courses/{course.slug}")
    keep = page.get_by_role("region", name="เก็บคอร์สนี้ไว้ในโทรศัพท์")
    expect(keep.locator(".keep-status")).to_contain_text("ปรับสำเนาในโทรศัพท์ให้เป็นฉบับล่าสุดแล้ว")
    after = _course_caches(page)
    assert len(after) == 1 and after != before  # the old version is gone
    page.context.set_offline(True)
    page.goto(f"/courses/{course.slug}/lessons/m1-l2")
    expect(page.get_by_role("heading", name="ฉบับใหม่")).to_be_visible()
    page.context.set_offline(False)

    db.session.rollback()
    course = db.session.get(type(course), course.id)
    course.status = DRAFT  # closed while the phone was away
    db.session.commit()
    page.goto(f"/courses/{course.slug}/lessons/m1-l1")  # online: the server's 404, then
    page.wait_for_function(  # the worker drops the kept course it can no longer open
        "caches.keys().then((names) => !names.some((n) => n.startsWith('academy-course-')))"
    )
    page.context.set_offline(True)
    page.goto(f"/courses/{course.slug}/lessons/m1-l2")
    expect(page.get_by_role("heading", name="คุณออฟไลน์อยู่")).to_be_visible()


def test_a_queued_mark_for_a_lesson_removed_meanwhile_is_reported(
    sw_phone_page, make_user, make_course, enrol
):
    page = sw_phone_page
    seller, course = _seller_keeping(page, make_user, make_course, enrol, lessons=3)
    page.context.set_offline(True)
    for key in ("m1-l2", "m1-l3"):
        page.goto(f"/courses/{course.slug}/lessons/{key}")
        page.get_by_role("button", name="เรียนจบบทนี้แล้ว").click()
        expect(page.locator(".outbox-note")).to_be_visible()
    db.session.rollback()
    gone = db.session.scalar(
        select(Lesson).where(Lesson.course_id == course.id, Lesson.key == "m1-l3")
    )
    db.session.delete(gone)
    db.session.commit()
    page.context.set_offline(False)
    outbox = page.locator("#outbox")
    expect(outbox).to_contain_text(
        "ไม่ได้บันทึก: “บทเรียน 1.3” เรียนจบแล้ว ไม่มีบทเรียนนี้ในคอร์สแล้ว จึงไม่ได้บันทึก",
        timeout=15000,
    )
    expect(outbox).to_contain_text("ส่งแล้ว")
    assert _done_keys(seller) == {"m1-l2"}
    page.screenshot(path=str(SHOTS / "keep-refused-360.png"), full_page=True)
    assert_accessible(page)
