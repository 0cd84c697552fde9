"""Bench data: the classes feature's city generator when it is on main (bench/gen_city.py),
otherwise a minimal one of our own (accounts only, plus the demo data `seed-demo` loads)."""

from __future__ import annotations

import importlib.util
import sys

from sqlalchemy import insert, select

# Learner accounts per preset when gen_city is not there: one room, a district, the city
# (109 school computer rooms of 40).
LEARNERS = {"small": 200, "district": 40 * 20, "city": 109 * 40}
PASSWORD = "bench-password-1"  # noqa: S105 (the throwaway bench accounts)


def generate(app, preset: str, database_url: str) -> tuple[str, str | None]:
    """Fill the database; return which generator did it and the learners' password (None
    when the generator does not say: the sign-in scenario is then skipped)."""
    from academy import demo
    from academy.extensions import db

    with app.app_context():
        demo.seed_users()
        db.session.commit()
        load_starter_courses()
    if importlib.util.find_spec("bench.gen_city") is not None:
        from bench import gen_city

        gen_city.generate(preset, database_url, echo=_stderr)
        generator, password = "bench.gen_city", getattr(gen_city, "PASSWORD", None)
    else:
        _minimal(app, preset)
        generator, password = "bench.seed (minimal: accounts only)", PASSWORD
    with app.app_context():
        enrol_learners(SESSIONS)
    return generator + " + starter courses", password


# The harness signs in this many learners; each is enrolled in every course (the lesson,
# quiz and mark-done scenarios need an enrolled learner) and a few get a certificate.
SESSIONS = 400


def load_starter_courses() -> None:
    """The starter courses in courses/, through the real loader (published, with quizzes)."""
    from academy.core.transaction import unit_of_work
    from academy.studio.loader import course_folders, load_course

    for folder in course_folders():
        with unit_of_work():
            load_course(folder)


def enrol_learners(limit: int) -> None:
    """Enrol the first `limit` learners (by id) in every published course, and give the first
    ten a certificate for the first course (the certificate pages need one)."""
    from academy.auth.models import User
    from academy.certificates import services as certificates
    from academy.courses.models import Course, Enrolment
    from academy.demo import DEMO_USERS
    from academy.extensions import db

    demo = [username for username, *_rest in DEMO_USERS]
    learners = list(
        db.session.scalars(
            select(User).where(User.role == "learner", User.active.is_(True),
                               User.username.not_in(demo))
            .order_by(User.id).limit(limit)
        )
    )  # fmt: skip
    courses = list(db.session.scalars(select(Course).where(Course.status == "published")))
    enrolled = set(
        db.session.execute(
            select(Enrolment.user_id, Enrolment.course_id).where(
                Enrolment.user_id.in_([u.id for u in learners])
            )
        ).tuples()
    )
    rows = [
        {"user_id": u.id, "course_id": c.id, "source": "self"}
        for u in learners
        for c in courses
        if (u.id, c.id) not in enrolled
    ]
    if rows:
        db.session.execute(insert(Enrolment), rows)
    for user in learners[:10]:
        certificates.issue(user, courses[0])
    db.session.commit()


def _stderr(*args, **kwargs) -> None:
    print(*args, file=sys.stderr, **kwargs)  # the table alone goes to stdout


def _minimal(app, preset: str) -> None:
    from academy.auth.models import User
    from academy.auth.services import hash_password
    from academy.extensions import db

    with app.app_context():
        digest = hash_password(PASSWORD)  # one Argon2 hash shared by every bench account
        rows = [
            {"username": f"bench{n:05d}", "full_name": f"นักเรียน ทดสอบ {n}", "role": "learner",
             "learner_kind": "student", "password_hash": digest, "active": True,
             "must_change_password": False, "session_version": 1}
            for n in range(LEARNERS[preset])
        ]  # fmt: skip
        rows += [
            {"username": "benchteacher", "full_name": "ครู ทดสอบ", "role": "instructor",
             "password_hash": digest, "active": True, "must_change_password": False,
             "session_version": 1},
            {"username": "benchadmin", "full_name": "ผู้ดูแล ทดสอบ", "role": "admin",
             "password_hash": digest, "active": True, "must_change_password": False,
             "session_version": 1},
        ]  # fmt: skip
        existing = set(db.session.scalars(select(User.username)))
        rows = [r for r in rows if r["username"] not in existing]
        for start in range(0, len(rows), 1000):
            db.session.execute(insert(User), rows[start : start + 1000])
        db.session.commit()
