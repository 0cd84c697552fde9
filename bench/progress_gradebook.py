"""How long the class gradebook takes, and how many queries it runs, for a class of 40
learners in a starter-sized course (4 modules, 14 lessons, 4 quizzes) with full history.

    .venv/bin/python -m bench.progress_gradebook            # SQLite in a temporary folder
    DATABASE_URL=postgresql://... .venv/bin/python -m bench.progress_gradebook
    .venv/bin/python -m bench.progress_gradebook --learners 200 --runs 50

The history is made through the real signals and services, as the lesson and quiz pages do.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time

from sqlalchemy import event

from academy import create_app
from academy.auth.models import User
from academy.classes.models import Class, ClassCourse, ClassInstructor, ClassMember
from academy.core import signals
from academy.core.db import utcnow
from academy.courses.models import PUBLISHED, Course, Enrolment, Lesson, Module
from academy.extensions import db
from academy.quizzes.models import SUBMITTED, Attempt, Quiz
from bench import open_session

LESSONS_PER_MODULE = (3, 4, 4, 3)  # 14 lessons, and one quiz per module
NO_SIGN_IN = "!"  # not a password hash at all: nobody signs in as a bench user


def seed(learners: int, rng: random.Random) -> tuple[int, int, int]:
    course = Course(slug="starter", title_th="เริ่มต้นขายบน TikTok Shop", status=PUBLISHED)
    db.session.add(course)
    db.session.flush()
    lessons, quizzes = [], []
    for m, count in enumerate(LESSONS_PER_MODULE, start=1):
        module = Module(course_id=course.id, key=f"m{m}", position=m, title_th=f"บทที่ {m}")
        db.session.add(module)
        db.session.flush()
        for i in range(1, count + 1):
            lesson = Lesson(course_id=course.id, module_id=module.id, key=f"m{m}-l{i}",
                            position=i, title_th=f"บทเรียน {m}.{i}")  # fmt: skip
            lessons.append(lesson)
        quiz = Quiz(course_id=course.id, module_id=module.id, key=f"m{m}-q", position=count + 1,
                    title_th=f"แบบทดสอบบทที่ {m}", pass_mark=60)  # fmt: skip
        quizzes.append(quiz)
    db.session.add_all(lessons + quizzes)
    teacher = User(username="benchteacher", full_name="ครูทดสอบ", role="instructor",
                   password_hash=NO_SIGN_IN)  # fmt: skip
    klass = Class(name="ม.2/1")
    db.session.add_all([teacher, klass])
    db.session.flush()
    db.session.add(ClassInstructor(class_id=klass.id, user_id=teacher.id))
    db.session.add(ClassCourse(class_id=klass.id, course_id=course.id))
    db.session.commit()
    for n in range(learners):
        user = User(username=f"bench{n:03d}", full_name=f"นักเรียน {n:03d}", role="learner",
                    password_hash=NO_SIGN_IN)  # fmt: skip
        db.session.add(user)
        db.session.flush()
        db.session.add(ClassMember(class_id=klass.id, user_id=user.id))
        db.session.add(Enrolment(user_id=user.id, course_id=course.id, source="class"))
        db.session.flush()
        signals.enrolled.send(user, course=course)
        reached = rng.randint(0, len(lessons))
        for index, lesson in enumerate(lessons[:reached]):
            for _ in range(rng.randint(1, 3)):  # a few visits each
                signals.lesson_viewed.send(user, lesson=lesson, seconds=rng.randint(30, 600))
            signals.lesson_done.send(user, lesson=lesson)
            for q, quiz in enumerate(quizzes):  # the module's quiz after its last lesson
                if index + 1 == sum(LESSONS_PER_MODULE[: q + 1]):
                    for number in range(1, rng.randint(1, 3) + 1):
                        percent = float(rng.randint(20, 100))
                        attempt = Attempt(quiz_id=quiz.id, user_id=user.id, number=number,
                                          status=SUBMITTED, submitted_at=utcnow(),
                                          percent=percent, passed=percent >= 60)  # fmt: skip
                        db.session.add(attempt)
                        db.session.flush()
                        signals.attempt_graded.send(user, attempt=attempt, quiz=quiz)
        db.session.commit()
    return teacher.id, klass.id, course.id


def measure(app, url: str, teacher_id: int, runs: int) -> tuple[list[float], int, int]:
    client = app.test_client()
    with app.app_context():
        teacher = db.session.get(User, teacher_id)
        with client.session_transaction() as session:
            session["_user_id"] = teacher.get_id()
            session["sid"] = open_session(app, teacher.id)
            session["_fresh"] = True
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    client.get(url).get_data()  # warm up: templates compiled, connections open
    event.listen(engine, "before_cursor_execute", count)
    response = client.get(url)
    size = len(response.get_data())
    assert response.status_code == 200, response.status_code
    queries = len(statements)
    event.remove(engine, "before_cursor_execute", count)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        client.get(url).get_data()
        times.append((time.perf_counter() - start) * 1000)
    return times, queries, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=40)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="academy-bench-")
    config = {"SECRET_KEY": "bench", "TESTING": False}
    if not os.environ.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{folder}/bench.db"
    app = create_app(config, instance_path=folder)
    with app.app_context():
        db.drop_all()
        db.create_all()
        start = time.perf_counter()
        teacher_id, class_id, course_id = seed(args.learners, random.Random(6))
        seeded = time.perf_counter() - start
        events = db.session.execute(db.text("SELECT count(*) FROM progress_events")).scalar()
        backend = db.engine.dialect.name
    print(f"{backend}: {args.learners} learners x 14 lessons + 4 quizzes, {events} events "
          f"(seeded in {seeded:.1f} s)")  # fmt: skip
    for label, url in (
        ("gradebook", f"/classes/{class_id}/gradebook?course={course_id}"),
        ("gradebook.csv", f"/classes/{class_id}/gradebook.csv?course={course_id}"),
        ("stuck", f"/classes/{class_id}/stuck?course={course_id}"),
    ):
        times, queries, size = measure(app, url, teacher_id, args.runs)
        print(f"{label:14s} median {statistics.median(times):6.1f} ms  "
              f"p95 {sorted(times)[int(0.95 * (len(times) - 1))]:6.1f} ms  "
              f"{queries} queries  {size / 1024:.0f} KiB")  # fmt: skip
    with app.app_context():
        db.drop_all()


if __name__ == "__main__":
    main()
