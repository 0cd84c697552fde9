"""Time the hot pages in-process (Flask test client, no HTTP server): ms per request.

    .venv/bin/python -m bench.inprocess [--n 300] [--profile lesson]

A throwaway SQLite instance with the starter courses (bench/seed.py) and a few learners; each
page is requested n times by a signed-in learner (anonymous for sign-in) after a warm-up, and
the median and mean CPU time of the request (thread time: steadier than wall-clock time on a
shared machine) are printed. `--profile NAME` prints a pyinstrument profile of
that page (pip install pyinstrument; not a project dependency).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

from bench import open_session


def _with_gzip(extra: dict) -> dict:
    return {**extra, "headers": {"Accept-Encoding": "gzip", **extra.get("headers", {})}}


class _CProfile:
    """cProfile where pyinstrument is not installed: the functions by own time, and by
    cumulative time, with call counts (how many locale lookups a page makes, say)."""

    def __init__(self) -> None:
        import cProfile

        self.profile = cProfile.Profile()

    def start(self) -> None:
        self.profile.enable()

    def stop(self) -> None:
        self.profile.disable()

    def report(self) -> None:
        import pstats

        stats = pstats.Stats(self.profile).strip_dirs()
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)


class _Pyinstrument:
    def __init__(self) -> None:
        from pyinstrument import Profiler

        self.profile = Profiler(interval=0.0005)

    def start(self) -> None:
        self.profile.start()

    def stop(self) -> None:
        self.profile.stop()

    def report(self) -> None:
        print(self.profile.output_text(unicode=False, color=False, show_all=False))


def _profiler():
    try:
        import pyinstrument  # noqa: F401
    except ImportError:
        return _CProfile()
    return _Pyinstrument()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--profile", default=None)
    parser.add_argument("--pages", default=None, help="comma-separated page names")
    parser.add_argument("--json", default=None, help="write {page: median ms} to this file")
    parser.add_argument("--calls", action="store_true",
                        help="also Python function calls per request (cProfile): a count that "
                             "does not move with the machine's load")  # fmt: skip
    args = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="academy-inprocess.")
    url = f"sqlite:///{folder}/academy.db"
    os.environ.update(ACADEMY_INSTANCE_PATH=folder, DATABASE_URL=url)

    from sqlalchemy import select, text

    from academy import create_app
    from academy.auth.models import User
    from academy.extensions import db
    from bench import seed

    app = create_app({"SECRET_KEY": "inprocess"}, instance_path=folder)
    with app.app_context():
        db.create_all()
    seed.generate(app, "small", url)
    with app.app_context():
        user = db.session.scalar(
            select(User).where(User.role == "learner", User.username.like("s%-%")).order_by(User.id)
        )
        slug, key = db.session.execute(
            text(
                "SELECT c.slug, l.key FROM lessons l JOIN courses c ON c.id = l.course_id "
                "ORDER BY c.id, l.position, l.id"
            )
        ).first()
        quiz_id = db.session.scalar(text("SELECT id FROM quizzes ORDER BY id"))
        user_id = user.id
    client = app.test_client()
    with client.session_transaction() as s:
        s["_user_id"] = f"{user_id}:1"
        s["sid"] = open_session(app, user_id)
        s["_fresh"] = True
    anonymous = app.test_client()
    # A quiz attempt to look at and answer.
    from bench.__main__ import csrf_from

    token = csrf_from(client.get(f"/quizzes/{quiz_id}").get_data(as_text=True))
    started = client.post(f"/quizzes/{quiz_id}/start", data={"csrf_token": token})
    assert started.status_code == 302, started.status_code
    with app.app_context():
        from academy.quizzes.models import Attempt, Question

        attempt = db.session.scalar(
            select(Attempt).where(Attempt.user_id == user_id).order_by(Attempt.id.desc())
        )
        ids = [int(item["question_id"]) for item in attempt.layout]
        kinds = dict(db.session.execute(select(Question.id, Question.type)).all())
        values = {"single": 0, "truefalse": True, "multiple": [0], "short": "x"}
        question = next(q for q in ids if kinds[q] in values)
        answer = {"question_id": question, "value": values[kinds[question]]}
        attempt_path = f"/attempts/{attempt.id}"
    from bench.hello import app as hello_app

    pages = {
        # The ceiling, in the same run: a bare Flask "hello" through the same test client.
        "hello": (hello_app.test_client(), "GET", "/"),
        "home": (client, "GET", "/"),
        "dashboard": (client, "GET", "/dashboard"),
        "catalogue": (client, "GET", "/courses"),
        "course": (client, "GET", f"/courses/{slug}"),
        "lesson": (client, "GET", f"/courses/{slug}/lessons/{key}"),
        "quiz": (client, "GET", f"/quizzes/{quiz_id}"),
        "attempt": (client, "GET", attempt_path),
        "answer (JSON)": (client, "POST", attempt_path + "/responses"),
        "certificates": (client, "GET", "/certificates"),
        "sign-in": (anonymous, "GET", "/sign-in"),
    }
    if args.pages:
        pages = {k: v for k, v in pages.items() if k in ["hello", *args.pages.split(",")]}
    print(f"load average {_load()}")
    print(
        f"{'page':<14} {'status':>6} {'CPU median ms':>14} {'mean ms':>8} {'KB':>6} {'x hello':>8}"
    )
    ceiling = None
    medians: dict[str, float] = {}
    for name, (c, method, path) in pages.items():
        extra = {"json": answer, "headers": {"X-CSRFToken": token}} if method == "POST" else {}
        for _ in range(20):
            r = c.open(path, method=method, **_with_gzip(extra))
        times = []
        profiler = None
        if args.profile == name:
            profiler = _profiler()
            profiler.start()
        for _ in range(args.n):
            t = time.thread_time()
            r = c.open(path, method=method, **_with_gzip(extra))
            times.append(time.thread_time() - t)
        if profiler:
            profiler.stop()
            profiler.report()
        median = statistics.median(times)
        medians[name] = median * 1000
        ceiling = ceiling or median  # hello comes first
        again = lambda c=c, path=path, method=method, extra=extra: c.open(  # noqa: E731
            path, method=method, **_with_gzip(extra)
        )
        calls = f" {_calls(again):>7}" if args.calls else ""
        print(
            f"{name:<14} {r.status_code:>6} {median * 1000:>14.2f} "
            f"{statistics.mean(times) * 1000:>8.2f} {len(r.data) / 1024:>6.1f} "
            f"{median / ceiling:>8.1f}{calls}"
        )
    print(f"load average {_load()}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(medians, out)
    return 0


def _calls(request, n: int = 20) -> int:
    """Python function calls per request, counted by cProfile over n requests."""
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.enable()
    for _ in range(n):
        request()
    profile.disable()
    return round(pstats.Stats(profile).total_calls / n)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
