"""School servers and the city (docs/sync.md): joining, pushing what the school owns in
sequence, pulling courses, and every refusal, over two real databases and real HTTP."""

from __future__ import annotations

import gzip
import hashlib
import html
import io
import os
import re
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import requests
from flask_babel import force_locale
from flask_migrate import downgrade, upgrade
from PIL import Image
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from academy import ROOT, create_app
from academy.assignments import photos
from academy.assignments import services as assignment_services
from academy.assignments.models import Assignment, Review, Submission, SubmissionPhoto
from academy.auth.models import User, UserSession
from academy.auth.services import (
    create_user,
    reset_password,
    reset_password_asked,
    set_active,
    set_active_asked,
    set_role,
    start_session,
    verify_password,
)
from academy.certificates.models import Certificate
from academy.classes import services as class_services
from academy.classes.models import Class, ClassCourse, ClassMember, Room, School
from academy.core import __version__, transaction
from academy.core.clock import utcnow
from academy.core.errors import ServiceError
from academy.core.models import AuditEntry
from academy.courses import services as courses
from academy.courses.models import Course, Lesson, Track
from academy.extensions import db
from academy.periods import attendance, gate
from academy.periods import services as periods
from academy.periods.models import Attendance, Period, PeriodItem
from academy.progress import services as progress
from academy.progress.models import CourseProgress, LessonProgress, ProgressEvent, QuizResult
from academy.quizzes import bank, taking
from academy.quizzes.models import Attempt, Question, Quiz, Response
from academy.reports import practice
from academy.studio import export, loader
from academy.sync import client, files, push, relay, services
from academy.sync.models import SyncLink, SyncPeer, SyncSetAside, SyncTombstone
from academy.sync.rows import TABLES
from academy.sync.stamps import STAMPED_TABLES
from tests.conftest import TEST_CONFIG, AcademyClient
from tests.fixtures.databases import fresh_database
from tests.fixtures.servers import BIN, free_port, served, sign_in
from tests.fixtures.sync import write_course

SCHOOL = "โรงเรียนวัดทดลอง"


def _publish(pair, folder) -> None:
    with pair.at(pair.city), transaction.unit_of_work():
        loader.load_course(folder)


def _join(pair, school: str = SCHOOL) -> str:
    with pair.at(pair.city), transaction.unit_of_work():
        _peer, token = services.register(school)
    with pair.at(pair.school), transaction.unit_of_work():
        services.join(pair.city_url, token)
    return token


def _round(pair) -> services.Round:
    with pair.at(pair.school):
        return services.run_round()


def _learn(pair, username: str, finish: bool) -> None:
    """At the school: an account made there works through the course; `finish` passes the quiz
    too (the course is then complete and a certificate issued)."""
    with pair.at(pair.school), transaction.unit_of_work():
        school_id = services.link().school_id
        user, _ = create_user(username, f"นักเรียน {username}", password="pass-word-1",
                              learner_kind="student", school_id=school_id)  # fmt: skip
        db.session.flush()
        course = db.session.scalar(select(Course).where(Course.slug == "sync-course"))
        courses.enrol(user, course)
        for lesson in db.session.scalars(select(Lesson).where(Lesson.course_id == course.id)):
            progress.record_view(user, lesson, seconds=30)
            progress.mark_done(user, lesson)
        if finish:
            quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id))
            attempt = taking.start_attempt(user, quiz)
            taking.save_response(attempt, attempt.layout[0]["question_id"], True, user)
            taking.submit(attempt, user)


def _counts(app, pair) -> dict[str, int]:
    with pair.at(app):
        return {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (
                User,
                ProgressEvent,
                LessonProgress,
                CourseProgress,
                Attempt,
                Response,
                Certificate,
            )
        }


def test_join_push_and_pull_end_to_end_in_process(sync_pair, tmp_path):
    pair = sync_pair
    _publish(pair, write_course(tmp_path / "v1"))
    _join(pair)
    first = _round(pair)
    assert first.courses == 1 and first.fetched_files == 5  # the course reached the school
    with pair.at(pair.city):  # a round with nothing to send still counts as a good round
        assert db.session.scalar(select(SyncPeer.last_round_at)) is not None

    _learn(pair, "somchai", finish=True)
    _learn(pair, "malee", finish=False)
    done = _round(pair)
    assert done.batches > 1  # 7 rows a batch in these tests: the work went in several
    school, city = _counts(pair.school, pair), _counts(pair.city, pair)
    assert city == school
    with pair.at(pair.city):
        cert = db.session.scalar(select(Certificate))
        assert cert.user.username == "somchai"
        assert db.session.get(School, cert.user.school_id).name == SCHOOL
        done_at = db.session.scalar(
            select(CourseProgress.completed_at).where(CourseProgress.user_id == cert.user_id)
        )
        assert done_at is not None
    # A second round moves nothing.
    again = _round(pair)
    assert (again.batches, again.pushed_rows, again.courses) == (0, 0, 0)


def test_course_update_reaches_the_school_and_progress_survives(sync_pair, tmp_path):
    pair = sync_pair
    _publish(pair, write_course(tmp_path / "v1"))
    _join(pair)
    _round(pair)
    _learn(pair, "somchai", finish=True)
    _publish(pair, write_course(tmp_path / "v2", body="ใหม่", extra_lesson=True))
    done = _round(pair)
    # Only the changed lessons and the new one travel; course.yml, module.yml and the quiz not.
    assert done.courses == 1 and done.fetched_files == 3
    with pair.at(pair.school):
        user = db.session.scalar(select(User).where(User.username == "somchai"))
        row = db.session.scalar(select(CourseProgress).where(CourseProgress.user_id == user.id))
        assert (row.items_done, row.items_total) == (3, 4)  # a, b, quiz kept; c is new
        assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 2


def _joined_and_learning(pair, folder, finish: bool):
    """Joined, the course pulled, and a learner of the school through it (or half way)."""
    _publish(pair, write_course(folder))
    _join(pair)
    _round(pair)
    _learn(pair, "somchai", finish=finish)
    return pair


@pytest.fixture
def learning(sync_pair, tmp_path):
    return _joined_and_learning(sync_pair, tmp_path / "v1", finish=False)


def test_sequence_not_clock_orders_and_a_batch_applies_once(learning):
    pair = learning
    with pair.at(pair.school):
        # A school PC hours off: events far in the past still go, in sequence order.
        db.session.execute(text("UPDATE progress_events SET at = '1999-01-01 00:00:00'"))
        db.session.commit()
        link = services.link()
        batch = push.next_batch(link.school_id, 0, 1000)
        envelope = batch.envelope(link.peer_uuid)
        db.session.rollback()
    with pair.at(pair.city):
        peer = db.session.scalar(select(SyncPeer))
        applied, new = push.apply_batch(peer, envelope)
        db.session.commit()
        assert new and applied == batch.count
        counts = _counts(pair.city, pair)
        assert push.apply_batch(peer, envelope) == (0, False)  # the same batch again
        db.session.commit()
        assert _counts(pair.city, pair) == counts
        assert counts["progress_events"] == 5  # enrolled, 2 views, 2 done


def _envelope(pair, **changes) -> dict:
    with pair.at(pair.school):
        link = services.link()
        envelope = push.next_batch(link.school_id, 0, 1000).envelope(link.peer_uuid)
        db.session.rollback()
    envelope.update(changes)
    return envelope


def _send(pair, envelope: dict | None = None, body: bytes | None = None, digest=None):
    with pair.at(pair.school):
        link = services.link()
        token = f"{link.peer_uuid}.{link.secret}"
    if body is None:
        body, digest = push.pack(envelope)
    return client.call(pair.city_url, "/sync/api/push", token=token, body=body,
                       headers={"X-Sync-SHA256": digest or ""})  # fmt: skip


def _city_counts_unchanged(pair, send) -> str:
    before = _counts(pair.city, pair)
    with pytest.raises(client.Unreachable) as refused:
        send()
    assert _counts(pair.city, pair) == before
    return str(refused.value)


@pytest.fixture
def joined_with_work(sync_pair, tmp_path):
    return _joined_and_learning(sync_pair, tmp_path / "v1", finish=True)


def test_other_version_refused_naming_both(joined_with_work):
    pair = joined_with_work
    message = _city_counts_unchanged(pair, lambda: _send(pair, _envelope(pair, academy="9.9.9")))
    assert f"Academy 9.9.9 and the city runs Academy {__version__}" in message


