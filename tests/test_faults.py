"""Faults of the machine, through the real server: the database stopped mid-request answers
Academy's own 503 page (Thai or English, Retry-After; JSON for the answer save) and serves
again once it is back without a restart."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time

import psycopg
import pytest
import requests
from sqlalchemy import select

from academy import ROOT, create_app
from academy.auth.models import User
from academy.auth.services import create_user
from academy.courses.models import PUBLISHED, Course, Enrolment, Module
from academy.extensions import db
from academy.quizzes import bank
from academy.quizzes.models import Question, Quiz
from academy.quizzes.questions import Question as QuestionData
from tests.fixtures.servers import served, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("faults")]

SECRET = "faults-test-secret"
PASSWORD = "outage-pass-1"


def _seed(app) -> int:
    """Two learners (one reads English), a published course with a one-question quiz."""
    with app.app_context():
        db.create_all()
        course = Course(slug="outage", title_th="วิชา", status=PUBLISHED)
        course.modules.append(Module(key="m1", position=1, title_th="บท"))
        db.session.add(course)
        db.session.flush()
        quiz = Quiz(course_id=course.id, module_id=course.modules[0].id, key="q", position=1,
                    title_th="แบบทดสอบ", attempts_allowed=5)  # fmt: skip
        db.session.add(quiz)
        db.session.flush()
        question = Question(quiz_id=quiz.id, position=1, points=1)
        bank.set_question(question, QuestionData.from_dict({
            "type": "short", "title": "Q", "text": "ข้าว?",
            "answers": [{"text": "ข้าว", "fraction": 1.0}],
        }))  # fmt: skip
        db.session.add(question)
        for name, locale in (("thai", "th"), ("english", "en")):
            user, _ = create_user(
                name, name, password=PASSWORD, learner_kind="seller", locale=locale
            )
            db.session.flush()
            db.session.add(Enrolment(user_id=user.id, course_id=course.id))
        db.session.commit()
        quiz_id = quiz.id
        assert db.session.scalar(select(User.id).where(User.username == "english"))
        db.session.remove()
        db.engine.dispose()
    return quiz_id


def _start_attempt(base: str, http: requests.Session, quiz_id: int) -> tuple[int, int]:
    reply = http.post(f"{base}/quizzes/{quiz_id}/start", allow_redirects=False, timeout=30)
    assert reply.status_code == 302, reply.text[:300]
    attempt_id = int(reply.headers["Location"].rstrip("/").split("/")[-1])
    page = http.get(f"{base}/attempts/{attempt_id}", timeout=30).text
    question_id = int(page.split('data-question-id="', 1)[1].split('"', 1)[0])
    return attempt_id, question_id


def _assert_outage_page(reply: requests.Response, language: str) -> None:
    assert reply.status_code == 503, (reply.status_code, reply.text[:300])
    assert reply.headers["Retry-After"].isdigit()
    assert f'<html lang="{language}">' in reply.text
    expected = {
        "en": "Academy cannot reach its database just now",
        "th": "ขณะนี้ระบบเชื่อมต่อฐานข้อมูลไม่ได้",
    }[language]
    assert expected in reply.text


def _browser(http: requests.Session) -> requests.Session:
    http.headers["Accept"] = "text/html,application/xhtml+xml"
    return http


def _until_a_query_waits_on_a_lock(url: str) -> None:
    """Until the server's request is really blocked on the lock (a fixed sleep raced on a loaded
    machine: the request had not reached the database when it stopped)."""
    deadline = time.monotonic() + 60
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as watcher:
        while not watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        ).fetchone()[0]:
            assert time.monotonic() < deadline, "the request never reached the lock"
            time.sleep(0.05)


def test_database_stopped_mid_request_answers_503_and_recovers(pg_cluster, tmp_path):
    instance = tmp_path / "instance"
    config = {"TESTING": False, "SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": pg_cluster.url}
    quiz_id = _seed(create_app(config, instance_path=str(instance)))
    env = dict(os.environ, ACADEMY_INSTANCE_PATH=str(instance), ACADEMY_SECRET_KEY=SECRET,
               DATABASE_URL=pg_cluster.url, WEB_CONCURRENCY="2")  # fmt: skip
    with served(env, tmp_path / "server.log") as base:
        english = _browser(sign_in(base, "english", PASSWORD))
        thai = _browser(sign_in(base, "thai", PASSWORD))
        attempt_id, question_id = _start_attempt(base, english, quiz_id)
        assert english.get(base + "/dashboard", timeout=30).status_code == 200

        # A page view that is waiting on the database when it stops: the account load blocks
        # behind a lock that this connection holds, then PostgreSQL shuts down under it.
        blocker = psycopg.connect(pg_cluster.url.replace("+psycopg", ""), autocommit=False)
        blocker.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        replies: list[requests.Response] = []
        waiting = threading.Thread(
            target=lambda: replies.append(english.get(base + "/dashboard", timeout=60))
        )
        waiting.start()
        _until_a_query_waits_on_a_lock(pg_cluster.url)
        assert waiting.is_alive(), "the request should be waiting on the lock"
        pg_cluster.stop("fast")
        waiting.join(timeout=60)
        blocker.close()
        _assert_outage_page(replies[0], "en")

        # While it is down: each signed-in page in the person's language, the answer as JSON.
        _assert_outage_page(thai.get(base + "/dashboard", timeout=30), "th")
        _assert_outage_page(english.get(f"{base}/attempts/{attempt_id}", timeout=30), "en")
        _assert_outage_page(thai.get(base + "/sign-in", timeout=30), "th")
        saved = english.post(
            f"{base}/attempts/{attempt_id}/responses",
            json={"question_id": question_id, "value": "ข้าว"},
            headers={"Accept": "application/json"},
            timeout=30,
        )
        assert saved.status_code == 503 and saved.headers["Retry-After"].isdigit()
        assert saved.json()["error"] and "saved" not in saved.json()
        assert requests.get(base + "/healthz", timeout=30).status_code == 503

        # Back: the same server serves again, no restart.
        pg_cluster.start()
        deadline = time.monotonic() + 90  # generous: a loaded machine, not the server, is slow
        while english.get(base + "/dashboard", timeout=30).status_code != 200:
            assert time.monotonic() < deadline, "not serving 90 s after the database came back"
            time.sleep(0.2)
        saved = english.post(
            f"{base}/attempts/{attempt_id}/responses",
            json={"question_id": question_id, "value": "ข้าว"},
            headers={"Accept": "application/json"},
            timeout=30,
        )
        assert saved.status_code == 200 and saved.json()["saved"]
    log = (tmp_path / "server.log").read_text()
    assert "database unavailable on GET /dashboard" in log


def test_parallel_command_line_writes_on_sqlite_queue_instead_of_failing(tmp_path):
    """20 `flask academy create-user` at the same moment: every one queues behind SQLite's
    write lock (BEGIN IMMEDIATE and the busy timeout, as requests do) and succeeds."""
    instance = tmp_path / "instance"
    url = f"sqlite:///{tmp_path / 'academy.db'}"
    app = create_app({"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": url},
                     instance_path=str(instance))  # fmt: skip
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    env = dict(os.environ, ACADEMY_INSTANCE_PATH=str(instance), ACADEMY_SECRET_KEY=SECRET,
               DATABASE_URL=url)  # fmt: skip
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "academy", "create-user"]
    runs = [
        subprocess.Popen([*flask, f"parallel{n}", "--password-stdin"], cwd=ROOT, env=env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for n in range(20)
    ]  # fmt: skip
    # Every process waits on its password until all have started, then all go at once.
    for run in runs:
        run.stdin.write(PASSWORD.encode() + b"\n")
    for run in runs:
        run.stdin.close()
    results = [(run.wait(timeout=300), run.stderr.read().decode()) for run in runs]
    for run in runs:
        run.stdout.close()
        run.stderr.close()
    failed = [
        [line for line in err.splitlines() if "Error" in line][-1:] for code, err in results if code
    ]
    assert not failed, failed
    with app.app_context():
        names = db.session.scalars(select(User.username).where(User.username.like("parallel%")))
        assert len(set(names)) == 20
        db.engine.dispose()


def _slow_socket(port: int, stop: threading.Event, closed: list[float]) -> None:
    """Sends a request's header one byte a second, as a device on a dying link would."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.settimeout(1.0)
    opened = time.monotonic()
    try:
        for byte in b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000:
            if stop.is_set():
                return
            sock.sendall(bytes([byte]))
            try:
                sock.recv(1024)  # EOF or an error page: the server gave up on us
            except TimeoutError:
                continue
            closed.append(time.monotonic() - opened)
            return
    except OSError:  # reset by the server
        closed.append(time.monotonic() - opened)
    finally:
        sock.close()


