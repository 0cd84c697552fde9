"""Demo data for `make run` (`flask academy seed-demo`): one account per role, the starter
courses from courses/, and the default milestone paths of the seller and OTOP programmes."""

from __future__ import annotations

import click
from sqlalchemy import select

from academy.auth import services as auth
from academy.auth.models import SELLER, STUDENT, User
from academy.coaching import services as coaching
from academy.core import transaction
from academy.core.cli import academy_cli, fail
from academy.courses import services as courses
from academy.courses.models import CourseInstructor
from academy.extensions import db
from academy.studio import loader

# Demo sign-ins, printed by `make run`. Only for a demo database: change them on a real server.
DEMO_USERS = (
    # username, password, role, kind, full name
    ("admin", "admin-demo-1", "admin", None, "ผู้ดูแลระบบ ตัวอย่าง"),
    ("teacher", "teacher-demo-1", "instructor", None, "ครูสมศรี ใจดี"),
    ("student", "student-demo-1", "learner", STUDENT, "เด็กชายกฤษณ์ ปู่น้ำทิพย์"),
    ("seller", "seller-demo-1", "learner", SELLER, "แม่ค้าน้ำฝน ที่โบ๊เบ๊"),
)


def seed_users() -> list[tuple[str, str, str]]:
    created = []
    for username, password, role, kind, name in DEMO_USERS:
        exists = db.session.scalar(select(User.id).where(User.username == username))
        if exists is None:
            auth.create_user(username, name, role=role, password=password, learner_kind=kind)
        created.append((username, password, role))
    return created


def seed_courses() -> list[str]:
    """Load every course under courses/ and make the demo teacher one of its instructors.
    Each course is its own transaction; a broken course stops the seed with its file:line."""
    teacher = db.session.scalar(select(User).where(User.username == "teacher"))
    loaded = []
    for folder in loader.course_folders():
        with transaction.unit_of_work():
            course = loader.load_course(folder)
            if teacher is not None:
                exists = db.session.get(CourseInstructor, (course.id, teacher.id))
                if exists is None:
                    db.session.add(CourseInstructor(course_id=course.id, user_id=teacher.id))
        loaded.append(course.slug)
    return loaded


def seed_milestones() -> None:
    """The default path (shop opened ... first five-star review) for sellers and OTOP."""
    courses.ensure_standard_tracks()
    for slug in coaching.DEFAULT_TRACKS:
        track = courses.track_by_slug(slug)
        if track is not None:
            coaching.add_defaults(track)


@academy_cli.command("seed-demo")
def seed_demo_command():
    """Create the demo accounts and load the starter courses (safe to run again)."""
    with transaction.unit_of_work():
        users = seed_users()
    try:
        courses = seed_courses()
    except loader.CourseFormatError as exc:
        fail(str(exc))
    with transaction.unit_of_work():
        seed_milestones()
    click.echo(f"Courses loaded: {', '.join(courses) or '(none in courses/)'}")
    click.echo("Demo sign-ins (username / password):")
    for username, password, role in users:
        click.echo(f"  {role:<10} {username:<10} {password}")