def test_truncated_or_corrupted_batch_refused(joined_with_work):
    pair = joined_with_work
    body, digest = push.pack(_envelope(pair))
    message = _city_counts_unchanged(pair, lambda: _send(pair, body=body[:-40], digest=digest))
    assert "truncated or corrupted" in message
    flipped = gzip.compress(gzip.decompress(body).replace(b"somchai", b"somchat"))
    message = _city_counts_unchanged(pair, lambda: _send(pair, body=flipped, digest=digest))
    assert "SHA-256 does not match" in message
    with pair.at(pair.city):  # the city's admin page shows why
        assert "truncated or corrupted" in db.session.scalar(select(SyncPeer.last_error))


def test_gap_refused(joined_with_work):
    pair = joined_with_work
    envelope = _envelope(pair)
    envelope["from_seq"] = 3
    message = _city_counts_unchanged(pair, lambda: _send(pair, envelope))
    assert "the city has applied up to 0" in message


def test_another_schools_rows_refused(joined_with_work):
    pair = joined_with_work
    with pair.at(pair.city), transaction.unit_of_work():
        other = School(name="โรงเรียนอื่น")
        db.session.add(other)
        db.session.flush()
        stranger, _ = create_user("stranger", "คนอื่น", password="pass-word-1",
                                  learner_kind="student", school_id=other.id)  # fmt: skip
        db.session.flush()
        stranger_uuid = stranger.uuid
    envelope = _envelope(pair)
    # The school claims the other school's learner as its own account.
    envelope["rows"]["users"][0]["uuid"] = stranger_uuid
    message = _city_counts_unchanged(pair, lambda: _send(pair, envelope))
    assert "belongs to another school or the city" in message


def test_username_taken_at_the_city_refused_naming_it(joined_with_work):
    pair = joined_with_work
    with pair.at(pair.city), transaction.unit_of_work():
        create_user("somchai", "สมชาย ที่เมือง", password="pass-word-1", learner_kind="seller")
    message = _city_counts_unchanged(pair, lambda: _round(pair))
    assert "the username 'somchai' belongs to another account at the city" in message
    with pair.at(pair.school):
        assert "somchai" in services.link().last_error


def test_wrong_spent_and_revoked_credentials(sync_pair, tmp_path):
    pair = sync_pair
    token = _join(pair)
    with pair.at(pair.school), pytest.raises(client.Unreachable, match="not valid"):
        client.call(pair.city_url, "/sync/api/join", payload={"token": token})  # spent
    with pytest.raises(client.Unreachable, match="not a registered school server"):
        client.call(pair.city_url, "/sync/api/mark", token="nobody.nothing")
    with pair.at(pair.city), transaction.unit_of_work():
        services.revoke(db.session.scalar(select(SyncPeer)))
    with pytest.raises(client.Unreachable, match="revoked"):
        _round(pair)


def test_join_refused_on_the_city_role_and_twice(sync_pair):
    pair = sync_pair
    with pair.at(pair.city), force_locale("en"), pytest.raises(ServiceError, match="city server"):
        services.join(pair.city_url, "x")
    _join(pair)
    school = pair.at(pair.school)
    with school, force_locale("en"), pytest.raises(ServiceError, match="already joined"):
        services.join(pair.city_url, "x")


def test_city_unreachable_is_kept_in_plain_words(sync_pair):
    pair = sync_pair
    _join(pair)
    with pair.at(pair.school), transaction.unit_of_work():
        services.link().city_url = "http://127.0.0.1:9"
    with pytest.raises(client.Unreachable, match="cannot be reached"):
        _round(pair)
    with pair.at(pair.school):
        assert "cannot be reached at http://127.0.0.1:9" in services.link().last_error


def test_every_write_path_is_stamped_in_commit_order(learning):
    """Bulk and UPDATE ... WHERE writes (progress's counters) are stamped like ORM ones."""
    pair = learning
    with pair.at(pair.school):
        before = db.session.scalar(select(func.max(LessonProgress.sync_seq)))
        db.session.execute(text("UPDATE lesson_progress SET seconds_spent = seconds_spent + 1"))
        db.session.commit()
        seqs = db.session.scalars(select(LessonProgress.sync_seq)).all()
        assert all(s > before for s in seqs) and len(set(seqs)) == len(seqs)
        assert db.session.scalar(select(func.count()).where(User.sync_seq.is_(None))) == 0


# --- the real thing: a city (PostgreSQL) and a school server (SQLite), each served --------------


PASSWORD = "pass-word-1"


def _flask(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert not check or done.returncode == 0, done.stdout + done.stderr
    return done


def _env(instance, database_url: str, **extra: str) -> dict:
    return dict(os.environ, ACADEMY_INSTANCE_PATH=str(instance), DATABASE_URL=database_url,
                ACADEMY_SECRET_KEY="sync-test-secret", WEB_CONCURRENCY="2", **extra)  # fmt: skip


def _in(env: dict):
    """The same instance as a served server, opened in this process (an admin at the desk)."""
    app = create_app(
        {"TESTING": False, "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
         "SYNC_ROLE": env.get("ACADEMY_SYNC_ROLE", "city")},
        instance_path=env["ACADEMY_INSTANCE_PATH"],
    )  # fmt: skip
    return app


@contextmanager
def _unit(app):
    with app.app_context():
        try:
            with transaction.unit_of_work():
                yield
        finally:
            db.session.remove()
            db.engine.dispose()


def _table_counts(app) -> dict[str, int]:
    with app.app_context():
        try:
            return {
                t.name: db.session.scalar(select(func.count()).select_from(t.model)) for t in TABLES
            }
        finally:
            db.session.remove()
            db.engine.dispose()


def _event_ids(app) -> list[str]:
    with app.app_context():
        try:
            return sorted(db.session.scalars(select(ProgressEvent.uuid)))
        finally:
            db.session.remove()
            db.engine.dispose()


def _class_of_40(school_app) -> None:
    """At the school: a teacher, a class of 40 in the city's room taking the course; 39 read
    both lessons, every other one of them also takes the quiz (right or wrong)."""
    with _unit(school_app):
        school_id = services.link().school_id
        teacher, _ = create_user("khru", "ครูสมศรี", role="instructor", password=PASSWORD,
                                 school_id=school_id)  # fmt: skip
        db.session.flush()
        room = db.session.scalar(select(Room).where(Room.school_id == school_id))
        klass = class_services.create_class(teacher, "ป.6/1", room_id=room.id)
        course = db.session.scalar(select(Course).where(Course.slug == "sync-course"))
        class_services.enrol_class(klass, course)
        learners = []
        for n in range(40):
            user, _ = create_user(f"learner{n:02d}", f"นักเรียน {n}", password=PASSWORD,
                                  learner_kind="student", school_id=school_id)  # fmt: skip
            learners.append(user)
        db.session.flush()
        class_services.add_members(klass, [u.id for u in learners])
        lessons = db.session.scalars(select(Lesson).where(Lesson.course_id == course.id)).all()
        quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id))
        for n, user in enumerate(learners[1:], start=1):
            for lesson in lessons:
                progress.record_view(user, lesson, seconds=60 + n)
                progress.mark_done(user, lesson)
            if n % 2:
                attempt = taking.start_attempt(user, quiz)
                taking.save_response(attempt, attempt.layout[0]["question_id"], n % 4 == 1, user)
                taking.submit(attempt, user)


def _learner_completes_over_http(base: str) -> None:
    http = sign_in(base, "learner00", PASSWORD)
    for key in ("a", "b"):
        reply = http.post(f"{base}/courses/sync-course/lessons/{key}/done",
                          allow_redirects=False, timeout=30)  # fmt: skip
        assert reply.status_code == 302, reply.text[:300]
    page = http.get(f"{base}/courses/sync-course", timeout=30).text
    quiz_id = int(re.search(r"/quizzes/(\d+)", page)[1])
    reply = http.post(f"{base}/quizzes/{quiz_id}/start", allow_redirects=False, timeout=30)
    attempt_id = int(reply.headers["Location"].rstrip("/").split("/")[-1])
    page = http.get(f"{base}/attempts/{attempt_id}", timeout=30).text
    question_id = int(page.split('data-question-id="', 1)[1].split('"', 1)[0])
    saved = http.post(f"{base}/attempts/{attempt_id}/responses",
                      json={"question_id": question_id, "value": True}, timeout=30)  # fmt: skip
    assert saved.status_code == 200, saved.text[:300]
    reply = http.post(f"{base}/attempts/{attempt_id}/submit", allow_redirects=False, timeout=30)
    assert reply.status_code == 302, reply.text[:300]
    assert "/certificates/" in http.get(f"{base}/certificates", timeout=30).text


def _csv(base: str, username: str, path: str) -> str:
    reply = sign_in(base, username, PASSWORD).get(base + path, timeout=30)
    assert reply.status_code == 200, (path, reply.status_code)
    return reply.text