def test_slow_clients_do_not_shut_learners_out(tmp_path):
    """200 connections trickling their headers: a signed-in learner's pages are still served
    (each within the client's 10 s patience), and the server closes the trickling ones."""
    instance = tmp_path / "instance"
    url = f"sqlite:///{tmp_path / 'academy.db'}"
    app = create_app({"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": url},
                     instance_path=str(instance))  # fmt: skip
    with app.app_context():
        db.create_all()
        create_user("slowtest", "slowtest", password=PASSWORD, learner_kind="seller")
        db.session.commit()
        db.engine.dispose()
    env = dict(os.environ, ACADEMY_INSTANCE_PATH=str(instance), ACADEMY_SECRET_KEY=SECRET,
               DATABASE_URL=url)  # fmt: skip
    with served(env, tmp_path / "server.log") as base:
        learner = _browser(sign_in(base, "slowtest", PASSWORD))
        port = int(base.rsplit(":", 1)[1])
        stop, closed = threading.Event(), []
        trickles = [threading.Thread(target=_slow_socket, args=(port, stop, closed), daemon=True)
                    for _ in range(200)]  # fmt: skip
        for thread in trickles:
            thread.start()
        try:
            time.sleep(3)
            for path in ("/dashboard", "/courses", "/dashboard", "/courses", "/dashboard"):
                assert learner.get(base + path, timeout=10).status_code == 200
            deadline = time.monotonic() + 30
            while len(closed) < 200 and time.monotonic() < deadline:
                time.sleep(0.5)
            assert len(closed) == 200, f"the server closed {len(closed)} of 200 in 30 s"
        finally:
            stop.set()


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB filesystem of our own (tmpfs), or a skip where this test may not mount one."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here (needs root): {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder) -> object:
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as out:
        for size in (65536, 1):  # big blocks, then the last bytes
            with contextlib.suppress(OSError):
                while out.write(b"\0" * size):
                    pass
    return filler


