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
    page.get_by_role("button", name="ออกจากระบบ", exact=True).click()
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


def test_a_link_on_another_site_cannot_sign_the_learner_out(page, make_user, live_server):
    """A chat message links to a page that posts a form to us. Chromium leaves the session
    cookie out (SameSite=Lax); our 400 page must not hand it a new one in its place."""
    user = make_user()
    sign_in(page, user.username, PASSWORD)
    form = f'<form method="post" action="{live_server}/sign-out"><button>win</button></form>'
    page.route(
        "http://chat.example/**",
        lambda route: route.fulfill(content_type="text/html", body=form),
    )
    page.goto("http://chat.example/")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="win").click()
    assert navigation.value.status == 400
    page.goto("/account/password")
    assert "/sign-in" not in page.url
    assert user.full_name in page.content()


def test_sign_out_ends_the_session_a_copied_cookie_carried(page, browser, make_user, live_server):
    user = make_user()
    sign_in(page, user.username, PASSWORD)
    copied = page.context.cookies()
    page.goto("/")
    page.get_by_role("button", name="ออกจากระบบ", exact=True).click()
    page.wait_for_url("**/sign-in")
    # Whoever copied the cookie off this shared PC before sign-out.
    other = browser.new_context(base_url=live_server)
    try:
        other.add_cookies(copied)
        replay = other.new_page()
        replay.goto("/account/password")
        assert "/sign-in" in replay.url
    finally:
        other.close()