@pytest.mark.slow
def test_city_and_school_servers_end_to_end(pg_cluster, tmp_path):
    city_port = free_port()
    city = _env(tmp_path / "city", pg_cluster.url)
    school = _env(tmp_path / "school", f"sqlite:///{tmp_path / 'school.db'}",
                  ACADEMY_SYNC_ROLE="school", ACADEMY_SYNC_BATCH_ROWS="40")  # fmt: skip
    city_app, school_app = _upgraded(city, school)
    with _unit(city_app):
        create_user("cityadmin", "ผู้ดูแลเมือง", role="admin", password=PASSWORD)
        db.session.add(Room(school=School(name=SCHOOL), name="ห้องคอม 1"))
        loader.load_course(write_course(tmp_path / "v1"))

    # The school joins; the course published at the city reaches it.
    with served(city, tmp_path / "city.log", port=city_port) as city_url:
        assert "joined" in _join_by_commands(city, school, city_url)
        assert "1 course(s) updated" in _flask(school, "academy", "sync", "run").stdout
    pg_cluster.stop()

    # The city is down: the school teaches, a learner completes with a certificate.
    with served(school, tmp_path / "school.log") as school_url:
        _class_of_40(school_app)
        _learner_completes_over_http(school_url)
        down = _flask(school, "academy", "sync", "run", check=False)
        assert down.returncode == 1 and "cannot be reached" in down.stderr
        school_class = _one(school_app, select(Class.id))
        school_book = _csv(school_url, "khru", f"/classes/{school_class}/gradebook.csv")
        school_report = _csv(school_url, "schooladmin", "/reports/export.csv?report=learners")
        code = _one(
            school_app,
            select(Certificate.code).join(User, User.id == Certificate.user_id)
            .where(User.username == "learner00"),
        )  # fmt: skip

        # The city is back: one round, and its gradebook, reports and /verify show the same.
        pg_cluster.start()
        with served(city, tmp_path / "city.log", port=city_port):
            first = _flask(school, "academy", "sync", "run").stdout
            assert "0 course(s) updated" in first
            class_id = _one(city_app, select(Class.id))
            assert _csv(city_url, "khru", f"/classes/{class_id}/gradebook.csv") == school_book
            assert _csv(city_url, "cityadmin", "/reports/export.csv?report=learners") == (
                school_report
            )
            verify = requests.get(f"{city_url}/verify/{code}", timeout=30)
            assert verify.status_code == 200 and "นักเรียน 0" in verify.text
            assert _table_counts(city_app) == _table_counts(school_app)
            second = _flask(school, "academy", "sync", "run").stdout
            assert "pushed 0 row(s) in 0 batch(es); 0 course(s) updated" in second

            # More work, then a round killed with SIGKILL in the middle, then run again.
            _retakes(school_app)
            _killed_round(pg_cluster, school)
            _flask(school, "academy", "sync", "run")
            assert _table_counts(city_app) == _table_counts(school_app)
            assert _event_ids(city_app) == _event_ids(school_app)

            # A course update at the city reaches the school; progress and certificate stay.
            with _unit(city_app):
                loader.load_course(write_course(tmp_path / "v2", body="ใหม่", extra_lesson=True))
            assert "1 course(s) updated" in _flask(school, "academy", "sync", "run").stdout
    with _unit(school_app):
        user = db.session.scalar(select(User).where(User.username == "learner00"))
        course_id = db.session.scalar(select(Course.id).where(Course.slug == "sync-course"))
        row = db.session.get(CourseProgress, (user.id, course_id))
        assert (row.items_done, row.items_total) == (3, 4)
        assert db.session.scalar(select(Certificate.status).where(Certificate.code == code)) == (
            "valid"
        )


def _upgraded(city: dict, school: dict):
    """Both instances migrated, opened in this process; the school with its own admin."""
    for env in (city, school):
        _flask(env, "db", "upgrade")
    city_app, school_app = _in(city), _in(school)
    with _unit(school_app):
        create_user("schooladmin", "ผู้ดูแลโรงเรียน", role="admin", password=PASSWORD)
    return city_app, school_app


def _join_by_commands(city: dict, school: dict, city_url: str) -> str:
    """`sync register` at the city, `sync join` with its token at the school: what join said."""
    register = _flask(city, "academy", "sync", "register", SCHOOL).stdout
    token = re.search(r"once\): (\S+)", register)[1]
    return _flask(school, "academy", "sync", "join", city_url, token).stdout


def _one(app, query):
    with app.app_context():
        try:
            return db.session.scalar(query)
        finally:
            db.session.remove()
            db.engine.dispose()


def _retakes(school_app) -> None:
    """Everyone who failed the quiz tries again; those who never tried, try."""
    with _unit(school_app):
        quiz = db.session.scalar(select(Quiz))
        for user in db.session.scalars(
            select(User).where(User.learner_kind == "student", User.username != "learner00")
        ):
            result = db.session.get(QuizResult, (user.id, quiz.id))
            if result is None or not result.passed:
                attempt = taking.start_attempt(user, quiz)
                taking.save_response(attempt, attempt.layout[0]["question_id"], True, user)
                taking.submit(attempt, user)


def _killed_round(pg_cluster, school: dict) -> None:
    """Start a round; once the city has applied some of its batches, hold the next one at the
    city (a lock on the peers' table), SIGKILL the round while it waits, then let go."""
    url = pg_cluster.url.replace("+psycopg", "")
    with psycopg.connect(url, autocommit=True) as watch:
        start = watch.execute("SELECT pushed_seq FROM sync_peers").fetchone()[0]
        process = subprocess.Popen(
            [str(BIN / "flask"), "--app", "wsgi", "academy", "sync", "run"],
            cwd=ROOT, env=school, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            with psycopg.connect(url) as holder:
                deadline = time.monotonic() + 120
                while watch.execute("SELECT pushed_seq FROM sync_peers").fetchone()[0] == start:
                    assert process.poll() is None, "the round ended before its first batch"
                    assert time.monotonic() < deadline
                    time.sleep(0.01)
                holder.execute("LOCK TABLE sync_peers IN EXCLUSIVE MODE")
                while not watch.execute(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted"
                ).fetchone()[0]:
                    assert process.poll() is None, "the round finished before it could be cut"
                    assert time.monotonic() < deadline
                    time.sleep(0.01)
                process.send_signal(signal.SIGKILL)
                process.wait()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        # Halfway: some batches are in, some are not.
        assert watch.execute("SELECT pushed_seq FROM sync_peers").fetchone()[0] > start


def test_course_withdrawn_at_the_city_stays_at_the_school(learning, tmp_path):
    """A course deleted at the city: the school keeps it and its progress, the round goes on
    (its rows are held back, not refused), and they go once the city offers it again."""
    pair = learning
    with pair.at(pair.city), transaction.unit_of_work():
        db.session.delete(db.session.scalar(select(Course)))
    done = _round(pair)
    assert done.withdrawn == ["sync-course"]
    with pair.at(pair.school):
        assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 2
        assert services.link().last_error is None
    _learn(pair, "malee", finish=False)  # more work in the withdrawn course: held back
    _round(pair)
    city = _counts(pair.city, pair)
    assert (city["users"], city["progress_events"]) == (2, 0)  # her account went, not her work
    _publish(pair, write_course(tmp_path / "again"))
    _round(pair)  # offered again: the held-back records go
    _round(pair)
    assert _counts(pair.city, pair) == _counts(pair.school, pair)


def test_a_database_from_before_upgrades_and_keeps_its_rows(tmp_path, worker_name):
    """Migration 0005 on a database with rows: each gets a UUID of its own, the triggers are
    in place and stamp nothing until the server joins, and the downgrade keeps the rows."""
    url = fresh_database(tmp_path, f"sync_upgrade_{worker_name}")
    app = create_app(dict(TEST_CONFIG, SQLALCHEMY_DATABASE_URI=url), str(tmp_path))
    with app.app_context():
        upgrade(revision="0002_assignments")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (username, full_name, password_hash, role, active, "
                    "must_change_password, session_version, created_at) VALUES "
                    "(:name, 'Old', 'x', 'learner', true, false, 1, '2026-01-01')"
                ),
                [{"name": f"old{n}"} for n in range(3)],
            )
            conn.execute(text("INSERT INTO schools (name) VALUES ('เก่า')"))
        upgrade()
        with db.engine.connect() as conn:
            ids = conn.execute(text("SELECT uuid FROM users")).scalars().all()
            assert len(set(ids)) == 3
            assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                    r"[0-9a-f]{12}", i) for i in ids)  # fmt: skip
            assert conn.execute(text("SELECT uuid FROM schools")).scalar()
            if conn.dialect.name == "sqlite":
                triggers = conn.execute(
                    text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                ).scalars()
            else:
                triggers = conn.execute(text("SELECT tgname FROM pg_trigger")).scalars()
            names = set(triggers)
            for table in STAMPED_TABLES:
                assert {f"sync_stamp_insert_{table}", f"sync_stamp_{table}"} & names, table
            assert conn.execute(text("SELECT count(sync_seq) FROM users")).scalar() == 0
        downgrade(revision="0002_assignments")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 3
        db.engine.dispose()


