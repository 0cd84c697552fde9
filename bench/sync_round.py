"""A school server's round of 100,000 progress events to the city, and the resume after a cut.

    .venv/bin/python -m bench.sync_round                      # both SQLite, in a temporary folder
    CITY_DATABASE_URL=postgresql+psycopg://... .venv/bin/python -m bench.sync_round
    .venv/bin/python -m bench.sync_round --events 20000 --batch 2000

The city answers on a loopback port (werkzeug, threaded, in this process); the school server
is a SQLite database with the stamping triggers on, as after `sync join`. The events go in as
bulk inserts (what a busy school writes over days), so the stamping triggers are measured too:
the same inserts with stamping off are timed first. The round is then cut when the city has
applied about half of it (its server stops), and resumed.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text
from werkzeug.serving import make_server

from academy import create_app
from academy.auth.models import User
from academy.core import transaction
from academy.core.clock import utcnow
from academy.courses.models import Course, Enrolment, Lesson
from academy.extensions import db
from academy.progress.models import ProgressEvent
from academy.studio import loader
from academy.sync import client, services
from academy.sync.models import SyncCounter, SyncPeer

NO_SIGN_IN = "!"  # not a password hash at all: nobody signs in as a bench user
COURSE = Path(__file__).resolve().parents[1] / "courses" / "digital-basics"


class City:
    def __init__(self, app) -> None:
        self.app = app
        self.server = None

    def start(self) -> str:
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def mark(self) -> int:
        with self.app.app_context():
            try:
                return db.session.scalar(select(SyncPeer.pushed_seq)) or 0
            finally:
                db.session.remove()


def _events(school, learners: int, events: int, stamping: bool) -> float:
    """Bulk-insert `events` events for `learners` learners; seconds taken."""
    with school.app_context(), transaction.unit_of_work():
        db.session.get(SyncCounter, 1).stamping = stamping
    with school.app_context():
        course = db.session.scalar(select(Course))
        lessons = db.session.scalars(select(Lesson.id).where(Lesson.course_id == course.id)).all()
        users = db.session.scalars(select(User.id).where(User.role == "learner")).all()
        start, now = time.perf_counter(), utcnow()
        rows = [
            {"user_id": users[n % learners], "course_id": course.id, "kind": "lesson_viewed",
             "lesson_id": lessons[n % len(lessons)], "value": 60.0,
             "at": now - timedelta(seconds=events - n)}
            for n in range(events)
        ]  # fmt: skip
        for chunk in range(0, events, 5000):
            db.session.execute(insert(ProgressEvent), rows[chunk : chunk + 5000])
            db.session.commit()
        seconds = time.perf_counter() - start
        db.session.remove()
    return seconds


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--learners", type=int, default=400)
    parser.add_argument("--batch", type=int, default=2000, help="rows per batch (SYNC_BATCH_ROWS)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="academy-bench-sync-"))
    city_url = os.environ.get("CITY_DATABASE_URL") or f"sqlite:///{folder / 'city.db'}"
    base = {"TESTING": False, "SECRET_KEY": "bench", "SYNC_BATCH_ROWS": args.batch}
    city_app = create_app(dict(base, SQLALCHEMY_DATABASE_URI=city_url), str(folder / "city"))
    school = create_app(
        dict(base, SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'school.db'}", SYNC_ROLE="school"),
        str(folder / "school"),
    )
    for app in (city_app, school):
        with app.app_context():
            db.create_all()
    city = City(city_app)
    url = city.start()
    with city_app.app_context(), transaction.unit_of_work():
        loader.load_course(COURSE)
        _peer, token = services.register("โรงเรียนทดสอบความเร็ว")
    with school.app_context(), transaction.unit_of_work():
        services.join(url, token)
    with school.app_context():
        services.run_round()  # the course comes down
    with school.app_context(), transaction.unit_of_work():
        school_id = services.link().school_id
        course = db.session.scalar(select(Course))
        for n in range(args.learners):
            user = User(username=f"b{n:05d}", full_name=f"ผู้เรียน {n}", password_hash=NO_SIGN_IN,
                        role="learner", learner_kind="student", school_id=school_id)  # fmt: skip
            db.session.add(user)
            db.session.flush()
            db.session.add(Enrolment(user_id=user.id, course_id=course.id))

    plain = _events(school, args.learners, args.events, stamping=False)
    with school.app_context():  # the unstamped copy is not part of the round
        db.session.execute(text("DELETE FROM progress_events"))
        db.session.commit()
    stamped = _events(school, args.learners, args.events, stamping=True)
    print(f"insert {args.events:,} events: {plain:.2f} s unstamped, {stamped:.2f} s stamped "
          f"({args.events / stamped:,.0f} events/s with the triggers)")  # fmt: skip

    with school.app_context():
        top = db.session.get(SyncCounter, 1).value
        db.session.remove()
    cut_at = top // 2
    result: dict = {}

    def round_() -> None:
        with school.app_context():
            try:
                result["done"] = services.run_round()
            except client.Unreachable as exc:
                result["error"] = str(exc)

    start = time.perf_counter()
    runner = threading.Thread(target=round_)
    runner.start()
    while runner.is_alive() and city.mark() < cut_at:
        time.sleep(0.05)
    city.stop()  # the link goes down halfway
    runner.join()
    cut = time.perf_counter() - start
    applied = city.mark()
    print(f"cut after {cut:.2f} s: the city had applied {applied:,} of {top:,} changes; "
          f"the round said: {result.get('error', 'finished before the cut')}")  # fmt: skip

    url = city.start()
    with school.app_context(), transaction.unit_of_work():
        services.link().city_url = url
    start = time.perf_counter()
    with school.app_context():
        done = services.run_round()
    resumed = time.perf_counter() - start
    print(f"resumed: {done.pushed_rows:,} rows in {done.batches} batches, {resumed:.2f} s "
          f"({done.pushed_rows / resumed:,.0f} rows/s)")  # fmt: skip
    with city_app.app_context():
        at_city = db.session.scalar(select(func.count()).select_from(ProgressEvent))
    print(f"events at the city: {at_city:,} (expected {args.events:,}); "
          f"whole round {cut + resumed:.2f} s")  # fmt: skip
    assert at_city == args.events, "lost or doubled events"
    city.stop()


if __name__ == "__main__":
    main()
