"""The period's hot requests, in process (Flask test client, no HTTP server), CPU ms each.

    .venv/bin/python -m bench.period_poll [--n 2000] [--learners 40]

A throwaway SQLite instance with one class of `--learners` learners in a running period (every
learner has opened a lesson and half answered the quiz). Printed, in the same run so the
machine's speed cancels out: the bare Flask hello (bench/hello.py, the ceiling), the learner's
poll answered 304 (nothing changed: the request 40 PCs make every 5 seconds), the same poll
answered 200, and the teacher's board (page and JSON), each with the statements SQLite ran
for it (BEGIN and COMMIT included). Thread CPU time,
median and mean; `ratio` is hello's median over the row's, i.e. the share of the ceiling's
requests per second the row can serve. Issue 14's targets: the 304 at most 0.3 ms and at least
half the ceiling; the board of 40 under 20 ms with a fixed number of queries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta


def _cpu(client, path: str, n: int, headers: dict | None = None) -> tuple[int, list[float]]:
    for _ in range(50):
        response = client.get(path, headers=headers or {})
    times = []
    for _ in range(n):
        t = time.thread_time()
        response = client.get(path, headers=headers or {})
        response.get_data()
        times.append(time.thread_time() - t)
    return response.status_code, times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--learners", type=int, default=40)
    args = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="academy-period-poll.")
    url = f"sqlite:///{folder}/academy.db"
    os.environ.update(ACADEMY_INSTANCE_PATH=folder, DATABASE_URL=url)

    from sqlalchemy import event

    from academy import create_app
    from academy.auth.models import User
    from academy.classes import services as classes
    from academy.classes.models import Class, ClassCourse, ClassInstructor, Room, School
    from academy.core.clock import utcnow
    from academy.courses import services as courses
    from academy.courses.models import PUBLISHED, Course, Lesson, Module
    from academy.extensions import db
    from academy.periods import services as periods
    from academy.progress import services as progress
    from academy.quizzes.models import Quiz
    from bench.hello import app as hello

    app = create_app({"SECRET_KEY": "period-poll"}, instance_path=folder)
    with app.app_context():
        db.create_all()
        now = utcnow()
        unusable = "!"  # no one signs in with a password here: the bench sets the session
        teacher = User(
            username="teacher", full_name="ครู", password_hash=unusable, role="instructor"
        )
        learners = [
            User(
                username=f"s{i:02d}",
                full_name=f"นักเรียน {i}",
                password_hash=unusable,
                role="learner",
            )
            for i in range(args.learners)
        ]
        school = School(name="โรงเรียน")
        db.session.add_all([teacher, *learners, school])
        db.session.flush()
        room = Room(school_id=school.id, name="ห้องคอม 1")
        course = Course(slug="digital", title_th="ทักษะดิจิทัล", status=PUBLISHED)
        db.session.add_all([room, course])
        db.session.flush()
        module = Module(course_id=course.id, key="m1", position=1, title_th="บทที่ 1")
        db.session.add(module)
        db.session.flush()
        lessons = [
            Lesson(course_id=course.id, module_id=module.id, key=f"l{i}", position=i,
                   title_th=f"บทเรียน {i}", body="", body_html="")
            for i in range(1, 6)
        ]  # fmt: skip
        quiz = Quiz(course_id=course.id, module_id=module.id, key="q", position=9, title_th="ทดสอบ")
        klass = Class(name="ม.2/1", room_id=room.id)
        db.session.add_all([*lessons, quiz, klass])
        db.session.flush()
        db.session.add_all(
            [ClassInstructor(class_id=klass.id, user_id=teacher.id),
             ClassCourse(class_id=klass.id, course_id=course.id)]
        )  # fmt: skip
        classes.add_members(klass, [u.id for u in learners])
        classes.new_join_code(klass)
        for learner in learners:
            courses.enrol(learner, course)
        period = periods.start(
            klass, teacher, [c.value for c in periods.choices_for(klass)], follow_me=True,
            now=now - timedelta(minutes=5),
        )  # fmt: skip
        for n, learner in enumerate(learners):
            progress.record_view(learner, lessons[n % len(lessons)])
        db.session.commit()
        learner_id, teacher_id, class_id = learners[0].id, teacher.id, klass.id
        del period

    def signed_in(user_id: int):
        from academy.auth.services import start_session

        with app.app_context():
            token = start_session(db.session.get(User, user_id))
            db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = f"{user_id}:1"
            session["_fresh"] = True
            session["sid"] = token
        return client

    learner, board = signed_in(learner_id), signed_in(teacher_id)
    etag = learner.get("/period/now").headers["ETag"]
    statements = []

    def trace(connection, _record):
        # Every statement SQLite runs (BEGIN and COMMIT too), however it was sent: the poll's
        # shortcut talks to the driver without SQLAlchemy's events.
        connection.set_trace_callback(statements.append)

    with app.app_context():
        db.engine.dispose()  # the connections made from now on are traced
        event.listen(db.engine, "connect", trace)
    rows = [
        ("bare Flask hello", hello.test_client(), "/", None),
        ("Academy /healthz", app.test_client(), "/healthz", None),
        ("poll 304", learner, "/period/now", {"If-None-Match": etag}),
        ("poll 200", learner, "/period/now", None),
        ("board page", board, f"/classes/{class_id}/period/board", None),
        ("board JSON", board, f"/classes/{class_id}/period/board.json", None),
    ]
    print(f"{args.learners} learners, n={args.n}")
    header = ("request", "status", "CPU median ms", "mean ms", "ratio", "statements")
    print("{:<18} {:>6} {:>14} {:>8} {:>6} {:>10}".format(*header))
    ceiling = None
    for name, client, path, headers in rows:
        status, times = _cpu(client, path, args.n if "board" not in name else args.n // 10, headers)
        statements.clear()
        client.get(path, headers=headers or {})
        queries = len(statements)
        median = statistics.median(times)
        ceiling = ceiling or median
        print(
            f"{name:<18} {status:>6} {median * 1000:>14.3f} {statistics.mean(times) * 1000:>8.3f}"
            f" {ceiling / median:>6.2f} {queries if name != 'bare Flask hello' else '-':>10}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
