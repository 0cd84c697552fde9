"""Sign-in, sign-out, language switch and the shared-PC check, in a real Chromium."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible, external_requests, sign_in
from tests.fixtures.auth import PASSWORD


def test_sign_in_and_sign_out_leave_nothing_behind(page, make_user):
    user = make_user(full_name="เด็กหญิงน้ำทิพย์ ที่ปู่")
    sign_in(page, user.username, PASSWORD)
    assert page.get_by_text("เด็กหญิงน้ำทิพย์ ที่ปู่").first.is_visible()
    page.goto("/account/password")
    private_url = page.url
    page.get_by_role("button", name="ออกจากระบบ").click()
    page.wait_for_url("**/sign-in")
    assert page.get_by_text("คุณออกจากระบบแล้ว").is_visible()
    # The next learner at this PC presses Back: the private page must not come back.
    page.go_back()
    page.wait_for_load_state()
    assert "เด็กหญิงน้ำทิพย์" not in page.content()
    page.goto(private_url)
    assert "/sign-in" in page.url


def test_private_pages_are_no_store(page, make_user):
    user = make_user()
    sign_in(page, user.username, PASSWORD)
    response = page.goto("/account/password")
    assert response.headers["cache-control"] == "no-store"


def test_wrong_password_shows_a_clear_message(page, make_user):
    user = make_user()
    sign_in(page, user.username, "not-the-password")
    alert = page.get_by_role("alert")
    assert "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in alert.inner_text()


def test_language_switch_is_remembered(page):
    page.goto("/")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto("/sign-in")
    assert page.get_by_role("heading", name="Sign in").is_visible()
    page.get_by_role("button", name="ภาษาไทย").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "th"


def test_no_request_leaves_the_server(page, make_user):
    outside = external_requests(page)
    page.goto("/")
    page.goto("/sign-in")
    page.goto("/register")
    assert outside == []


@pytest.mark.parametrize("path", ["/", "/sign-in", "/register", "/no-such-page"])
@pytest.mark.parametrize("language", ["th", "en"])
def test_public_pages_are_accessible(page, path, language):
    page.goto("/")
    page.context.add_cookies([{"name": "lang", "value": language, "url": page.url}])
    page.goto(path)
    assert_accessible(page)


@pytest.mark.parametrize("path", ["/account/password", "/people", "/people/new", "/admin/"])
def test_signed_in_pages_are_accessible(page, make_user, path):
    admin = make_user("admin")
    sign_in(page, admin.username, PASSWORD)
    page.goto(path)
    assert_accessible(page)


def test_home_page_fits_a_phone(phone_page):
    phone_page.goto("/")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways on a phone ({width}px)"
