"""The installable web app in a real Chromium: the worker installs and keeps the shell, the
offline page shows when the network is gone, private pages are never kept, sign-out leaves
nothing behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PC, PHONE, assert_accessible, sign_in
from tests.fixtures.auth import PASSWORD

CACHE_NAMES = "caches.keys()"
CACHED_URLS = """async () => {
  const out = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) out.push(new URL(request.url).pathname);
  }
  return out;
}"""


def _controlled(page, path: str = "/") -> None:
    """Open a page and wait until the service worker controls it (installed, shell kept)."""
    page.goto(path)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("!!navigator.serviceWorker.controller"):
        page.reload()
    assert page.evaluate("!!navigator.serviceWorker.controller")


def test_worker_installs_and_keeps_the_shell(sw_page):
    page = sw_page
    _controlled(page)
    names = page.evaluate(CACHE_NAMES)
    assert any(name.startswith("academy-shell-") for name in names), names
    urls = page.evaluate(CACHED_URLS)
    assert "/offline" in urls
    assert any(url.endswith("/css/app.css") for url in urls)
    assert any(url.endswith("/fonts/NotoSansThai-Regular.woff2") for url in urls)
    assert any(url.endswith("/img/icon-192.png") for url in urls)


def test_offline_a_page_not_kept_shows_the_offline_page(browser, live_server):
    context = browser.new_context(viewport=PHONE, base_url=live_server, is_mobile=True)
    page = context.new_page()
    try:
        _controlled(page)
        page.goto("/")  # through the worker now: a public page, kept
        page.wait_for_function(f"({CACHED_URLS})().then((urls) => urls.includes('/'))")
        context.set_offline(True)
        page.goto("/courses/no-such-course-kept")
        assert page.get_by_role("heading", name="คุณออฟไลน์อยู่").is_visible()
        assert page.get_by_role("heading", name="You are offline").is_visible()
        # A public page opened before comes back from the cache.
        page.goto("/")
        assert page.locator("link[rel=manifest]").count() == 1
        assert page.get_by_role("heading", name="คุณออฟไลน์อยู่").count() == 0
    finally:
        context.close()


def test_private_pages_are_not_kept_and_sign_out_clears_everything(sw_page, make_user):
    page = sw_page
    user = make_user(full_name="นางสาวมะลิ ขายดี")
    _controlled(page)
    sign_in(page, user.username, PASSWORD)
    page.goto("/account/password")
    assert "/account/password" not in page.evaluate(CACHED_URLS)
    # What a saved course or a queued mark would leave: a cache and local storage.
    page.evaluate(
        """async () => {
          const cache = await caches.open("academy-course-1");
          await cache.put("/courses/x", new Response("นางสาวมะลิ"));
          localStorage.setItem("academy-queue", "[1]");
        }"""
    )
    assert "academy-course-1" in page.evaluate(CACHE_NAMES)
    page.get_by_role("button", name="ออกจากระบบ", exact=True).click()
    page.wait_for_url("**/sign-in")
    names = page.evaluate(CACHE_NAMES)
    assert not [name for name in names if not name.startswith("academy-shell-")], names
    assert page.evaluate("localStorage.length") == 0


SHOTS = Path(os.environ.get("ACADEMY_SHOTS", "/tmp/academy-shots"))


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
@pytest.mark.parametrize("viewport", [PHONE, PC], ids=["360", "1366"])
def test_admin_menu_on_a_phone_is_one_button_that_works_without_javascript(
    browser, live_server, make_user, viewport, javascript
):
    admin = make_user("admin")
    context = browser.new_context(
        viewport=viewport, base_url=live_server, java_script_enabled=javascript
    )
    context.set_default_timeout(15000)
    page = context.new_page()
    try:
        sign_in(page, admin.username, PASSWORD)
        page.goto("/admin/")
        nav = page.get_by_role("navigation", name="เมนูหลัก")
        button = nav.locator("summary")
        reports = nav.get_by_role("link", name="รายงาน")
        shot = SHOTS / f"admin-{viewport['width']}{'' if javascript else '-nojs'}.png"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot))
        if viewport is PHONE:
            assert button.is_visible() and not reports.is_visible()
            header = page.locator(".site-header").bounding_box()
            assert header["height"] < 0.2 * viewport["height"], header
            button.click()
            assert reports.is_visible()
            page.screenshot(path=str(shot.with_name(shot.stem + "-open.png")))
        else:
            assert not button.is_visible() and reports.is_visible()
        # Learner-only items are not an admin's, who learns nothing here.
        assert nav.get_by_role("link", name="ประกาศนียบัตรของฉัน").count() == 0
        if javascript:  # axe runs as a script in the page
            assert_accessible(page)
    finally:
        context.close()


def test_verify_page_shares_and_copies_the_link_at_phone_width(
    browser, live_server, make_user, make_course, complete_course
):
    user = make_user(full_name="นางสาวมะลิ ขายดี")
    cert = complete_course(user, make_course())
    context = browser.new_context(viewport=PHONE, base_url=live_server, is_mobile=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page = context.new_page()
    try:
        outside = []
        page.on("request", lambda r: outside.append(r.url) if live_server not in r.url else None)
        page.goto(f"/verify/{cert.display_code}")
        image = page.get_by_role("img", name="ภาพประกาศนียบัตร")
        image.scroll_into_view_if_needed()
        page.wait_for_function("() => document.querySelector('.cert-image').naturalWidth === 1200")
        assert page.get_by_role("link", name="แชร์ไปที่ LINE").is_visible()
        assert page.get_by_role("link", name="แชร์ไปที่ Facebook").is_visible()
        page.get_by_role("button", name="คัดลอกลิงก์").click()
        expect(page.locator(".cert-copied")).to_have_text("คัดลอกลิงก์แล้ว")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == f"{live_server}/verify/{cert.display_code}"
        with page.expect_download() as download:
            page.get_by_role("link", name="ดาวน์โหลดเป็นรูปภาพ").click()
        assert download.value.suggested_filename.endswith(".png")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "verify-360.png"), full_page=True)
        assert_accessible(page)
        assert outside == []  # no script, font or image of LINE's or Facebook's
    finally:
        context.close()