def _admin_client(app):
    app.test_client_class = AcademyClient
    client = app.test_client()
    user, _ = create_user("admin", "ผู้ดูแล", role="admin", password=PASSWORD)
    db.session.flush()
    return client.login(user)


def test_admin_pages_register_show_the_token_once_and_revoke(sync_pair):
    pair = sync_pair
    with pair.at(pair.city):
        client = _admin_client(pair.city)
        page = client.post("/sync/register", data={"school": SCHOOL}).get_data(as_text=True)
        token = re.search(r"academy sync join \S+ (\S+)</code>", page)[1]
        assert "รหัสลงทะเบียนสำหรับ" in page and SCHOOL in page
        listing = client.get("/sync/").get_data(as_text=True)
        assert token not in listing and "รอเชื่อมต่อ" in listing  # shown once, waiting to join
    with pair.at(pair.school), transaction.unit_of_work():
        services.join(pair.city_url, token)
    with pair.at(pair.city):
        client = _admin_client_again(pair.city)
        peer = db.session.scalar(select(SyncPeer))
        assert "เชื่อมต่อแล้ว" in client.get("/sync/").get_data(as_text=True)
        assert client.post(f"/sync/{peer.uuid}/revoke").status_code == 302
        assert "เพิกถอนแล้ว" in client.get("/sync/").get_data(as_text=True)


def _admin_client_again(app):
    app.test_client_class = AcademyClient
    user = db.session.scalar(select(User).where(User.username == "admin"))
    return app.test_client().login(user)


def test_school_page_shows_the_city_waiting_and_the_last_error(learning):
    pair = learning
    with pair.at(pair.school):
        browser = _admin_client(pair.school)
        page = browser.get("/sync/").get_data(as_text=True)
        assert pair.city_url in page and SCHOOL in page
        assert "รอส่ง" in page
        waiting = services.waiting(services.link().school_id, services.link().city_mark)
        assert waiting > 0 and f"{waiting} รายการ" in page  # the learner's work since
    with pair.at(pair.school), transaction.unit_of_work():
        services.link().city_url = "http://127.0.0.1:9"
    with pytest.raises(client.Unreachable):
        _round(pair)
    with pair.at(pair.school):
        browser = _admin_client_again(pair.school)
        page = browser.get("/sync/").get_data(as_text=True)
        assert "ติดต่อเซิร์ฟเวอร์กลางไม่ได้ที่ http://127.0.0.1:9" in page


def test_accounts_made_at_the_school_without_a_school_go_the_admin_stays(learning):
    pair = learning
    with pair.at(pair.school), transaction.unit_of_work():
        create_user("imported", "นำเข้า", password=PASSWORD, learner_kind="student")
        create_user("itadmin", "ผู้ดูแลเครื่อง", role="admin", password=PASSWORD)
    _round(pair)
    with pair.at(pair.city):
        names = set(db.session.scalars(select(User.username)))
        school_id = db.session.scalar(select(School.id).where(School.name == SCHOOL))
        imported = db.session.scalar(select(User).where(User.username == "imported"))
    assert names == {"somchai", "imported"} and imported.school_id == school_id


def test_a_batch_that_unpacks_too_large_is_refused_before_it_is_read(joined_with_work):
    pair = joined_with_work
    bomb = gzip.compress(b" " * (push.MAX_UNPACKED_BYTES + 1), compresslevel=9)
    message = _city_counts_unchanged(pair, lambda: _send(pair, body=bomb, digest="0" * 64))
    assert "unpacks to more than 64 MB" in message


def test_a_pointer_at_a_row_sent_in_an_earlier_batch_keeps_its_target(learning):
    """The class's creator went up in an earlier batch (7 rows a batch here); the class,
    stamped later, still names them at the city. The server's own admin is nobody there."""
    pair = learning
    with pair.at(pair.school), transaction.unit_of_work():
        school_id = services.link().school_id
        create_user("khru", "ครู", role="instructor", password=PASSWORD, school_id=school_id)
        create_user("itadmin", "ผู้ดูแล", role="admin", password=PASSWORD)
    _round(pair)
    with pair.at(pair.school), transaction.unit_of_work():
        room = Room(school_id=school_id, name="ห้องคอม 2")
        db.session.add(room)
        db.session.flush()
        users = {u.username: u for u in db.session.scalars(select(User))}
        class_services.create_class(users["khru"], "ป.5/1", room_id=room.id)
        class_services.create_class(users["itadmin"], "ป.5/2", room_id=room.id)
    _round(pair)
    with pair.at(pair.city):
        creators = {
            c.name: db.session.get(User, c.created_by_id).username if c.created_by_id else None
            for c in db.session.scalars(select(Class))
        }
    assert creators == {"ป.5/1": "khru", "ป.5/2": None}


def test_the_city_refuses_to_change_a_school_account_naming_the_owner(joined_with_work):
    """The same account edited on both sides: the city's copy is not changed behind the
    owner's back; the refusal says where to change it."""
    pair = joined_with_work
    _round(pair)
    with pair.at(pair.city), force_locale("en"):
        user = db.session.scalar(select(User).where(User.username == "somchai"))
        for change in (reset_password, lambda u: set_role(u, "instructor"),
                       lambda u: set_active(u, False)):  # fmt: skip
            with pytest.raises(ServiceError, match=f"managed by the school server of {SCHOOL}"):
                change(user)
    with pair.at(pair.school), transaction.unit_of_work():  # at the school, it is theirs
        reset_password(db.session.scalar(select(User).where(User.username == "somchai")))


def test_status_command_on_both_sides(learning):
    pair = learning
    school = pair.school.test_cli_runner().invoke(args=["academy", "sync", "status"])
    assert school.exit_code == 0, school.output
    assert f"city: {pair.city_url}" in school.output and SCHOOL in school.output
    assert "last error: none" in school.output
    city = pair.city.test_cli_runner().invoke(args=["academy", "sync", "status"])
    assert city.exit_code == 0 and f"{SCHOOL}: joined" in city.output
    register = pair.city.test_cli_runner().invoke(args=["academy", "sync", "register", "ใหม่"])
    assert "enrolment token (valid 7 days, once)" in register.output
    refused = pair.school.test_cli_runner().invoke(args=["academy", "sync", "register", "x"])
    assert refused.exit_code == 1 and "Error" in refused.output


def _teacher_and_class(room_name: str, class_name: str) -> tuple[User, Class]:
    """At the school, in its unit of work: a teacher of the school and their class in a new
    room of it, taking the sync course."""
    school_id = services.link().school_id
    teacher, _ = create_user("khru", "ครู", role="instructor", password=PASSWORD,
                             school_id=school_id)  # fmt: skip
    db.session.flush()
    room = Room(school_id=school_id, name=room_name)
    db.session.add(room)
    db.session.flush()
    klass = class_services.create_class(teacher, class_name, room_id=room.id)
    class_services.enrol_class(klass, db.session.scalar(select(Course)))
    return teacher, klass


def test_a_period_and_its_attendance_reach_the_city(learning):
    pair = learning
    with pair.at(pair.school), transaction.unit_of_work():
        teacher, klass = _teacher_and_class("ห้องคอม 3", "ม.1/1")
        somchai = db.session.scalar(select(User).where(User.username == "somchai"))
        class_services.add_members(klass, [somchai.id])
        lesson = db.session.scalar(select(Lesson).where(Lesson.key == "a"))
        now = utcnow()
        period = periods.start(klass, teacher, [f"lesson:{lesson.id}"], now=now)
        attendance.correct_attendance(period, klass, teacher, {somchai.id: ("late", "รถติด")}, now)
        periods.end(period, now=now)
    _round(pair)
    with pair.at(pair.city):
        period = db.session.scalar(select(Period))
        row = db.session.scalar(select(Attendance))
        assert (
            period.ended_at is not None and db.session.get(Class, period.class_id).name == "ม.1/1"
        )
        assert (row.status, row.note, db.session.get(User, row.updated_by_id).username) == (
            "late",
            "รถติด",
            "khru",
        )
    assert _table_counts(pair.city) == _table_counts(pair.school)


def _plan(app, pair) -> list[tuple]:
    with pair.at(app):
        period = db.session.scalar(select(Period))
        lessons = {x.id: x.key for x in db.session.scalars(select(Lesson))}
        quizzes = {q.id: q.key for q in db.session.scalars(select(Quiz))}
        return [
            (i.position, i.kind, lessons.get(i.lesson_id) or quizzes.get(i.quiz_id),
             i.opened_at, i.closed_at)
            for i in sorted(period.items, key=lambda i: i.position)
        ]  # fmt: skip


