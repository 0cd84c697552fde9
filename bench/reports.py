"""Time the admin reports and show the query plan of the main report query.

    python -m bench.reports small [DATABASE_URL] [--no-generate]

Generates the preset with bench.gen_city (unless --no-generate), then times each report
function and the report pages through the app, and prints EXPLAIN (PostgreSQL) or EXPLAIN
QUERY PLAN (SQLite) for the completion-by-school query.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from sqlalchemy import text

from bench import open_session


def run(preset: str, database_url: str, generate: bool = True) -> None:
    from academy import create_app
    from academy.auth.models import User
    from academy.extensions import db
    from academy.reports import services
    from bench.gen_city import generate as gen

    if generate:
        gen(preset, database_url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"},
                     instance_path=tempfile.mkdtemp())  # fmt: skip
    with app.app_context():
        dialect = db.engine.dialect
        query = services.completion_query("school", services.Filters())
        sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        print("-- completion by school:\n" + sql)
        prefix = (
            "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
        )
        for row in db.session.execute(text(prefix + sql)):
            print("   ", " | ".join(str(v) for v in row))
        since = services._since(12)
        active = services.active_query(services.Filters(), since)
        sql = str(active.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        print("-- active learners per month:\n" + sql)
        for row in db.session.execute(text(prefix + sql)):
            print("   ", " | ".join(str(v) for v in row))
        for by in services.DIMENSIONS:
            t = time.perf_counter()
            rows = services.completion(by, services.Filters())
            print(f"completion by {by:<9}: {len(rows):>5} groups {time.perf_counter() - t:6.2f} s")
        t = time.perf_counter()
        services.monthly(services.Filters())
        print(f"monthly (12 months)     : {time.perf_counter() - t:6.2f} s")
        admin = db.session.query(User).filter(User.role == "instructor").first()
        admin.role = "admin"
        db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = admin.get_id()
            session["sid"] = open_session(app, admin.id)
        for path in ("/reports/?by=school", "/reports/?by=room", "/reports/months",
                     "/reports/export.csv?report=learners"):  # fmt: skip
            t = time.perf_counter()
            response = client.get(path)
            size = len(response.get_data())
            print(f"GET {path:<38} {response.status_code} {size:>10,} bytes "
                  f"{time.perf_counter() - t:6.2f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("preset")
    parser.add_argument("database_url", nargs="?", default="sqlite:////tmp/bench-reports.db")
    parser.add_argument("--no-generate", action="store_true")
    args = parser.parse_args()
    run(args.preset, args.database_url, not args.no_generate)


if __name__ == "__main__":
    main()
