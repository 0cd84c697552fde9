"""Browser tests: Debian's Chromium driven by Playwright against the app served on loopback.

No browser is downloaded: Playwright drives /usr/bin/chromium (Debian's package)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("ACADEMY_CHROMIUM", "/usr/bin/chromium")
# The flags keep Chromium from reaching for Google's services, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE = {"width": 360, "height": 740}
PC = {"width": 1366, "height": 768}


def pytest_collection_modifyitems(items):
    for item in items:
        if "/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            # One worker runs all browser tests: one Chromium per run, not one per worker.
            item.add_marker(pytest.mark.xdist_group("browser"))


class _ClosedEvenWhenDropped:
    """The response's iterable, closed when werkzeug's test server forgets to.

    When Chromium drops a connection (a stylesheet load cancelled by the next navigation),
    werkzeug's request handler raises while draining the socket, before it calls close() on
    the response, so a static file stays open until the garbage collector finds it, and the
    ResourceWarning fails whichever test is running (`pytest -W error`). Production servers
    (granian, gunicorn) close it themselves."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def __iter__(self):
        return iter(self._inner)

    def close(self) -> None:
        inner, self._inner = self._inner, ()
        close = getattr(inner, "close", None)
        if close is not None:
            close()

    __del__ = close


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    def closing_app(environ, start_response):
        return _ClosedEvenWhenDropped(app(environ, start_response))

    server = make_server("127.0.0.1", 0, closing_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: make test installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _on_suite_clock(context):
    """Under ACADEMY_TEST_CLOCK the page's clock (Date, timers) starts at the suite's moment,
    the one the server in this process reads; otherwise the browser keeps the real clock."""
    if os.environ.get("ACADEMY_TEST_CLOCK"):
        context.clock.install(time=datetime.now(UTC))
    return context


@pytest.fixture
def page(browser, live_server):
    """A fresh browser profile (no cookies) per test, at PC width. The service worker is
    blocked: its background fetches of the shell would race the test's teardown; the tests of
    the worker itself use `sw_page`."""
    yield from _pc_page(browser, live_server, service_workers="block")


@pytest.fixture
def sw_page(browser, live_server):
    """As `page`, with the service worker allowed to install."""
    yield from _pc_page(browser, live_server, service_workers="allow")


@pytest.fixture
def sw_phone_page(browser, live_server):
    """As `sw_page`, in a 360 px phone context (touch, mobile viewport)."""
    yield from _pc_page(
        browser, live_server, service_workers="allow", viewport=PHONE, is_mobile=True,
        has_touch=True,
    )  # fmt: skip


def _pc_page(browser, live_server, service_workers: str, viewport=PC, **options):
    context = _on_suite_clock(
        browser.new_context(
            viewport=viewport, base_url=live_server, service_workers=service_workers, **options
        )
    )
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, live_server):
    context = _on_suite_clock(
        browser.new_context(
            viewport=PHONE,
            base_url=live_server,
            is_mobile=True,
            has_touch=True,
            service_workers="block",
        )
    )
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, username: str, password: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("ชื่อผู้ใช้").fill(username)
    page.get_by_label("รหัสผ่าน").fill(password)
    page.get_by_role("button", name="เข้าสู่ระบบ").last.click()
    page.wait_for_load_state()


def assert_accessible(page, *, allow: tuple[str, ...] = ()) -> None:
    """axe-core on the page as it is now: no serious or critical finding."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical") and v["id"] not in allow
    ]
    assert not bad, f"accessibility problems on {page.url}:\n" + "\n".join(bad)


def external_requests(page) -> list[str]:
    """Start recording requests that leave the app's host; returns the live list."""
    seen: list[str] = []
    page.on(
        "request",
        lambda r: (
            seen.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:")) else None
        ),
    )
    return seen