def test_a_periods_plan_travels_with_it(learning):
    """The teacher's items for the period, and when a quiz was opened and closed in it; the
    start code stays in the room. A quiz opened after a round goes in the next one."""
    pair = learning
    with pair.at(pair.school), transaction.unit_of_work():
        teacher, klass = _teacher_and_class("ห้องคอม 6", "ม.2/1")
        lessons = {x.key: x.id for x in db.session.scalars(select(Lesson))}
        quiz = db.session.scalar(select(Quiz))
        quiz.period_only = True  # a school's own setting: the city's quiz is not changed
        period = periods.start(klass, teacher, [f"lesson:{lessons['b']}", f"quiz:{quiz.id}",
                                                f"lesson:{lessons['a']}"], now=utcnow())  # fmt: skip
    _round(pair)
    first = _plan(pair.school, pair)
    assert [(p, k, key) for p, k, key, _o, _c in first] == [
        (0, "lesson", "b"), (1, "quiz", "q1"), (2, "lesson", "a")
    ]  # fmt: skip
    assert _plan(pair.city, pair) == first
    with pair.at(pair.school), transaction.unit_of_work():
        period = db.session.scalar(select(Period))
        gate.open_quiz(period, 1, with_code=True, now=utcnow())
    _round(pair)
    opened = _plan(pair.school, pair)
    assert opened[1][3] is not None and _plan(pair.city, pair) == opened
    with pair.at(pair.city):
        assert (
            db.session.scalar(select(PeriodItem.start_code).where(PeriodItem.position == 1)) is None
        )
    with pair.at(pair.school):
        assert db.session.scalar(select(PeriodItem.start_code).where(PeriodItem.position == 1))


def test_a_course_in_a_track_of_the_citys_own_brings_the_track(sync_pair, tmp_path):
    pair = sync_pair
    with pair.at(pair.city), transaction.unit_of_work():
        db.session.add(Track(slug="climate", name_th="ภูมิอากาศ", name_en="Climate", position=7))
    folder = write_course(tmp_path / "v1")
    yml = folder / "course.yml"
    yml.write_text(yml.read_text().replace("track: digital-skills", "track: climate"))
    _publish(pair, folder)
    _join(pair)
    done = _round(pair)
    assert (done.courses, done.failed) == (1, [])
    with pair.at(pair.school):
        course = db.session.scalar(select(Course).where(Course.slug == "sync-course"))
        assert (course.track.slug, course.track.name_th) == ("climate", "ภูมิอากาศ")


def test_removals_travel_in_order(learning):
    """A learner moved out of a class, a class that stops a course, a deleted account: gone at
    the city too; a member removed and added back before the round stays."""
    pair = learning
    with pair.at(pair.school), transaction.unit_of_work():
        school_id = services.link().school_id
        teacher, _ = create_user("khru", "ครู", role="instructor", password=PASSWORD,
                                 school_id=school_id)  # fmt: skip
        room = Room(school_id=school_id, name="ห้องคอม 4")
        db.session.add(room)
        db.session.flush()
        klass = class_services.create_class(teacher, "ป.4/1", room_id=room.id)
        course = db.session.scalar(select(Course))
        class_services.enrol_class(klass, course)
        users = {u.username: u for u in db.session.scalars(select(User))}
        gone, _ = create_user("gone", "ลาออก", password=PASSWORD, learner_kind="student")
        db.session.flush()
        class_services.add_members(klass, [users["somchai"].id, gone.id])
    _round(pair)
    assert _table_counts(pair.city) == _table_counts(pair.school)
    with pair.at(pair.school), transaction.unit_of_work():
        klass = db.session.scalar(select(Class))
        somchai = db.session.scalar(select(User).where(User.username == "somchai"))
        class_services.remove_member(klass, somchai.id)
        class_services.add_members(klass, [somchai.id])  # back before the round
        class_services.unenrol_class(klass, db.session.scalar(select(Course.id)))
        db.session.delete(db.session.scalar(select(User).where(User.username == "gone")))
    done = _round(pair)
    assert done.pushed_rows > 0
    assert _table_counts(pair.city) == _table_counts(pair.school)
    with pair.at(pair.city):
        members = db.session.scalars(
            select(User.username).join(ClassMember, ClassMember.user_id == User.id)
        ).all()
        assert members == ["somchai"]
        assert db.session.scalar(select(func.count()).select_from(ClassCourse)) == 0
    again = _round(pair)
    assert (again.batches, again.pushed_rows) == (0, 0)
    with pair.at(pair.school):  # applied at the city: no tombstone kept
        assert db.session.scalar(select(func.count()).select_from(SyncTombstone)) == 0


# --- quiz questions keep their identity across servers (issue 17, docs/sync.md "Identity") ------


THREE = """// @id: q1
// @title: แบบทดสอบ
// @pass_mark: 50

::a:: ข้อหนึ่ง {T}

::b:: ข้อสอง {F}

::c:: ข้อสาม {T}
"""


def _three_questions(pair, folder):
    """Joined, a course whose quiz asks a, b, c pulled, and at the school somchai answered
    all three True (a and c right, b wrong) and submitted."""
    folder = write_course(folder)
    (folder / "01-m1" / "03-q1.gift").write_text(THREE)
    _publish(pair, folder)
    _join(pair)
    _round(pair)
    with pair.at(pair.school), transaction.unit_of_work():
        school_id = services.link().school_id
        user, _ = create_user("somchai", "สมชาย", password=PASSWORD, learner_kind="student",
                              school_id=school_id)  # fmt: skip
        db.session.flush()
        courses.enrol(user, db.session.scalar(select(Course)))
        attempt = taking.start_attempt(user, db.session.scalar(select(Quiz)))
        for item in attempt.layout:
            taking.save_response(attempt, item["question_id"], True, user)
        taking.submit(attempt, user)
    return pair


def _answers(app, pair) -> dict:
    """Each response's question title and value, the attempt's score, and its layout's titles."""
    with pair.at(app):
        attempt = db.session.scalar(select(Attempt))
        titles = {q.id: q.title for q in db.session.scalars(select(Question))}
        return {
            "answers": sorted(
                (titles[r.question_id], r.value, r.fraction)
                for r in db.session.scalars(select(Response))
            ),
            "score": (attempt.points, attempt.max_points, attempt.percent, attempt.passed),
            "layout": [titles.get(int(i["question_id"])) for i in attempt.layout],
        }


def test_answers_pair_with_the_same_question_after_the_city_reorders(sync_pair, tmp_path):
    """The school answered; meanwhile the city moved a question in the studio and published an
    update of the course folder that inserts one at the top. The school's answers reach the
    city on the same questions, and the city's own regrading gives the school's score."""
    pair = _three_questions(sync_pair, tmp_path / "v1")
    at_school = _answers(pair.school, pair)
    assert at_school["answers"] == [("a", True, 1.0), ("b", True, 0.0), ("c", True, 1.0)]
    with pair.at(pair.school):
        school_ids = {q.title: q.id for q in db.session.scalars(select(Question))}
    with pair.at(pair.city), transaction.unit_of_work():
        quiz = db.session.scalar(select(Quiz))
        bank.move_question(next(q for q in quiz.questions if q.title == "a"), +1)  # b, a, c
    with pair.at(pair.city), transaction.unit_of_work():
        course = db.session.scalar(select(Course))
        contents = export.course_files(course)
        gift = contents["01-m1/03-q1.gift"].decode()
        assert gift.count("// @question: q") == 0 and gift.count("// @question: ") == 3
        contents["01-m1/03-q1.gift"] = gift.replace(
            "\n\n// @question: ", "\n\n::new:: ข้อใหม่ {F}\n\n// @question: ", 1
        ).encode()
        folder = tmp_path / "v2" / "sync-course"
        for path, blob in contents.items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_bytes(blob)
        loader.load_course(folder)
    with pair.at(pair.city):
        order = [q.title for q in db.session.scalar(select(Quiz)).questions]
    assert order == ["new", "b", "a", "c"]

    done = _round(pair)  # push (named by key, in the school's old order), then pull
    assert done.failed == []
    at_city = _answers(pair.city, pair)
    assert at_city == at_school
    with pair.at(pair.city), transaction.unit_of_work():
        attempt = db.session.scalar(select(Attempt))
        taking.score(attempt)  # the city grades the answers it holds, against its questions
        assert (attempt.points, attempt.percent) == (2.0, at_school["score"][2])
    with pair.at(pair.school):  # the pull reordered the school's quiz: same rows, new order
        quiz = db.session.scalar(select(Quiz))
        assert [q.title for q in quiz.questions] == order
        assert {q.title: q.id for q in quiz.questions if q.title != "new"} == school_ids
    assert _answers(pair.school, pair) == at_school
    assert _keys(pair.city, pair) == _keys(pair.school, pair)


