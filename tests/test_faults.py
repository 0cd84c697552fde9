"""Faults of the machine, through the real server: the database stopped mid-request answers
Academy's own 503 page (Thai or English, Retry-After; JSON for the answer save) and serves
again once it is back without a restart."""

from __future__ import annotations

import os
import threading
import time

import psycopg
import pytest
import requests
from sqlalchemy import select

from academy import create_app
from academy.auth.models import User
from academy.auth.services import create_user
from academy.courses.models import PUBLISHED, Course, Enrolment, Module
from academy.extensions import db
from academy.quizzes import services
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
        services.set_question(question, QuestionData.from_dict({
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
        time.sleep(1.0)
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
        deadline = time.monotonic() + 30
        while english.get(base + "/dashboard", timeout=30).status_code != 200:
            assert time.monotonic() < deadline, "not serving 30 s after the database came back"
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
