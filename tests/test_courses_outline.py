"""The course outline kept per process by course version (academy/courses/outline_cache.py):
every write path gives the course a new version, and every app server shows the change on its
next page. Two app instances on one database stand for two workers, each with its own cache."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text, update

from academy import create_app
from academy.courses import outline_cache, services
from academy.courses.models import Course, Lesson, Module
from academy.extensions import db
from academy.quizzes.models import Quiz
from academy.studio import assignment_editing, export, loader
from academy.studio import services as studio
from academy.sync import pull
from tests.conftest import TEST_CONFIG, AcademyClient
from tests.fixtures.databases import fresh_database


@pytest.fixture(scope="module")
def other_app(database_url, tmp_path_factory):
    """A second app server on the same database, with its own outline cache."""
    app = create_app(
        dict(TEST_CONFIG, SQLALCHEMY_DATABASE_URI=database_url),
        instance_path=str(tmp_path_factory.mktemp("other-instance")),
    )
    app.test_client_class = AcademyClient
    yield app
    with app.app_context():
        db.engine.dispose()


def _version(course_id: int) -> int:
    with db.engine.connect() as conn:
        return conn.execute(
            text("SELECT outline_version FROM courses WHERE id = :id"), {"id": course_id}
        ).scalar_one()


def _order(*titles: str):
    """The page shows `titles` in this order."""

    def check(html: str) -> bool:
        places = [html.find(t) for t in titles]
        return -1 not in places and places == sorted(places)

    return check


def _shows(*shown: str, gone: tuple[str, ...] = ()):
    def check(html: str) -> bool:
        return all(s in html for s in shown) and not any(g in html for g in gone)

    return check


def _lesson(course: Course, key: str) -> Lesson:
    return db.session.scalar(select(Lesson).where(Lesson.course_id == course.id, Lesson.key == key))


def _module(course: Course, key: str) -> Module:
    return db.session.scalar(select(Module).where(Module.course_id == course.id, Module.key == key))


# Each write path: change the course, return what its page shows afterwards.


def lesson_renamed(w):
    studio.save_lesson(w.course, _module(w.course, "m1"), _lesson(w.course, "m1-l1"),
                       "ชื่อบทใหม่", None, 5, "เนื้อหา")  # fmt: skip
    return _shows("ชื่อบทใหม่", gone=("บทเรียน 1.1",))


def lesson_added(w):
    studio.save_lesson(w.course, _module(w.course, "m2"), None, "บทที่เพิ่มมา", None, 5, "x")
    return _order("บทเรียน 2.2", "บทที่เพิ่มมา")


def lesson_deleted(w):
    studio.delete_lesson(_lesson(w.course, "m1-l2"))
    return _shows("บทเรียน 1.1", gone=("บทเรียน 1.2",))


def lesson_moved(w):
    studio.move_item(_lesson(w.course, "m1-l2"), "up")
    return _order("บทเรียน 1.2", "บทเรียน 1.1")


def module_renamed(w):
    studio.update_module(_module(w.course, "m1"), "หัวข้อใหม่", None, "สรุปหัวข้อ", None)
    return _shows("หัวข้อใหม่", "สรุปหัวข้อ", gone=("บทที่ 1<",))


def module_moved(w):
    studio.move_module(_module(w.course, "m2"), "up")
    return _order("บทเรียน 2.1", "บทเรียน 1.1")


def module_deleted(w):
    # Its lessons go by the database's ON DELETE CASCADE, which no ORM event sees.
    studio.delete_module(_module(w.course, "m2"))
    return _shows("บทเรียน 1.1", gone=("บทเรียน 2.1",))


def quiz_added(w):
    studio.add_quiz(w.course, _module(w.course, "m1"), "แบบทดสอบใหม่")
    return _shows("แบบทดสอบใหม่")


def quiz_editor(w):
    response = w.editor.post(
        f"/quizzes/{w.quiz.id}/settings",
        data={"title_th": "ตั้งชื่อแบบทดสอบ", "pass_mark": 50, "grading": "best",
              "show_feedback": "after_submit"},
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    assert db.session.get(Quiz, w.quiz.id).title_th == "ตั้งชื่อแบบทดสอบ"
    return _shows("ตั้งชื่อแบบทดสอบ", gone=(w.quiz_title,))


def assignment_edited(w):
    assignment_editing.save_assignment(
        w.course, _module(w.course, "m2"), w.assignment, title_th="งานชื่อใหม่", title_en=None,
        instructions="เขียนคำตอบ", data={"hand_in": ["text"], "criteria": [{"id": "a", "title": "ตอบ"}]},
    )  # fmt: skip
    return _shows("งานชื่อใหม่", gone=(w.assignment_title,))


def assignment_deleted(w):
    assignment_editing.delete_assignment(w.assignment)
    return _shows("บทเรียน 2.1", gone=(w.assignment_title,))


def _renamed_folder(course: Course) -> dict[str, bytes]:
    return {
        path: blob.replace("บทเรียน 1.1".encode(), "บทจากแฟ้ม".encode())
        for path, blob in export.course_files(course).items()
    }


def folder_loaded(w):
    for path, blob in _renamed_folder(w.course).items():
        (w.tmp_path / "folder" / path).parent.mkdir(parents=True, exist_ok=True)
        (w.tmp_path / "folder" / path).write_bytes(blob)
    loader.load_course(w.tmp_path / "folder")
    return _shows("บทจากแฟ้ม", gone=("บทเรียน 1.1",))


def sync_pulled(w):
    contents = _renamed_folder(w.course)
    files = {path: hashlib.sha256(blob).hexdigest() for path, blob in contents.items()}
    offer = {"slug": w.course.slug, "files": files, "digest": pull.digest_of(files)}
    pull.store(offer, contents)
    return _shows("บทจากแฟ้ม", gone=("บทเรียน 1.1",))


def bulk_update(w):
    db.session.execute(
        update(Lesson).where(Lesson.course_id == w.course.id, Lesson.key == "m1-l1")
        .values(title_th="แก้ทีละหลายแถว")
    )  # fmt: skip
    return _shows("แก้ทีละหลายแถว", gone=("บทเรียน 1.1",))


def raw_sql(w):
    db.session.commit()
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE quizzes SET title_th = 'แก้ด้วย SQL' WHERE id = :id"), {"id": w.quiz.id}
        )
    return _shows("แก้ด้วย SQL", gone=(w.quiz_title,))


WRITE_PATHS = [
    lesson_renamed, lesson_added, lesson_deleted, lesson_moved, module_renamed, module_moved,
    module_deleted, quiz_added, quiz_editor, assignment_edited, assignment_deleted,
    folder_loaded, sync_pulled, bulk_update, raw_sql,
]  # fmt: skip


class World:
    def __init__(self, **kw):
        self.__dict__.update(kw)


@pytest.fixture
def world(app, make_course, make_quiz_in, make_assignment, make_user, tmp_path):
    instructor = make_user("instructor")
    course = make_course(modules=2, lessons=2, instructor=instructor)
    quiz = make_quiz_in(course.modules[0])
    assignment = make_assignment(course)
    editor = app.test_client()
    editor.login(instructor)
    return World(
        course=course, quiz=quiz, assignment=assignment, editor=editor, tmp_path=tmp_path,
        quiz_title=quiz.title_th, assignment_title=assignment.title_th,
    )  # fmt: skip


@pytest.mark.parametrize("write", WRITE_PATHS, ids=lambda f: f.__name__)
def test_each_write_path_gives_a_new_version_that_every_worker_shows(
    write, world, client, other_app
):
    workers = [client, other_app.test_client()]
    page = f"/courses/{world.course.slug}"
    for worker in workers:  # each keeps the outline it showed
        assert "บทเรียน 1.1" in worker.get(page).get_data(as_text=True)
        assert worker.application.extensions["academy.outlines"].get(
            (world.course.id, _version(world.course.id))
        )
    before = _version(world.course.id)
    shows = write(world)
    db.session.commit()
    assert _version(world.course.id) != before
    for worker in workers:
        html = worker.get(page).get_data(as_text=True)
        assert shows(html), (worker.application.name, re.sub(r"\s+", " ", html)[-3000:])


def test_the_lesson_page_of_another_worker_shows_the_change(
    make_course, make_user, client, other_app
):
    course = make_course(modules=2, lessons=2)
    learner = make_user("learner")
    page = f"/courses/{course.slug}/lessons/m1-l2"
    workers = [client.login(learner), other_app.test_client().login(learner)]
    for worker in workers:
        html = worker.get(page).get_data(as_text=True)
        assert "บทที่ 1" in html and "บทเรียน 2.1" in html  # the module, the next lesson
    studio.update_module(_module(course, "m1"), "หัวข้อที่แก้", None, None, None)
    db.session.execute(update(Lesson).where(Lesson.key == "m2-l1").values(title_th="บทถัดไปใหม่"))
    db.session.commit()
    for worker in workers:
        html = worker.get(page).get_data(as_text=True)
        assert "หัวข้อที่แก้" in html and "บทถัดไปใหม่" in html


def test_a_transaction_that_changed_the_outline_reads_it_fresh(make_course):
    course = make_course(modules=1, lessons=2)
    assert services.learner_outline(course)[0].items[0].obj.title_th == "บทเรียน 1.1"
    _lesson(course, "m1-l1").title_th = "ยังไม่ได้บันทึก"
    db.session.flush()  # the database renewed the version; the loaded course has the old one
    assert services.learner_outline(course)[0].items[0].obj.title_th == "ยังไม่ได้บันทึก"
    db.session.rollback()
    assert services.learner_outline(course)[0].items[0].obj.title_th == "บทเรียน 1.1"


def test_the_kept_outline_is_read_only_and_holds_no_lesson_bodies(make_course):
    course = make_course(modules=1, lessons=1)
    services.learner_outline(course)
    item = services.learner_outline(course)[0].items[0]
    with pytest.raises(AttributeError):
        item.obj.title_th = "x"
    assert not hasattr(item.obj, "body_html")


def test_the_cache_is_bounded(app, make_course, client, count_queries, monkeypatch):
    cache = outline_cache.outlines(app)
    monkeypatch.setattr(cache, "size", 2)
    courses = [make_course(modules=1, lessons=1) for _ in range(3)]
    for course in courses:
        client.get(f"/courses/{course.slug}")
    assert len(cache) == 2
    with count_queries() as kept:
        client.get(f"/courses/{courses[2].slug}")
    with count_queries() as evicted:  # the oldest went: read again from the database
        client.get(f"/courses/{courses[0].slug}")
    assert len(evicted) == len(kept) + 3, (kept, evicted)


def test_every_table_of_the_outline_renews_the_version(make_course, make_quiz_in, make_assignment):
    """A feature that puts items in the outline (outline_items) must follow() its table."""
    course = make_course(modules=1, lessons=1)
    make_quiz_in(course)
    make_assignment(course)
    modules = services.outline(course)
    rows = [m.module for m in modules] + [i.obj for i in services.flat_items(modules)]
    assert {i.kind for i in services.flat_items(modules)} == {"lesson", "quiz", "assignment"}
    assert {type(row).__tablename__ for row in rows} <= outline_cache.FOLLOWED


def test_the_migration_adds_the_version_and_its_triggers(tmp_path: Path, worker_name):
    url = fresh_database(tmp_path, f"outline_upgrade_{worker_name}")
    app = create_app(dict(TEST_CONFIG, SQLALCHEMY_DATABASE_URI=url), str(tmp_path))
    with app.app_context():
        upgrade(revision="0005_phone_course_sources")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO courses (id, slug, title_th, status, sequential, language, "
                "created_at, updated_at) VALUES (1, 'old', 'เก่า', 'published', false, 'th', "
                "'2026-01-01', '2026-01-01')"
            ))  # fmt: skip
            conn.execute(text(
                "INSERT INTO modules (id, course_id, key, position, title_th) "
                "VALUES (1, 1, 'm1', 1, 'บท')"
            ))  # fmt: skip
        upgrade()
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT outline_version FROM courses")).scalar() == 0
            conn.execute(text("UPDATE modules SET title_th = 'บทใหม่'"))
            assert conn.execute(text("SELECT outline_version FROM courses")).scalar() != 0
        downgrade(revision="0005_phone_course_sources")
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE modules SET title_th = 'ยังอยู่'"))  # no trigger left
            assert conn.execute(text("SELECT title_th FROM modules")).scalar() == "ยังอยู่"
        db.engine.dispose()


def test_the_kept_outline_speaks_each_visitor_s_language(make_course, client, app):
    course = make_course(modules=1, lessons=1)
    thai = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    english = app.test_client()
    english.set_cookie("lang", "en")
    html = english.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert "บทเรียน 1.1" in thai and "Lesson 1.1" not in thai
    assert "Lesson 1.1" in html and "Module 1" in html and "บทเรียน 1.1" not in html
