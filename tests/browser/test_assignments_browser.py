"""Issue 13's scenario in a real Chromium: a seller on a 360 px phone hands in a photo from the
camera and her live's replay link; the coach, at 1366 px, reviews it against the checklist
(one criterion "not yet"); the seller sees the feedback on her dashboard, hands in again, the
coach passes it, and the course completes with its certificate. axe-core on every page.
ACADEMY_SCREENSHOTS=<folder> keeps a screenshot of each step to look at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from academy.assignments.models import PASSED, Submission
from academy.certificates.models import Certificate
from academy.extensions import db
from tests.browser.conftest import assert_accessible, external_requests, sign_in
from tests.fixtures.assignments import photo_bytes
from tests.fixtures.auth import PASSWORD
from tests.fixtures.progress import complete_lesson, enrol

SHOTS = os.environ.get("ACADEMY_SCREENSHOTS")
LIVE = "https://www.tiktok.com/@malee.shop/live/7312345678"


def fresh():
    """The test's own session sees what the server committed: end its read transaction."""
    db.session.rollback()
    return db.session


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture
def seller_and_coach(make_course, make_assignment, make_user, make_class):
    coach = make_user("instructor", full_name="คุณวิภา นักการตลาด")
    seller = make_user("learner", full_name="มาลี ขายดี", learner_kind="seller")
    course = make_course(modules=1, lessons=1, title_th="เริ่มขายบน TikTok Shop")
    assignment = make_assignment(course, kinds=("photos", "links"), max_photos=3)
    enrol(seller, course)
    complete_lesson(seller, course.modules[0].lessons[0])
    make_class(instructor=coach, members=[seller], courses=[course], name="ตลาดโบ๊เบ๊ รุ่น 1")
    return course, assignment, seller, coach


def _hand_in(phone, assignment, photo: Path, again: bool = False) -> None:
    phone.goto(f"/assignments/{assignment.id}")
    form = phone.locator("form.stacked[data-once]")
    assert phone.locator("#photos").get_attribute("capture") == "environment"
    phone.locator("#photos").set_input_files(str(photo))
    phone.get_by_label("ลิงก์ (บรรทัดละหนึ่งลิงก์ ขึ้นต้นด้วย https://)").fill(LIVE)
    form.get_by_role("button", name="ส่งอีกครั้ง" if again else "ส่งงาน").click()
    phone.wait_for_load_state()
    expect(phone.get_by_text("ส่งงานแล้ว โค้ชจะตรวจให้")).to_be_visible()


def _review(pc, submission_id: int, *, background: str, note: str, decision: str) -> None:
    pc.goto("/reviews")
    pc.locator(f"a[href='/submissions/{submission_id}/review']").click()
    pc.wait_for_load_state()
    assert_accessible(pc)
    pc.check("input[name=c-light][value=done]")
    pc.check(f"input[name=c-background][value={background}]")
    pc.check("input[name=c-extra][value=not_yet]")
    if note:
        pc.fill("#note-background", note)
    pc.fill("#comment", "รูปสวยขึ้นมาก" if decision == "ผ่าน" else "เกือบแล้ว ลองใหม่นะ")
    shot(pc, f"review-1366-{decision}")
    pc.locator("form.review-form").get_by_role("button", name=decision).click()
    pc.wait_for_load_state()
    expect(pc.get_by_text("บันทึกผลตรวจแล้ว ผู้เรียนเห็นได้ทันที")).to_be_visible()