def test_full_disk_is_named_to_learners_admins_and_monitoring(small_disk):
    config = {"SECRET_KEY": SECRET, "WTF_CSRF_ENABLED": False, "TESTING": False,
              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{small_disk / 'academy.db'}",
              "DATA_DIR": str(small_disk / "data"),
              "STORAGE_WARNING_FREE_BYTES": 1024 * 1024}  # fmt: skip
    app = create_app(config, instance_path=str(small_disk / "instance"))
    quiz_id = _seed(app)
    with app.app_context():
        create_user("boss", "boss", role="admin", password=PASSWORD)
        db.session.commit()
    learner, admin = app.test_client(), app.test_client()
    for client, name in ((learner, "english"), (admin, "boss")):
        reply = client.post("/sign-in", data={"username": name, "password": PASSWORD})
        assert reply.status_code == 302
    reply = learner.post(f"/quizzes/{quiz_id}/start")
    attempt_id = int(reply.headers["Location"].rstrip("/").split("/")[-1])
    page = learner.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    question_id = int(page.split('data-question-id="', 1)[1].split('"', 1)[0])
    answer = {"question_id": question_id, "value": "ข้าว"}
    assert admin.get("/healthz").json["status"] == "ok"
    banner = "storage-warning"  # the admins' warning, in whichever language
    assert banner not in admin.get("/dashboard", follow_redirects=True).get_data(as_text=True)

    filler = _fill(small_disk)
    saved = learner.post(f"/attempts/{attempt_id}/responses", json=answer,
                         headers={"Accept": "application/json"})  # fmt: skip
    assert saved.status_code == 507, saved.get_data(as_text=True)[:300]
    assert saved.json["storage_full"] is True and "storage is full" in saved.json["error"]
    form = learner.post(f"/attempts/{attempt_id}", data={f"q-{question_id}": "ข้าว"},
                        headers={"Accept": "text/html"})  # fmt: skip
    assert form.status_code == 507
    assert "storage is full</h1>" in form.get_data(as_text=True)
    health = admin.get("/healthz").json
    assert health["status"] == "warning" and health["storage"]["database"]["warning"]
    assert health["storage"]["data_dir"]["free_bytes"] < 1024 * 1024
    assert banner in admin.get("/", follow_redirects=True).get_data(as_text=True)
    assert banner not in learner.get("/dashboard").get_data(as_text=True)

    filler.unlink()  # space freed: the same answer goes in
    saved = learner.post(f"/attempts/{attempt_id}/responses", json=answer,
                         headers={"Accept": "application/json"})  # fmt: skip
    assert saved.status_code == 200 and saved.json["saved"]
    with app.app_context():
        db.engine.dispose()


def test_a_stuck_request_ends_its_worker_which_is_replaced(pg_cluster, tmp_path):
    """The default server has no request timeout of its own: the watchdog ends a worker whose
    request runs past ACADEMY_REQUEST_TIMEOUT_SECONDS, logs where it was stuck, and the
    server starts a fresh worker that serves again."""
    instance = tmp_path / "instance"
    config = {"TESTING": False, "SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": pg_cluster.url}
    _seed(create_app(config, instance_path=str(instance)))
    env = dict(os.environ, ACADEMY_INSTANCE_PATH=str(instance), ACADEMY_SECRET_KEY=SECRET,
               DATABASE_URL=pg_cluster.url, WEB_CONCURRENCY="1",
               ACADEMY_REQUEST_TIMEOUT_SECONDS="3")  # fmt: skip
    with served(env, tmp_path / "server.log") as base:
        learner = _browser(sign_in(base, "english", PASSWORD))
        blocker = psycopg.connect(pg_cluster.url.replace("+psycopg", ""), autocommit=False)
        blocker.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        with pytest.raises(requests.ConnectionError):
            learner.get(base + "/dashboard", timeout=60)  # the worker ends under it
        assert time.monotonic() - started < 30
        blocker.close()
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(requests.ConnectionError):
                if learner.get(base + "/dashboard", timeout=30).status_code == 200:
                    break
            assert time.monotonic() < deadline, "no worker serving 60 s after the stuck one"
            time.sleep(0.5)
    log = (tmp_path / "server.log").read_text()
    assert "request GET /dashboard stuck for more than 3.0 s" in log
    assert "load_user" in log  # where it was stuck: the account load, behind the lock
