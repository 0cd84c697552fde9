"""Time the admin reports, from the rollup and from the rows, and the full CSV export.

    python -m bench.reports city [DATABASE_URL] [--no-generate] [--rebuild]

Generates the preset with bench.gen_city (unless --no-generate), creates the completion
rollup if the database lacks it and fills it (`rollup.rebuild`, what migration 0006 does; again
with --rebuild), then prints the query plan of completion by school from the rollup, times each
completion report both ways (the rollup's, which the pages use, and the rows' that it replaced),
the report pages through the app, and the full learners CSV streamed through the app: its size,
MB/s and the process's peak RSS above where it started (constant memory: it must not grow with
the rows).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from functools import partial
from pathlib import Path

from sqlalchemy import text

from bench import open_session

PAGE = Path("/proc/self/statm")


def _rss_mb() -> float:
    import os

    return int(PAGE.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _timed(function):
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def run(preset: str, database_url: str, generate: bool = True, rebuild: bool = False) -> None:
    from academy import create_app
    from academy.auth.models import User
    from academy.extensions import db
    from academy.reports import rollup, services
    from academy.reports.models import CompletionCount
    from bench.gen_city import generate as gen

    if generate:
        gen(preset, database_url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"},
                     instance_path=tempfile.mkdtemp())  # fmt: skip
    with app.app_context():
        db.create_all()  # the rollup's tables and triggers, where the database lacks them
        if rebuild or db.session.query(CompletionCount).first() is None:
            (counts, learners), seconds = _timed(lambda: rollup.rebuild(db.session.connection()))
            db.session.execute(text("ANALYZE"))
            db.session.commit()
            print(f"rollup rebuilt: {counts:,} count rows, {learners:,} learner rows "
                  f"in {seconds:.1f} s")  # fmt: skip
        dialect = db.engine.dialect
        query = services.report_query("school", services.Filters())
        sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        print("-- completion by school (rollup):\n" + sql)
        prefix = (
            "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
        )
        for row in db.session.execute(text(prefix + sql)):
            print("   ", " | ".join(str(v) for v in row))
        school = db.session.execute(text("SELECT MIN(school_id) FROM users")).scalar()
        track = db.session.execute(text("SELECT MIN(track_id) FROM courses")).scalar()
        cases = [(by, services.Filters(), "") for by in services.DIMENSIONS] + [
            ("course", services.Filters(school_id=school), " (one school)"),
            ("school", services.Filters(track_id=track), " (one track)"),
        ]
        print(f"{'report':<34} {'groups':>6} {'rollup':>8} {'rows':>8}")
        for by, filters, note in cases:
            kept, fast = _timed(partial(services.completion, by, filters))
            raw, slow = _timed(partial(services.rows_of, services.completion_query(by, filters)))
            same = "same" if sorted(kept, key=repr) == sorted(raw, key=repr) else "DIFFERENT"
            print(f"completion by {by + note:<20} {len(kept):>6} {fast:>7.3f}s {slow:>7.2f}s "
                  f"{same}")  # fmt: skip
        _, seconds = _timed(lambda: services.monthly(services.Filters()))
        print(f"monthly (12 months)               {seconds:>15.2f}s")
        admin = db.session.query(User).filter(User.role == "instructor").first()
        admin.role = "admin"
        db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = admin.get_id()
            session["sid"] = open_session(app, admin.id)
        for by in services.DIMENSIONS:
            path = f"/reports/?by={by}"
            response, seconds = _timed(lambda: client.get(path))  # noqa: B023 - called at once
            print(f"GET {path:<38} {response.status_code} "
                  f"{len(response.get_data()):>10,} bytes {seconds:6.3f} s")  # fmt: skip
        _, seconds = _timed(lambda: client.get("/reports/months"))
        print(f"GET {'/reports/months':<38} {seconds:6.3f} s")
        # The full export, read as a browser would (chunk by chunk), never held whole here.
        path = "/reports/export.csv?report=learners"
        base = peak = _rss_mb()
        started = time.perf_counter()
        response = client.get(path, buffered=False)
        size = 0
        for n, chunk in enumerate(response.iter_encoded()):
            size += len(chunk)
            if n % 20 == 0:
                peak = max(peak, _rss_mb())
        response.close()
        seconds = time.perf_counter() - started
        print(f"GET {path:<38} {response.status_code} {size:>10,} bytes {seconds:6.2f} s "
              f"{size / 2**20 / seconds:6.1f} MB/s, peak RSS +{peak - base:.1f} MB "
              f"(from {base:.0f} MB)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("preset")
    parser.add_argument("database_url", nargs="?", default="sqlite:////tmp/bench-reports.db")
    parser.add_argument("--no-generate", action="store_true")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the rollup first")
    args = parser.parse_args()
    run(args.preset, args.database_url, not args.no_generate, args.rebuild)


if __name__ == "__main__":
    main()