def test_hand_in_on_a_phone_review_at_a_pc_hand_in_again_pass_and_certificate(
    page, phone_page, seller_and_coach, tmp_path
):
    course, assignment, seller, coach = seller_and_coach
    phone, pc = phone_page, page
    outside = external_requests(phone) + external_requests(pc)
    photo = tmp_path / "IMG_0001.JPG"
    photo.write_bytes(photo_bytes((4000, 3000), orientation=6, gps=True))

    sign_in(phone, seller.username, PASSWORD)
    phone.goto(f"/assignments/{assignment.id}")
    assert_accessible(phone)
    shot(phone, "assignment-360")
    _hand_in(phone, assignment, photo)
    expect(phone.locator(".badge.state-waiting").first).to_have_text("รอตรวจ")
    # The page fits the phone: nothing wider than 360 px.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    shot(phone, "handed-in-360")
    first = fresh().scalar(select(Submission).where(Submission.user_id == seller.id))
    assert (first.photos[0].width, first.photos[0].height) == (1200, 1600)  # upright, 1600 px

    sign_in(pc, coach.username, PASSWORD)
    pc.goto("/coaching")
    expect(pc.get_by_text("มาลี ขายดี")).to_be_visible()
    assert_accessible(pc)
    shot(pc, "my-learners-1366")
    _review(pc, first.id, background="not_yet", note="ใช้ผ้าขาวรองพื้นหลัง", decision="ต้องแก้ไข")

    phone.goto("/dashboard")
    feedback = phone.get_by_role("region", name="คำแนะนำจากโค้ช")
    expect(feedback).to_contain_text("ต้องแก้ไข")
    assert_accessible(phone)
    shot(phone, "dashboard-feedback-360")
    feedback.get_by_role("link", name="ดูสิ่งที่ต้องแก้แล้วส่งงานอีกครั้ง").click()
    phone.wait_for_load_state()
    expect(phone.get_by_text("ใช้ผ้าขาวรองพื้นหลัง")).to_be_visible()
    shot(phone, "needs-changes-360")
    _hand_in(phone, assignment, photo, again=True)

    second = (
        fresh()
        .scalars(
            select(Submission)
            .where(Submission.user_id == seller.id)
            .order_by(Submission.version.desc())
        )
        .first()
    )
    assert second.version == 2
    _review(pc, second.id, background="done", note="", decision="ผ่าน")

    assert fresh().get(Submission, second.id).status == PASSED
    certificate = db.session.scalar(
        select(Certificate).where(
            Certificate.user_id == seller.id, Certificate.course_id == course.id
        )
    )
    assert certificate is not None
    phone.goto(f"/assignments/{assignment.id}")
    expect(phone.locator("p .badge").first).to_have_text("ผ่าน")
    # Both versions and both reviews stay readable.
    expect(phone.get_by_role("heading", name="ครั้งที่ 1 ต้องแก้ไข")).to_be_visible()
    shot(phone, "passed-360")
    phone.goto("/certificates")
    expect(phone.get_by_text("เริ่มขายบน TikTok Shop").first).to_be_visible()
    assert outside == []


@pytest.mark.parametrize("width", ["pc", "phone"])
def test_an_author_writes_an_assignment_in_the_studio(request, make_course, make_user, width):
    pc = request.getfixturevalue("page" if width == "pc" else "phone_page")
    author = make_user("instructor", full_name="ครูสมศรี ใจดี")
    course = make_course(modules=1, lessons=1, instructor=author, title_th="ไลฟ์ขายของ")
    sign_in(pc, author.username, PASSWORD)
    pc.goto(f"/studio/modules/{course.modules[0].id}/assignments/new")
    assert_accessible(pc)
    pc.get_by_label("ชื่องานปฏิบัติ (ภาษาไทย)").fill("ไลฟ์ขายครั้งแรก")
    pc.locator("#instructions").fill("ไลฟ์ขายสินค้า **สามชิ้น** แล้วส่งลิงก์ไลฟ์ย้อนหลัง")
    expect(pc.locator("#preview strong")).to_have_text("สามชิ้น")  # the live preview
    pc.check("input[name=hand_in][value=links]")
    pc.uncheck("input[name=hand_in][value=photos]")
    pc.fill("#c-0-title", "ทักทายผู้ชม")
    pc.fill("#c-1-title", "ปิดการขาย")
    pc.select_option("#c-1-type", "levels")
    pc.fill("#c-1-levels", "0 = ยังไม่ได้ปิด\n2 = ปิดได้บางชิ้น")
    pc.get_by_role("button", name="ดูตัวอย่าง").click()
    pc.wait_for_load_state()
    expect(pc.get_by_role("heading", name="รายการตรวจที่ผู้เรียนจะเห็น")).to_be_visible()
    shot(pc, f"studio-assignment-{width}")
    pc.get_by_role("button", name="บันทึกงานปฏิบัติ").click()
    pc.wait_for_load_state()
    expect(pc.get_by_text("บันทึกงานปฏิบัติแล้ว")).to_be_visible()
    assert_accessible(pc)
    if width == "phone":
        assert pc.evaluate("document.documentElement.scrollWidth") <= 360