def _keys(app, pair) -> list[tuple[str, str, int]]:
    with pair.at(app):
        return sorted((q.title, q.key, q.position) for q in db.session.scalars(select(Question)))


def test_an_answer_to_a_question_the_city_deleted_is_set_aside(sync_pair, tmp_path):
    """Neither lost nor paired with another question: the city keeps it in sync_set_aside,
    by the question's name, and the round goes on; the attempt keeps the school's score."""
    pair = _three_questions(sync_pair, tmp_path / "v1")
    with pair.at(pair.city), transaction.unit_of_work():
        gone = db.session.scalar(select(Question).where(Question.title == "b"))
        name = f"sync-course/q1/{gone.key}"
        db.session.delete(gone)
    with pair.at(pair.school):
        answer = db.session.scalar(select(Response).join(Question).where(Question.title == "b"))
        answer_uuid, score = answer.uuid, db.session.scalar(select(Attempt.points))
    done = _round(pair)
    assert done.failed == []
    with pair.at(pair.city):
        kept = {(s.table_name, s.row_uuid, s.question): s.row
                for s in db.session.scalars(select(SyncSetAside))}  # fmt: skip
        assert kept[("responses", answer_uuid, name)]["value"] is True
        attempt = db.session.scalar(select(Attempt))
        assert kept[("attempts", attempt.uuid, name)]["question_id"] == name
        titles = [db.session.get(Question, int(i["question_id"])).title for i in attempt.layout]
        assert sorted(titles) == ["a", "c"] and attempt.points == score
        assert db.session.scalar(select(func.count()).select_from(Response)) == 2
        assert services.peers()[0].last_error is None
    with pair.at(pair.school):  # the update removed it at the school too, after it went up
        assert db.session.scalar(select(func.count()).select_from(Question)) == 2
    again = _round(pair)  # the removal of the school's copy changes nothing set aside
    assert again.failed == []
    with pair.at(pair.city):
        assert db.session.scalar(select(func.count()).select_from(SyncSetAside)) == 2


# --- assignment hand-ins and reviews -------------------------------------------------------------


TASK = """---
id: photo-task
title:
  th: ถ่ายรูปสินค้า
hand_in:
- photos
photos: 2
criteria:
- id: light
  title: แสงธรรมชาติ
pass: all_required
---
ถ่ายรูปสินค้าหนึ่งชิ้น
"""


def _photo(seed: int) -> assignment_services.Upload:
    image = Image.new("RGB", (64, 48), (seed * 40 % 256, 90, 160))
    out = io.BytesIO()
    image.save(out, "PNG")
    return assignment_services.Upload(f"p{seed}.png", out.getvalue())


def _handing_in(pair, folder):
    """Joined, a course with a photo assignment pulled, and at the school a teacher's class:
    somchai handed in two photos and was reviewed (passed), malee handed in one, waiting."""
    folder = write_course(folder)
    (folder / "01-m1" / "04-photo-task.assignment.md").write_text(TASK)
    _publish(pair, folder)
    _join(pair)
    _round(pair)
    with pair.at(pair.school), transaction.unit_of_work():
        school_id = services.link().school_id
        teacher, klass = _teacher_and_class("ห้องคอม 5", "ป.6/2")
        course = db.session.scalar(select(Course))
        task = db.session.scalar(select(Assignment))
        learners = []
        for name, seeds in (("somchai", (1, 2)), ("malee", (3,))):
            user, _ = create_user(name, name, password=PASSWORD, learner_kind="student",
                                  school_id=school_id)  # fmt: skip
            db.session.flush()
            class_services.add_members(klass, [user.id])
            courses.enrol(user, course)
            assignment_services.hand_in(user, task, token=f"t-{name}",
                                        photos=[_photo(n) for n in seeds])  # fmt: skip
            learners.append(user)
        first = db.session.scalar(select(Submission).where(Submission.user_id == learners[0].id))
        assignment_services.review(teacher, first, results={"light": {"done": True}},
                                   comment="ดีมาก", passed=True)  # fmt: skip
    return pair


def _hand_ins(app, pair) -> dict:
    with pair.at(app):
        users = {u.id: u.username for u in db.session.scalars(select(User))}
        reviews = {r.submission_id: r for r in db.session.scalars(select(Review))}
        out = {}
        for s in db.session.scalars(select(Submission)):
            review = reviews.get(s.id)
            out[users[s.user_id]] = (
                s.version, s.status,
                [(p.position, p.sha256, p.width) for p in s.photos],
                review and (users.get(review.reviewer_id), review.passed, review.comment,
                            review.results),
            )  # fmt: skip
        return out


def test_hand_ins_and_reviews_reach_the_city_with_their_photos(sync_pair, tmp_path):
    pair = _handing_in(sync_pair, tmp_path / "v1")
    done = _round(pair)
    assert done.sent_files == 3 and done.failed == []
    at_school = _hand_ins(pair.school, pair)
    assert at_school["somchai"][3] == ("khru", True, "ดีมาก", {"light": {"done": True}})
    assert _hand_ins(pair.city, pair) == at_school
    with pair.at(pair.city):  # the files are the city's now, by content
        for photo in db.session.scalars(select(SubmissionPhoto)):
            stored = photos.photo_path(photo.sha256)
            assert hashlib.sha256(stored.read_bytes()).hexdigest() == photo.sha256
        teacher = db.session.scalar(select(User).where(User.username == "khru"))
        queue = assignment_services.review_queue(teacher)
        assert [db.session.get(User, s.user_id).username for s in queue] == ["malee"]
        report = [(r.klass, r.handed_in, r.reviewed, r.passed) for r in practice.assignments()]
        somchai = db.session.scalar(select(User).where(User.username == "somchai"))
        task = db.session.scalar(select(Assignment))
        assert assignment_services.state_of(task, somchai.id) == "passed"
    with pair.at(pair.school):
        assert [(r.klass, r.handed_in, r.reviewed, r.passed)
                for r in practice.assignments()] == report == [("ป.6/2", 2, 1, 1)]  # fmt: skip
    again = _round(pair)
    assert (again.batches, again.sent_files) == (0, 0)

    # Malee's review at the school travels in the next round; no photo goes twice.
    with pair.at(pair.school), transaction.unit_of_work():
        teacher = db.session.scalar(select(User).where(User.username == "khru"))
        waiting = db.session.scalar(select(Submission).where(Submission.status == "waiting"))
        assignment_services.review(teacher, waiting, results={"light": {"done": False}},
                                   comment="แสงน้อยไป", passed=False)  # fmt: skip
    later = _round(pair)
    assert later.pushed_rows > 0 and later.sent_files == 0
    assert _hand_ins(pair.city, pair) == _hand_ins(pair.school, pair)
    assert _hand_ins(pair.city, pair)["malee"][1] == "needs_changes"


def test_a_hand_in_whose_photo_has_not_arrived_is_refused_then_goes(sync_pair, tmp_path):
    """The batch names a photo the city lacks (sent without its files): refused, nothing
    applied; the round sends the file first and the same rows go."""
    pair = _handing_in(sync_pair, tmp_path / "v1")
    message = _city_counts_unchanged(pair, lambda: _send(pair, _envelope(pair)))
    assert "has not arrived at the city" in message
    with pair.at(pair.city):
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 0
    done = _round(pair)
    assert done.sent_files == 3
    assert _hand_ins(pair.city, pair) == _hand_ins(pair.school, pair)


def test_another_schools_hand_in_is_refused_by_name(sync_pair, tmp_path):
    pair = _handing_in(sync_pair, tmp_path / "v1")
    with pair.at(pair.city), transaction.unit_of_work():
        other = School(name="โรงเรียนอื่น")
        db.session.add(other)
        db.session.flush()
        stranger, _ = create_user("stranger", "คนอื่น", password=PASSWORD,
                                  learner_kind="student", school_id=other.id)  # fmt: skip
        db.session.flush()
        stranger_uuid = stranger.uuid
    envelope = _envelope(pair)
    envelope["rows"]["submissions"][0]["user_id"] = stranger_uuid  # a hand-in of theirs
    with pair.at(pair.school):
        files.send(pair.city_url, f"{services.link().peer_uuid}.{services.link().secret}",
                   envelope)  # fmt: skip
    message = _city_counts_unchanged(pair, lambda: _send(pair, envelope))
    assert f"submissions: the user {stranger_uuid} belongs to another school" in message
    with pair.at(pair.city):
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 0


