"""The schema comes only from migrations: on an empty database they build exactly the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from academy import create_app
from academy.extensions import db
from tests.conftest import TEST_CONFIG
from tests.fixtures.databases import fresh_database


def test_migrations_match_the_models(tmp_path, worker_name):
    url = fresh_database(tmp_path, "academy_migrations")
    app = create_app(dict(TEST_CONFIG, SQLALCHEMY_DATABASE_URI=url), str(tmp_path))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ; run `flask db migrate`: {diff}"
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


# The rows a learner's work leaves, made through the services (signals included: progress,
# completion and the certificate record follow as in a request).
KEPT_TABLES = (
    "users", "user_sessions", "schools", "courses", "modules", "lessons", "quizzes",
    "questions", "enrolments", "attempts", "responses", "progress_events", "lesson_progress",
    "quiz_results", "course_progress", "certificates",
)  # fmt: skip


ANSWERS = {"single": 0, "truefalse": True, "multiple": [0], "short": "x"}


def _learners_work() -> None:
    from sqlalchemy import select

    from academy.auth.services import create_user, start_session
    from academy.certificates import issuing
    from academy.classes.models import School
    from academy.core import transaction
    from academy.courses import services as courses
    from academy.courses.models import Course, Lesson
    from academy.progress import services as progress
    from academy.quizzes import taking
    from academy.quizzes.models import Question, Quiz
    from academy.studio.loader import course_folders, load_course

    with transaction.unit_of_work():
        load_course(next(iter(course_folders())))
    with transaction.unit_of_work():
        course = db.session.scalar(select(Course))
        school = School(name="โรงเรียนเก่า")
        db.session.add(school)
        db.session.flush()
        for n in range(3):
            user, _ = create_user(f"learner{n}", "นักเรียน", password="correct horse 1",
                                  school_id=school.id)  # fmt: skip
            db.session.flush()
            start_session(user)
            courses.enrol(user, course)
            for lesson in db.session.scalars(select(Lesson).where(Lesson.course_id == course.id)):
                progress.record_view(user, lesson)
                progress.mark_done(user, lesson)
            quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id))
            attempt = taking.start_attempt(user, quiz)
            kinds = dict(db.session.execute(select(Question.id, Question.type)).all())
            for item in attempt.layout:
                if kinds[item["question_id"]] in ANSWERS:
                    value = ANSWERS[kinds[item["question_id"]]]
                    taking.save_response(attempt, item["question_id"], value, user)
            taking.submit(attempt, user)
            issuing.issue(user, course)


def _counts(tables) -> dict[str, int]:
    from sqlalchemy import text

    present = set(inspect(db.engine).get_table_names())
    with db.engine.connect() as conn:
        count = "SELECT count(*) FROM {}"  # our own table names
        return {t: conn.execute(text(count.format(t))).scalar() for t in tables if t in present}


def test_learners_records_survive_every_migration_down_and_up(tmp_path, worker_name):
    # On SQLite a migration that rebuilds a table (batch_alter_table) drops the old one; with
    # foreign keys on, that DROP deleted every row pointing at it by cascade: upgrading a
    # school server through 0005_sync_identity emptied its enrolments, progress, attempts,
    # answers and certificates. The migrations now run with foreign keys off (and checked).
    url = fresh_database(tmp_path, f"academy_keep_rows_{worker_name}")
    app = create_app(dict(TEST_CONFIG, SQLALCHEMY_DATABASE_URI=url), str(tmp_path))
    with app.app_context():
        upgrade()
        _learners_work()
        made = _counts(KEPT_TABLES)
        assert all(made[t] for t in KEPT_TABLES), {t: n for t, n in made.items() if not n}
        downgrade(revision="0002_assignments")
        kept = _counts(KEPT_TABLES)
        assert kept == {t: made[t] for t in kept}
        upgrade()
        assert _counts(KEPT_TABLES) == made
        db.engine.dispose()
