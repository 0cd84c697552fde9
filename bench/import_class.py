"""Time the class import (check + create + enrol) for a CSV of N learners on a fresh database.

python -m bench.import_class 40 10000 [--database-url sqlite:////tmp/import.db]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def run(rows: int, database_url: str) -> dict[str, float]:
    from academy import create_app
    from academy.classes import importer
    from academy.classes.models import Class, Room, School
    from academy.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"},
                     instance_path=tempfile.mkdtemp())  # fmt: skip
    with app.app_context(), app.test_request_context():
        db.create_all()
        stamp = int(time.time() * 1000) % 10_000_000
        school = School(name=f"bench import {stamp}")
        db.session.add(school)
        db.session.flush()
        room = Room(school_id=school.id, name="ห้อง 1", seats=40)
        db.session.add(room)
        db.session.flush()
        klass = Class(name=f"bench {rows}", room_id=room.id)
        db.session.add(klass)
        db.session.commit()
        data = "\ufeffusername,full_name\n" + "".join(
            f"b{stamp}-{i},นักเรียน ทดสอบ {i}\n" for i in range(rows)
        )
        t0 = time.perf_counter()
        plan = importer.check(importer.parse(data.encode()), klass)
        t1 = time.perf_counter()
        assert plan.ok, plan.problems[:3]
        importer.apply(plan, klass)
        db.session.commit()
        t2 = time.perf_counter()
        return {"rows": rows, "dry_run_s": round(t1 - t0, 3), "import_s": round(t2 - t1, 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", type=int, nargs="+")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    for rows in args.rows:
        url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'import.db'}"
        print(run(rows, url), flush=True)


if __name__ == "__main__":
    main()