def test_question_keys_from_before_are_their_rank_so_both_servers_agree(tmp_path, worker_name):
    """Migration 0006 names each existing question by its rank in its quiz, which the city and
    a school that loaded its folder share (positions with gaps at the city, 1..n at the
    school); the answers to them stay."""
    url = fresh_database(tmp_path, f"sync_keys_{worker_name}")
    app = create_app(dict(TEST_CONFIG, SQLALCHEMY_DATABASE_URI=url), str(tmp_path))
    with app.app_context():
        upgrade(revision="0005_phone_course_sources")
        with db.engine.begin() as conn:
            run = lambda sql, **values: conn.execute(text(sql), values)  # noqa: E731
            run("INSERT INTO courses (id, slug, title_th, status, sequential, language, "
                "updated_at, created_at) VALUES (1, 'c', 'C', 'published', false, 'th', "
                "'2026-01-01', '2026-01-01')")  # fmt: skip
            run("INSERT INTO modules (id, course_id, key, position, title_th) "
                "VALUES (1, 1, 'm', 1, 'M')")  # fmt: skip
            for quiz in (1, 2):
                run("INSERT INTO quizzes (id, course_id, module_id, key, position, title_th, "
                    "pass_mark, attempts_allowed, time_limit_minutes, shuffle_questions, "
                    "shuffle_answers, draw_count, grading, show_feedback) VALUES (:id, 1, 1, "
                    ":key, :id, 'Q', 50, 0, 0, false, true, 0, 'best', 'after_submit')",
                    id=quiz, key=f"quiz{quiz}")  # fmt: skip
            for qid, quiz, position in ((10, 1, 7), (11, 1, 2), (12, 1, 4), (13, 2, 1)):
                run("INSERT INTO questions (id, quiz_id, position, type, title, category, "
                    "points, data) VALUES (:id, :quiz, :position, 'essay', 't', '', 1, '{}')",
                    id=qid, quiz=quiz, position=position)  # fmt: skip
            run("INSERT INTO users (id, uuid, username, full_name, password_hash, role, active, "
                "must_change_password, session_version, created_at) VALUES (1, 'u-1', 'old', "
                "'Old', 'x', 'learner', true, false, 1, '2026-01-01')")  # fmt: skip
            run("INSERT INTO attempts (id, uuid, quiz_id, user_id, number, status, started_at, "
                "layout, needs_marking) VALUES (1, 'a-1', 1, 1, 1, 'open', '2026-01-01', "
                "'[]', false)")  # fmt: skip
            run("INSERT INTO responses (uuid, attempt_id, question_id, value, saved_at) "
                "VALUES ('r-1', 1, 10, '\"x\"', '2026-01-01')")  # fmt: skip
        upgrade()
        with db.engine.connect() as conn:
            keys = dict(conn.execute(text("SELECT id, key FROM questions")).all())
            assert keys == {11: "q1", 12: "q2", 10: "q3", 13: "q1"}
            assert conn.execute(text("SELECT question_id FROM responses")).scalar() == 10
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(text("UPDATE questions SET key = 'q1' WHERE id = 10"))
        downgrade(revision="0005_phone_course_sources")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM responses")).scalar() == 1
        db.engine.dispose()


# --- a change asked at the city of a school's account: sent to the school, made there -------------


