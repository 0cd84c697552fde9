"""Measure the lesson page: server render time, requests and bytes over the wire.

    .venv/bin/python bench/lesson_page.py [COURSE_FOLDER] [--renders 200]

Loads a starter course into a throwaway instance (SQLite), then
1. renders one of its lessons N times with the Flask test client (signed-in learner) and prints
   the median / p95 / mean server time;
2. opens the same lesson in Debian's Chromium (Playwright) on a cold cache and counts every
   request and its size, raw and gzip-compressed (what nginx with gzip on would send; fonts are
   woff2, already compressed).
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import open_session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "bench-" + "password-1"  # a throwaway account in a throwaway instance


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("course", nargs="?", default=None)
    parser.add_argument("--renders", type=int, default=200)
    args = parser.parse_args()

    from sqlalchemy import select
    from werkzeug.serving import make_server

    from academy import ROOT, create_app
    from academy.auth import services as auth
    from academy.courses.models import Lesson
    from academy.extensions import db
    from academy.studio import loader

    folder = (
        Path(args.course)
        if args.course
        else next(p for p in sorted((ROOT / "courses").iterdir()) if (p / "course.yml").is_file())
    )
    instance = tempfile.mkdtemp(prefix="academy-bench-")
    app = create_app({"SECRET_KEY": "bench"}, instance_path=instance)
    with app.app_context():
        db.create_all()
        course = loader.load_course(folder)
        lesson = db.session.scalar(
            select(Lesson)
            .where(Lesson.course_id == course.id)
            .order_by(Lesson.module_id, Lesson.position)
        )
        user, _ = auth.create_user("benchlearner", "ผู้เรียน", role="learner", password=PASSWORD)
        db.session.commit()
        url = f"/courses/{course.slug}/lessons/{lesson.key}"

        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["sid"] = open_session(app, user.id)
        for _ in range(10):  # warm up templates and caches
            assert client.get(url).status_code == 200
        times = []
        for _ in range(args.renders):
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        times.sort()
        print(f"lesson {url} ({folder.name}), {args.renders} renders on SQLite:")
        p95 = times[int(len(times) * 0.95) - 1]
        median, mean = statistics.median(times), statistics.mean(times)
        print(f"  median {median:.2f} ms, p95 {p95:.2f} ms, mean {mean:.2f} ms")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"]
        )
        context = browser.new_context(base_url=base, viewport={"width": 360, "height": 740})
        page = context.new_page()
        page.goto("/sign-in")
        page.fill("#username", "benchlearner")
        page.fill("#password", PASSWORD)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_load_state()
        seen = []
        page.on("requestfinished", lambda r: seen.append(r))
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        page.goto(url)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(500)
        total_raw = total_gz = 0
        print(f"lesson page in Chromium at 360 px, cold cache: {len(seen)} requests")
        for request in seen:
            response = request.response()
            try:
                body = response.body() if response else b""
            except Exception:  # a beacon (204) has no body to read
                body = b""
            kind = response.headers.get("content-type", "").split(";")[0] if response else ""
            compressed = (
                len(gzip.compress(body, 6))
                if body and kind.startswith(("text/", "application/javascript", "image/svg"))
                else len(body)
            )
            total_raw += len(body)
            total_gz += compressed
            path = request.url.replace(base, "")
            print(
                f"  {request.method:4} {path:64.64} {kind:22} {len(body):>7} B, gz {compressed:>7}"
            )
        print(f"  total {total_raw} B raw, {total_gz} B with gzip on text")
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
