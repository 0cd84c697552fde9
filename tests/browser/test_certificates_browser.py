from __future__ import annotations

from academy.core import signals
from academy.courses.models import Course
from academy.extensions import db
from tests.browser.conftest import assert_accessible, sign_in
from tests.fixtures.auth import PASSWORD


def test_verify_and_mine_at_phone_width(phone_page, make_user):
    user = make_user(full_name="เด็กหญิงกฤษณ์ปู่ น้ำทิพย์ที่สุด")
    course = Course(slug="browser-cert", title_th="การขายออนไลน์", title_en="Selling online")
    db.session.add(course)
    db.session.commit()
    signals.course_completed.send(user, course=course, score=None)
    db.session.commit()
    from academy.certificates.issuing import valid_certificate

    cert = valid_certificate(user.id, course.id)
    page = phone_page
    page.goto("/verify")
    assert_accessible(page)
    page.fill("#code", cert.display_code.lower())
    page.click("button[type=submit] >> text=/ตรวจสอบ|Verify/")
    page.wait_for_url(f"**/verify/{cert.display_code}")
    assert "กฤษณ์ปู่" in page.content()
    assert_accessible(page)
    sign_in(page, user.username, PASSWORD)
    page.goto("/certificates")
    assert cert.display_code in page.content()
    assert_accessible(page)
    page.goto(f"/certificates/{cert.code}")
    assert_accessible(page)