def _person(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _requests() -> list[relay.SyncRequest]:
    return list(db.session.scalars(select(relay.SyncRequest).order_by(relay.SyncRequest.id)))


def test_a_change_asked_at_the_city_is_made_by_the_school_and_comes_back(joined_with_work):
    """A password reset, a switch-off and a role change asked by the city's admin: queued, the
    city's copy untouched; the school's next round makes them with its rules (audited as asked
    at the city, its sessions ended) and the same round's push brings the new state back."""
    pair = joined_with_work
    _round(pair)  # the school's learner is at the city now, as the school's
    with pair.at(pair.school), transaction.unit_of_work():
        start_session(_person("somchai"))  # signed in at the school
    with pair.at(pair.city):
        browser = _admin_client(pair.city)
        somchai = _person("somchai")
        before = (somchai.password_hash, somchai.active, somchai.role)
        page = browser.post(f"/people/{somchai.id}/reset-password").get_data(as_text=True)
        temp = re.search(r'<code class="secret">([^<]+)</code>', page)[1]
        assert f"เซิร์ฟเวอร์ของ{SCHOOL}" in page and "รอบถัดไป" in page  # works after its round
        reply = browser.post(f"/people/{somchai.id}/active", data={"active": "0"},
                             follow_redirects=True)  # fmt: skip
        assert "รอเซิร์ฟเวอร์ของ" in reply.get_data(as_text=True)
        browser.post(f"/people/{somchai.id}/role", data={"role": "instructor"})
        refused = browser.post(f"/people/{somchai.id}/role", data={"role": "admin"},
                               follow_redirects=True).get_data(as_text=True)  # fmt: skip
        assert "ผู้ดูแลระบบ" in refused and "เซิร์ฟเวอร์ที่เป็นเจ้าของ" in refused
        db.session.expire_all()
        somchai = _person("somchai")
        assert (somchai.password_hash, somchai.active, somchai.role) == before  # not overwritten
        listing = browser.get("/sync/").get_data(as_text=True)
        assert listing.count("กำลังรอเซิร์ฟเวอร์ของ") == 3
        assert [r.change for r in _requests()] == ["password", "active", "role"]

    done = _round(pair)
    assert done.asked == 3
    with pair.at(pair.school):
        somchai = _person("somchai")
        assert verify_password(somchai, temp) and somchai.must_change_password
        assert (somchai.active, somchai.role) == (False, "instructor")
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0
        asked = [e.action for e in db.session.scalars(select(AuditEntry))
                 if e.details.get("asked_at_city_by") == "admin"]  # fmt: skip
        assert sorted(asked) == ["user.active", "user.password_reset", "user.role"]
    with pair.at(pair.city):  # the same round's push brought the school's new state
        somchai = _person("somchai")
        assert verify_password(somchai, temp)
        assert (somchai.active, somchai.role) == (False, "instructor")
        assert {(r.outcome, r.answered_at is not None) for r in _requests()} == {("applied", True)}
        assert all("password_hash" not in r.payload for r in _requests())
        listing = _admin_client_again(pair.city).get("/sync/").get_data(as_text=True)
        assert "กำลังรอ" not in listing and listing.count("เซิร์ฟเวอร์โรงเรียนทำแล้วเมื่อ") == 3


def test_a_request_delivered_twice_is_made_once(joined_with_work):
    """The school's answer was lost on the way: the city asks again, the school answers again
    the same way and does not make the change a second time (its admin switched the learner
    back on meanwhile, and that stays)."""
    pair = joined_with_work
    _round(pair)
    with pair.at(pair.city), transaction.unit_of_work():
        assert SCHOOL in set_active_asked(_person("somchai"), False)
    _round(pair)
    with pair.at(pair.school), transaction.unit_of_work():
        set_active(_person("somchai"), True)  # the school's own decision, after the request
    with pair.at(pair.city), transaction.unit_of_work():
        for request in _requests():  # as if the answer never reached the city
            request.answered_at = request.outcome = None
    done = _round(pair)
    assert done.asked == 1
    with pair.at(pair.school):
        assert _person("somchai").active is True
        assert db.session.scalar(select(func.count()).select_from(relay.SyncRequestDone)) == 1
    with pair.at(pair.city):
        assert _person("somchai").active is True
        assert [r.outcome for r in _requests()] == ["applied"]


def test_a_request_the_school_refuses_comes_back_with_its_reason(joined_with_work):
    """The account went at the school before the request arrived: refused, the reason shown at
    the city in the reader's language, the school's removal applied as usual."""
    pair = joined_with_work
    _round(pair)
    with pair.at(pair.city), transaction.unit_of_work():
        _temp, owner = reset_password_asked(_person("somchai"))
        assert SCHOOL in owner
    with pair.at(pair.school), transaction.unit_of_work():
        db.session.delete(_person("somchai"))
    assert _round(pair).asked == 1
    with pair.at(pair.city):
        assert _person("somchai") is None
        (request,) = _requests()
        assert (request.outcome, request.user_id) == ("refused", None)
        browser = _admin_client(pair.city)
        listing = browser.get("/sync/").get_data(as_text=True)
        assert "ปฏิเสธ" in listing and "บัญชีนี้ไม่อยู่ที่เซิร์ฟเวอร์โรงเรียนแล้ว" in listing
        assert "somchai" in listing  # named as it was when asked
        browser.post("/language", data={"language": "en"})
        english = browser.get("/sync/").get_data(as_text=True)
        assert "the account is no longer on the school server" in english
    again = _round(pair)
    assert again.asked == 0  # answered: not asked again


# --- the background round -------------------------------------------------------------------------


def test_one_round_at_a_time_on_a_server(learning):
    """A round held (the background one, say): `sync run` from cron says so and runs none."""
    pair = learning
    with pair.at(pair.school), services.round_lock():
        held = pair.school.test_cli_runner().invoke(args=["academy", "sync", "run"])
        assert held.exit_code == 1 and "another round is running" in held.output
        with pytest.raises(services.RoundBusy):
            services.run_round()
    with pair.at(pair.school):
        assert services.link().last_error is None  # a busy server is no error of the link
    done = pair.school.test_cli_runner().invoke(args=["academy", "sync", "run"])
    assert done.exit_code == 0 and "pushed" in done.output


def _runners(instance) -> list[int]:
    """The background round processes serving this instance folder."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile, or not ours
            continue
        if (
            b"background" in command
            and b"--beside" in command
            and (f"ACADEMY_INSTANCE_PATH={instance}".encode() in environ)
        ):
            found.append(int(proc.name))
    return found


def _until(check, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.2)


@contextmanager
def _round_held():
    """This server's round lock, taken as soon as the background round in hand lets go."""
    deadline = time.monotonic() + 60
    while True:
        held = services.round_lock()
        try:
            held.__enter__()
            break
        except services.RoundBusy:
            assert time.monotonic() < deadline, "the background round never let go"
            time.sleep(0.05)
    try:
        yield
    finally:
        held.__exit__(None, None, None)


@pytest.mark.slow
def test_a_school_server_runs_its_rounds_by_itself(tmp_path):
    """`python -m academy.serve` on a school server with SYNC_ROUND_MINUTES: one runner for its
    two workers; work reaches the city with no `sync run`; a round while one is held is
    skipped, a failed one logged and shown, the next one on schedule goes; it stops with the
    server."""
    city_port = free_port()
    city = _env(tmp_path / "city", f"sqlite:///{tmp_path / 'city.db'}")
    instance = tmp_path / "school"
    school = _env(instance, f"sqlite:///{tmp_path / 'school.db'}", ACADEMY_SYNC_ROLE="school",
                  ACADEMY_SYNC_ROUND_MINUTES="0.05")  # fmt: skip
    city_app, school_app = _upgraded(city, school)
    with served(city, tmp_path / "city.log", port=city_port) as city_url:
        _join_by_commands(city, school, city_url)
    log = tmp_path / "school.log"

    def learner_at_city(name: str) -> bool:
        return _one(city_app, select(User.id).where(User.username == name)) is not None

    def school_error() -> str | None:
        return _one(school_app, select(SyncLink.last_error))

    with served(school, log, main=True) as school_url:
        _until(lambda: len(_runners(instance)) == 1, "the runner started")
        (runner,) = _runners(instance)
        with served(city, tmp_path / "city.log", port=city_port):
            with _unit(school_app):
                create_user("malee", "มาลี", password=PASSWORD, learner_kind="student")
            _until(lambda: learner_at_city("malee"), "a round by itself")
            with school_app.app_context(), _round_held():  # as a `sync run` would hold it
                skipped = log.read_text().count("this one is skipped")
                held = _flask(school, "academy", "sync", "run", check=False)
                assert held.returncode == 1 and "another round is running" in held.stderr
                _until(lambda: log.read_text().count("this one is skipped") > skipped, "skipped")
        # The city is down: the round fails, is logged and shown on the page, in Thai.
        _until(lambda: "cannot be reached" in (school_error() or ""), "the failure kept")
        assert "the round stopped: the city server cannot be reached" in log.read_text()
        page = sign_in(school_url, "schooladmin", PASSWORD).get(f"{school_url}/sync/", timeout=30)
        assert "ติดต่อเซิร์ฟเวอร์กลางไม่ได้" in page.text and "ทุก 0.05 นาที" in page.text
        with served(city, tmp_path / "city.log", port=city_port):
            with _unit(school_app):
                create_user("somsri", "สมศรี", password=PASSWORD, learner_kind="student")
            _until(lambda: learner_at_city("somsri"), "the next round on schedule")
            _until(lambda: school_error() is None, "the error cleared by a good round")
        assert _runners(instance) == [runner]  # still the one, whatever the rounds did
    _until(lambda: not _runners(instance), "the runner stopped with the server", 30)
    assert "academy.sync.rounds: stopped" in log.read_text()


# --- the last error in the reader's language --------------------------------------------------------


def test_the_last_error_shows_in_the_readers_language(joined_with_work):
    """A refusal is kept as its message id and values on both sides: the pages show it in Thai
    (the default) or English, the command line and the wire in English."""
    pair = joined_with_work
    body, digest = push.pack(_envelope(pair))
    flipped = gzip.compress(gzip.decompress(body).replace(b"somchai", b"somchat"))
    _city_counts_unchanged(pair, lambda: _send(pair, body=flipped, digest=digest))
    with pair.at(pair.city):
        browser = _admin_client(pair.city)
        page = browser.get("/sync/").get_data(as_text=True)
        assert "ชุดข้อมูลขาดหายหรือเสียหาย (SHA-256 ไม่ตรงกัน)" in page
        assert "does not match" not in page
        browser.post("/language", data={"language": "en"})
        page = browser.get("/sync/").get_data(as_text=True)
        assert "the batch is truncated or corrupted (its SHA-256 does not match)" in page

    # A refusal with values reaches the school as its id and values.
    with pair.at(pair.city), transaction.unit_of_work():
        create_user("somchai", "สมชาย ที่เมือง", password=PASSWORD, learner_kind="seller")
    with pytest.raises(client.Unreachable, match="the username 'somchai' belongs"):
        _round(pair)
    with pair.at(pair.school):
        joined = services.link()
        assert joined.last_problem == {
            "id": "users: the username '%(username)s' belongs to another account at the city; "
            "rename one of them",
            "params": {"username": "somchai"},
        }
        browser = _admin_client(pair.school)
        page = html.unescape(browser.get("/sync/").get_data(as_text=True))
        assert "ชื่อผู้ใช้ 'somchai' เป็นของบัญชีอื่นที่เซิร์ฟเวอร์กลาง" in page
    status = pair.school.test_cli_runner().invoke(args=["academy", "sync", "status"])
    assert "last error: users: the username 'somchai' belongs to another account" in status.output


def test_an_error_kept_before_message_ids_shows_as_written(sync_pair):
    pair = sync_pair
    _join(pair)
    with pair.at(pair.school), transaction.unit_of_work():
        services.link().last_error = "written by an older Academy"
    with pair.at(pair.school):
        page = _admin_client(pair.school).get("/sync/").get_data(as_text=True)
        assert "written by an older Academy" in page


def test_a_photo_lost_from_the_schools_disk_stops_the_round_in_plain_words(sync_pair, tmp_path):
    """The batch holding that hand-in waits (earlier batches went); nothing of it is sent."""
    pair = _handing_in(sync_pair, tmp_path / "v1")
    with pair.at(pair.school):
        sha = db.session.scalar(select(SubmissionPhoto.sha256).order_by(SubmissionPhoto.id))
        photos.photo_path(sha).unlink()
    with pytest.raises(client.Unreachable, match="is missing on this server"):
        _round(pair)
    with pair.at(pair.school):
        assert "is missing on this server" in services.link().last_error
    with pair.at(pair.city):
        assert db.session.scalar(select(func.count()).where(SubmissionPhoto.sha256 == sha)) == 0
        assert db.session.scalar(select(func.count()).select_from(Submission)) < 2


def test_a_joined_school_prints_the_citys_address_on_its_certificates(sync_pair, monkeypatch):
    """A certificate issued at the school verifies at the city after the next round, so its
    link and QR code must lead there, with no setting to forget; PUBLIC_BASE_URL still wins."""
    from academy.certificates import verification

    pair = sync_pair
    lan = "http://10.0.0.5"  # how the room's browsers reach the school PC
    with pair.school.test_request_context("/", base_url=lan):
        assert verification.print_base() == lan  # not joined yet: as the browser came
    _join(pair)
    with pair.school.test_request_context("/", base_url=lan):
        assert verification.verify_url("ABCD2345EF").startswith(pair.city_url + "/verify/")
        assert verification.configured_base() == pair.city_url  # a PDF printed with lan is redone
    monkeypatch.setitem(pair.school.config, "PUBLIC_BASE_URL", "https://academy.example.th")
    with pair.school.test_request_context("/", base_url=lan):
        assert verification.print_base() == "https://academy.example.th"
    with pair.city.test_request_context("/", base_url="https://city.example.th"):
        assert verification.print_base() == "https://city.example.th"  # the city: as it is reached


def test_an_enrolment_token_never_reads_as_an_option():
    # One token in 64 began with "-", and `sync join CITY_URL -e...` then failed with "No such
    # option"; 500 draws find one with near certainty (all but 4 in 10,000) if it still can.
    assert not [t for t in (services.enrolment_token() for _ in range(500)) if t.startswith("-")]
