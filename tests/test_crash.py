"""Crashes lose nothing: a class answers a quiz through the default server (2 workers) while a
worker is killed with SIGKILL; every answer the server acknowledged (200) must be in the
database, and the data must be consistent (no duplicate responses, no response outside the
attempt's layout, attempts within the quiz's limit). The same on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from academy import ROOT, create_app
from academy.auth.models import User
from academy.auth.services import hash_password, start_session
from academy.courses.models import PUBLISHED, Course, Enrolment, Module
from academy.extensions import db
from academy.quizzes import bank, taking
from academy.quizzes.models import Attempt, Question, Quiz, Response
from academy.quizzes.questions import Question as QuestionData
from academy.serve import command_for
from tests.fixtures.databases import postgres_database

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("crash")]

LEARNERS = 16
QUESTIONS = 5
ROUNDS = 10
SECRET = "crash-test-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(app) -> tuple[int, list[User]]:
    with app.app_context():
        db.create_all()
        course = Course(slug="crash", title_th="วิชา", status=PUBLISHED)
        course.modules.append(Module(key="m1", position=1, title_th="บท"))
        db.session.add(course)
        db.session.flush()
        quiz = Quiz(
            course_id=course.id,
            module_id=course.modules[0].id,
            key="q",
            position=1,
            title_th="แบบทดสอบ",
            attempts_allowed=2,
            shuffle_questions=True,
        )
        db.session.add(quiz)
        db.session.flush()
        for n in range(QUESTIONS):
            question = Question(quiz_id=quiz.id, position=n + 1, points=1)
            bank.set_question(
                question,
                QuestionData.from_dict(
                    {
                        "type": "short",
                        "title": f"Q{n}",
                        "text": f"คำถาม {n}",
                        "answers": [{"text": "ข้าว", "fraction": 1.0}],
                    }
                ),
            )
            db.session.add(question)
        hashed = hash_password("not-used-here")
        people = [
            User(
                username=f"crash{n}",
                full_name=f"นักเรียน {n}",
                role="learner",
                learner_kind="student",
                password_hash=hashed,
            )
            for n in range(LEARNERS)
        ]
        db.session.add_all(people)
        db.session.flush()
        db.session.add_all(Enrolment(user_id=p.id, course_id=course.id) for p in people)
        db.session.commit()
        ids = [(p.id, p.get_id()) for p in people]
        quiz_id = quiz.id
        db.session.remove()
        db.engine.dispose()
    return quiz_id, ids


def _session_for(app, user_id: int, user_ident: str) -> tuple[str, str]:
    raw = secrets.token_hex(20)
    with app.app_context():
        sid = start_session(db.session.get(User, user_id))
        db.session.commit()
        cookie = app.session_interface.get_signing_serializer(app).dumps(
            {"_user_id": user_ident, "_fresh": True, "csrf_token": raw, "sid": sid}
        )
        db.session.remove()
    token = URLSafeTimedSerializer(SECRET, salt="wtf-csrf-token").dumps(raw)
    return cookie, token


def _workers(master: int) -> set[int]:
    children = set()
    for task in Path(f"/proc/{master}/task").iterdir():
        children.update(int(p) for p in (task / "children").read_text().split())
    return children


def run_crash_test(tmp_path: Path, database_url: str) -> dict[str, int]:
    instance = tmp_path / "instance"
    config = {"TESTING": False, "SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": database_url}
    app = create_app(config, instance_path=str(instance))
    quiz_id, people = _seed(app)
    port = _free_port()
    env = dict(
        os.environ,
        ACADEMY_INSTANCE_PATH=str(instance),
        ACADEMY_SECRET_KEY=SECRET,
        DATABASE_URL=database_url,
        ACADEMY_GZIP_RESPONSES="false",
    )
    log = (tmp_path / "server.log").open("wb")
    # The default server, as `make run` starts it (academy/serve.py), with two workers.
    server = subprocess.Popen(
        command_for("default", "127.0.0.1", port),
        cwd=ROOT,
        env=dict(env, WEB_CONCURRENCY="2"),
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    acknowledged: dict[tuple[int, int], str] = {}  # (attempt id, question id) -> value
    errors: list[str] = []
    counters = {"acknowledged": 0, "retried": 0}
    lock = threading.Lock()
    try:
        for _ in range(200):
            try:
                if requests.get(base + "/healthz", timeout=10).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or a busy machine
                time.sleep(0.1)
        for _ in range(100):  # both workers booted
            if len(_workers(server.pid)) == 2:
                break
            time.sleep(0.1)
        assert len(_workers(server.pid)) == 2

        # Sessions opened one by one before the class starts: SQLite would refuse sixteen
        # threads upgrading their reads to writes at once (requests take the lock up front).
        sessions = {user_id: _session_for(app, user_id, ident) for user_id, ident in people}

        def learner(user_id: int, ident: str) -> None:
            cookie, token = sessions[user_id]
            http = requests.Session()
            http.cookies.set("session", cookie)
            headers = {"X-CSRFToken": token, "Accept": "application/json"}

            def call(method, url, **kw):
                for _ in range(50):  # the page retries until the server answers
                    try:
                        return http.request(method, base + url, timeout=10, **kw)
                    except requests.RequestException:
                        with lock:
                            counters["retried"] += 1
                        time.sleep(0.05)
                raise AssertionError(f"no answer for {url}")

            started = call(
                "POST",
                f"/quizzes/{quiz_id}/start",
                data={"csrf_token": token},
                allow_redirects=False,
            )
            attempt_id = int(started.headers["Location"].rstrip("/").split("/")[-1])
            with app.app_context():
                question_ids = taking.layout_ids(db.session.get(Attempt, attempt_id))
                db.session.remove()
            for round_no in range(ROUNDS):
                for question_id in question_ids:
                    value = f"คำตอบ {user_id}-{question_id}-{round_no}"
                    while True:
                        reply = call(
                            "POST",
                            f"/attempts/{attempt_id}/responses",
                            headers=headers,
                            json={"question_id": question_id, "value": value},
                        )
                        if reply.status_code == 200 and reply.json().get("saved"):
                            with lock:
                                acknowledged[(attempt_id, question_id)] = value
                                counters["acknowledged"] += 1
                            break
                        if reply.status_code >= 500 or reply.status_code == 502:
                            with lock:
                                counters["retried"] += 1
                            continue
                        errors.append(f"{reply.status_code} {reply.text[:200]}")
                        return

        threads = [threading.Thread(target=learner, args=p) for p in people]
        for thread in threads:
            thread.start()
        total = LEARNERS * QUESTIONS * ROUNDS
        while counters["acknowledged"] < total // 3 and any(t.is_alive() for t in threads):
            time.sleep(0.02)
        victim = sorted(_workers(server.pid))[0]
        os.kill(victim, signal.SIGKILL)
        killed_at = counters["acknowledged"]
        for thread in threads:
            thread.join(timeout=300)
        for _ in range(300):  # the server respawns the killed worker
            if len(_workers(server.pid) - {victim}) == 2:
                break
            time.sleep(0.1)
        workers_after = _workers(server.pid)
        assert victim not in workers_after and len(workers_after) == 2, "the worker was respawned"
        assert not errors, errors[:5]
        assert 0 < killed_at < total
        assert counters["acknowledged"] == total
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        log.close()

    with app.app_context():
        stored = {
            (a, q): v
            for a, q, v in db.session.execute(
                select(Response.attempt_id, Response.question_id, Response.value)
            )
        }
        missing = {k: v for k, v in acknowledged.items() if stored.get(k) != v}
        assert not missing, f"{len(missing)} acknowledged answers lost: {list(missing)[:5]}"
        duplicates = db.session.execute(
            select(Response.attempt_id, Response.question_id, func.count())
            .group_by(Response.attempt_id, Response.question_id)
            .having(func.count() > 1)
        ).all()
        assert not duplicates
        for attempt in db.session.scalars(select(Attempt)):
            layout = set(taking.layout_ids(attempt))
            answered = {q for (a, q) in stored if a == attempt.id}
            assert answered <= layout, f"attempt {attempt.id} has answers outside its layout"
        per_learner = db.session.execute(
            select(Attempt.user_id, func.count()).group_by(Attempt.user_id)
        ).all()
        assert all(1 <= n <= 2 for _, n in per_learner) and len(per_learner) == LEARNERS
        db.session.remove()
        db.engine.dispose()
    return {
        "acknowledged": len(acknowledged),
        "posts": counters["acknowledged"],
        "killed_after": killed_at,
        "retried": counters["retried"],
    }


def test_killed_worker_loses_no_acknowledged_answer_sqlite(tmp_path):
    figures = run_crash_test(tmp_path, f"sqlite:///{tmp_path / 'crash.db'}")
    print("crash test (SQLite):", figures)


@pytest.mark.postgres_only
def test_killed_worker_loses_no_acknowledged_answer_postgresql(tmp_path, worker_name):
    name = f"academy_crash_{worker_name}"
    url = postgres_database(name)
    figures = run_crash_test(tmp_path, url)
    print("crash test (PostgreSQL):", figures)
