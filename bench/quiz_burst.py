"""A class of 40 starting and submitting the same quiz at once, against the default server on
loopback (academy/serve.py, as `make run`).

    .venv/bin/python bench/quiz_burst.py [--learners 40] [--workers N] [--port 0]

Builds a throwaway instance (SQLite, WAL) in a temporary folder, creates the learners and a
quiz with one question of each type, serves the app on 127.0.0.1, then starts one
thread per learner: sign in, (all together) start the quiz, save every answer as the page does
(one JSON request per answer), submit. Prints p50/p95/p99 latency per step, the errors, and
checks the database: one submitted attempt and every answer per learner.
Only loopback targets are allowed: this is a load generator.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from academy.serve import command_for  # noqa: E402 (needs ROOT on the path)

PASSWORD = "bench-password-1"  # noqa: S105 - throwaway accounts in a temporary database
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def loopback_only(host: str) -> str:
    try:
        address = ipaddress.ip_address(socket.gethostbyname(host))
    except (OSError, ValueError):
        raise SystemExit(f"refusing {host!r}: not a loopback address") from None
    if not address.is_loopback:
        raise SystemExit(f"refusing {host!r}: this benchmark only targets loopback (127.0.0.1)")
    return str(address)


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def seed(instance: str, learners: int) -> tuple[int, list[str], dict[int, object]]:
    from academy import create_app
    from academy.auth.models import User
    from academy.auth.services import hash_password
    from academy.courses.models import Course, Enrolment, Module
    from academy.extensions import db
    from academy.quizzes import bank
    from academy.quizzes.models import Question, Quiz
    from academy.quizzes.questions import Question as QuestionData
    from tests.fixtures.quizzes import RIGHT, SAMPLE_QUESTIONS

    app = create_app(instance_path=instance)
    with app.app_context():
        db.create_all()
        password_hash = hash_password(PASSWORD)
        course = Course(slug="bench", title_th="วิชาทดสอบความเร็ว", status="published")
        course.modules.append(Module(key="m1", position=1, title_th="บทที่ 1"))
        db.session.add(course)
        db.session.flush()
        quiz = Quiz(
            course_id=course.id,
            module_id=course.modules[0].id,
            key="burst",
            title_th="แบบทดสอบพร้อมกันทั้งห้อง",
            time_limit_minutes=40,
            attempts_allowed=1,
            shuffle_answers=True,
        )
        db.session.add(quiz)
        db.session.flush()
        answers = {}
        for position, data in enumerate(SAMPLE_QUESTIONS, start=1):
            question = Question(quiz_id=quiz.id, position=position)
            bank.set_question(question, QuestionData.from_dict(data))
            db.session.add(question)
            db.session.flush()
            if data["title"] in RIGHT:
                answers[question.id] = RIGHT[data["title"]]
        names = []
        for n in range(1, learners + 1):
            user = User(
                username=f"student{n:02d}",
                full_name=f"นักเรียน {n}",
                role="learner",
                learner_kind="student",
                password_hash=password_hash,
            )
            db.session.add(user)
            db.session.flush()
            db.session.add(Enrolment(user_id=user.id, course_id=course.id, source="class"))
            names.append(user.username)
        db.session.commit()
        return quiz.id, names, answers


def check(instance: str, quiz_id: int, learners: int, answers: int) -> str:
    from sqlalchemy import func, select

    from academy import create_app
    from academy.extensions import db
    from academy.quizzes.models import SUBMITTED, Attempt, Response

    app = create_app(instance_path=instance)
    with app.app_context():
        attempts = db.session.scalar(
            select(func.count(Attempt.id)).where(
                Attempt.quiz_id == quiz_id, Attempt.status == SUBMITTED
            )
        )
        responses = db.session.scalar(select(func.count(Response.id)))
    ok = attempts == learners and responses == learners * answers
    return (
        f"database: {attempts}/{learners} attempts submitted, {responses}/{learners * answers} "
        f"answers saved -> {'OK' if ok else 'MISMATCH'}"
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=40)
    parser.add_argument(
        "--workers", type=int, default=None, help="server workers (WEB_CONCURRENCY)"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    host = loopback_only(args.host)
    port = args.port or free_port(host)
    base = f"http://{host}:{port}"

    instance = tempfile.mkdtemp(prefix="academy-bench-")
    os.environ["ACADEMY_INSTANCE_PATH"] = instance
    os.environ.pop("DATABASE_URL", None)
    quiz_id, names, answers = seed(instance, args.learners)

    env = dict(os.environ, ACADEMY_INSTANCE_PATH=instance, ACADEMY_LOG_LEVEL="WARNING")
    if args.workers:
        env["WEB_CONCURRENCY"] = str(args.workers)
    server = subprocess.Popen(
        command_for("default", host, port),  # as `make run` (academy/serve.py)
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(300):
            if server.poll() is not None:
                raise SystemExit("the server stopped during start-up (see above)")
            try:
                requests.get(f"{base}/sign-in", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        timings: dict[str, list[float]] = defaultdict(list)
        errors: list[str] = []
        lock = threading.Lock()
        signed_in = threading.Barrier(len(names))

        def timed(step: str, call):
            started = time.perf_counter()
            response = call()
            elapsed = time.perf_counter() - started
            with lock:
                timings[step].append(elapsed)
                if response.status_code >= 400:
                    errors.append(f"{step}: HTTP {response.status_code}")
            return response

        def learner(username: str) -> None:
            session = requests.Session()
            try:
                page = session.get(f"{base}/sign-in")
                token = CSRF.search(page.text).group(1)
                timed(
                    "sign in",
                    lambda: session.post(
                        f"{base}/sign-in",
                        data={"csrf_token": token, "username": username, "password": PASSWORD},
                    ),
                )
                signed_in.wait()  # the whole room presses Start in the same second
                token = CSRF.search(session.get(f"{base}/quizzes/{quiz_id}").text).group(1)
                attempt_page = timed(
                    "start (+ attempt page)",
                    lambda: session.post(
                        f"{base}/quizzes/{quiz_id}/start", data={"csrf_token": token}
                    ),
                )
                attempt_id = int(attempt_page.url.rstrip("/").rsplit("/", 1)[1])
                token = CSRF.search(attempt_page.text).group(1)
                for question_id, value in answers.items():
                    timed(
                        "save one answer",
                        lambda q=question_id, v=value: session.post(
                            f"{base}/attempts/{attempt_id}/responses",
                            json={"question_id": q, "value": v},
                            headers={"X-CSRFToken": token, "Accept": "application/json"},
                        ),
                    )
                timed(
                    "submit (+ result page)",
                    lambda: session.post(
                        f"{base}/attempts/{attempt_id}/submit", data={"csrf_token": token}
                    ),
                )
            except Exception as error:
                with lock:
                    errors.append(f"{username}: {type(error).__name__}: {error}")

        threads = [threading.Thread(target=learner, args=(name,)) for name in names]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        total = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)

    workers = args.workers or env.get("WEB_CONCURRENCY") or f"{os.cpu_count() * 2} (default)"
    print(f"{len(names)} learners, {len(answers)} answers each, workers: {workers}, SQLite")
    print(f"{'step':<26}{'n':>5}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for step in ("sign in", "start (+ attempt page)", "save one answer", "submit (+ result page)"):
        values = timings.get(step, [])
        if not values:
            print(f"{step:<26}{0:>5}")
            continue
        print(
            f"{step:<26}{len(values):>5}"
            + "".join(
                f"{1000 * v:>10.0f}"
                for v in (
                    statistics.median(values),
                    percentile(values, 0.95),
                    percentile(values, 0.99),
                    max(values),
                )
            )
        )
    print(f"whole class done in {total:.1f} s; errors: {len(errors)}")
    for error in errors[:10]:
        print("  ", error)
    print(check(instance, quiz_id, len(names), len(answers)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
