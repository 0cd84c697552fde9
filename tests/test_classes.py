"""Classes: who sees what, class enrolment, join codes, moving and removing learners, schools."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from academy.classes import services
from academy.classes.models import Class, ClassInstructor, ClassMember, Programme, Room, School
from academy.core import signals
from academy.core.db import utcnow
from academy.courses.models import Enrolment
from academy.extensions import db
from tests.fixtures.auth import PASSWORD
from tests.fixtures.files import read_pdf


def enrolments(user_id=None):
    query = select(Enrolment.user_id, Enrolment.course_id, Enrolment.source)
    if user_id:
        query = query.where(Enrolment.user_id == user_id)
    return set(db.session.execute(query).all())


@pytest.fixture
def world(make_user, make_class, make_class_course):
    """A class with its instructor and two learners, and another instructor's class."""
    teacher = make_user("instructor")
    other_teacher = make_user("instructor")
    pupils = [make_user("learner"), make_user("learner")]
    course = make_class_course()
    klass = make_class(instructor=teacher, members=pupils, courses=[course])
    other = make_class(instructor=other_teacher)
    return {
        "teacher": teacher,
        "other_teacher": other_teacher,
        "pupils": pupils,
        "course": course,
        "klass": klass,
        "other": other,
        "admin": make_user("admin"),
        "learner": pupils[0],
    }


PAGES = [
    ("/classes", {"anon": 302, "learner": 403, "teacher": 200, "other_teacher": 200, "admin": 200}),
    ("/classes/new", {"anon": 302, "learner": 403, "teacher": 200, "admin": 200}),
    ("/classes/{klass}", {"anon": 302, "learner": 403, "teacher": 200, "other_teacher": 404,
                          "admin": 200}),
    ("/classes/{klass}/import", {"anon": 302, "learner": 403, "teacher": 200,
                                 "other_teacher": 404, "admin": 200}),
    ("/admin/schools", {"anon": 302, "learner": 403, "teacher": 403, "admin": 200}),
    ("/admin/schools/{school}", {"anon": 302, "learner": 403, "teacher": 403, "admin": 200}),
    ("/admin/programmes", {"anon": 302, "learner": 403, "teacher": 403, "admin": 200}),
    ("/join", {"anon": 302, "learner": 200, "teacher": 403, "admin": 200}),
    ("/classes/{klass}/poster.pdf", {"anon": 302, "learner": 403, "teacher": 200,
                                     "other_teacher": 404, "admin": 200}),
]  # fmt: skip


@pytest.mark.parametrize(("path", "expected"), PAGES, ids=[p for p, _e in PAGES])
def test_access_table(app, world, path, expected):
    url = path.format(klass=world["klass"].id, school=world["klass"].room.school_id)
    for who, status in expected.items():
        client = app.test_client()
        if who != "anon":
            client.login(world[who])
        response = client.get(url)
        assert response.status_code == status, (who, url, response.status_code)
        if who == "anon":
            assert "/sign-in" in response.headers["Location"]


POSTS = [
    "/classes/{klass}/courses",
    "/classes/{klass}/courses/{course}/remove",
    "/classes/{klass}/members/{pupil}/remove",
    "/classes/{klass}/members/{pupil}/move",
    "/classes/{klass}/code",
    "/classes/{klass}/reset-passwords",
    "/classes/{klass}/cards",
    "/classes/{klass}/import/confirm",
]


@pytest.mark.parametrize("path", POSTS)
def test_another_instructor_cannot_touch_the_class(app, world, path):
    url = path.format(
        klass=world["klass"].id, course=world["course"].id, pupil=world["pupils"][0].id
    )
    client = app.test_client().login(world["other_teacher"])
    assert client.post(url, data={}).status_code == 404
    learner_client = app.test_client().login(world["learner"])
    assert learner_client.post(url, data={}).status_code == 403
    assert app.test_client().post(url, data={}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(ClassMember)) == 2


def test_instructor_pages_show_only_their_classes(client, world):
    client.login(world["teacher"])
    page = client.get("/classes").get_data(as_text=True)
    assert world["klass"].name in page and world["other"].name not in page


def test_admin_filters_classes_by_school(client, world):
    client.login(world["admin"])
    school = world["klass"].room.school_id
    page = client.get(f"/classes?school={school}").get_data(as_text=True)
    assert world["klass"].name in page and world["other"].name not in page


def test_instructor_creates_a_class_in_a_room(client, world, make_room):
    room = make_room()
    client.login(world["teacher"])
    response = client.post("/classes/new", data={"name": "ม.3/1", "place": f"room:{room.id}"})
    assert response.status_code == 302
    klass = db.session.scalar(select(Class).where(Class.name == "ม.3/1"))
    assert klass.room_id == room.id and len(klass.join_code) == 6
    assert db.session.get(ClassInstructor, (klass.id, world["teacher"].id)) is not None


def test_class_needs_a_place(client, world):
    client.login(world["teacher"])
    response = client.post("/classes/new", data={"name": "ม.3/1", "place": "room:99999"})
    assert response.status_code == 400
    assert db.session.scalar(select(Class).where(Class.name == "ม.3/1")) is None


def test_enrolling_a_class_enrols_every_member_and_sends_signals(client, world, make_class_course):
    course = make_class_course()
    seen = []

    def receiver(sender, course):
        seen.append((sender.id, course.id))

    signals.enrolled.connect(receiver)
    try:
        client.login(world["teacher"])
        response = client.post(f"/classes/{world['klass'].id}/courses", data={"course": course.id})
    finally:
        signals.enrolled.disconnect(receiver)
    assert response.status_code == 302
    expected = {(p.id, course.id) for p in world["pupils"]}
    assert sorted(seen) == sorted(expected)
    assert {(u, c) for u, c, s in enrolments() if c == course.id and s == "class"} == expected
    # Enrolling again adds nothing and sends nothing.
    client.post(f"/classes/{world['klass'].id}/courses", data={"course": course.id})
    assert len([1 for _u, c, _s in enrolments() if c == course.id]) == 2


def test_new_members_of_an_enrolled_class_are_enrolled(world, make_user):
    newcomer = make_user("learner")
    services.add_members(world["klass"], [newcomer.id])
    db.session.commit()
    assert enrolments(newcomer.id) == {(newcomer.id, world["course"].id, "class")}


def test_existing_self_enrolment_is_kept(world, make_user):
    newcomer = make_user("learner")
    db.session.add(Enrolment(user_id=newcomer.id, course_id=world["course"].id, source="self"))
    db.session.commit()
    services.add_members(world["klass"], [newcomer.id])
    db.session.commit()
    assert enrolments(newcomer.id) == {(newcomer.id, world["course"].id, "self")}


def test_move_a_learner_to_another_class(client, world, make_class, make_class_course):
    second_course = make_class_course()
    target = make_class(instructor=world["teacher"], courses=[second_course])
    pupil = world["pupils"][0]
    client.login(world["teacher"])
    response = client.post(
        f"/classes/{world['klass'].id}/members/{pupil.id}/move", data={"target": target.id}
    )
    assert response.status_code == 302
    assert db.session.get(ClassMember, (world["klass"].id, pupil.id)) is None
    assert db.session.get(ClassMember, (target.id, pupil.id)) is not None
    assert (pupil.id, second_course.id, "class") in enrolments(pupil.id)


def test_cannot_move_to_a_class_one_does_not_teach(client, world):
    pupil = world["pupils"][0]
    client.login(world["teacher"])
    client.post(
        f"/classes/{world['klass'].id}/members/{pupil.id}/move",
        data={"target": world["other"].id},
    )
    assert db.session.get(ClassMember, (world["klass"].id, pupil.id)) is not None
    assert db.session.get(ClassMember, (world["other"].id, pupil.id)) is None


def test_remove_a_learner_keeps_their_enrolment(client, world):
    pupil = world["pupils"][0]
    client.login(world["teacher"])
    response = client.post(f"/classes/{world['klass'].id}/members/{pupil.id}/remove")
    assert response.status_code == 302
    assert db.session.get(ClassMember, (world["klass"].id, pupil.id)) is None
    assert enrolments(pupil.id)
    # A non-member id is 404, not a silent success.
    again = client.post(f"/classes/{world['klass'].id}/members/{pupil.id}/remove")
    assert again.status_code == 404


def test_class_page_lists_members_and_code(client, world):
    client.login(world["teacher"])
    page = client.get(f"/classes/{world['klass'].id}").get_data(as_text=True)
    for pupil in world["pupils"]:
        assert pupil.full_name in page
    assert world["klass"].join_code in page
    assert "/gradebook" in page  # the progress pages are on main


# --- join codes ----------------------------------------------------------------------------


def test_join_with_a_code(client, world, make_user):
    newcomer = make_user("learner")
    client.login(newcomer)
    code = world["klass"].join_code
    response = client.post("/join", data={"code": f" {code.lower()[:3]} {code.lower()[3:]} "})
    assert response.status_code == 302
    assert db.session.get(ClassMember, (world["klass"].id, newcomer.id)) is not None
    assert (newcomer.id, world["course"].id, "class") in enrolments(newcomer.id)


def test_wrong_code_is_refused_and_guessing_is_throttled(app, client, world, make_user):
    newcomer = make_user("learner")
    client.login(newcomer)
    for _ in range(10):
        response = client.post("/join", data={"code": "ZZZZZZ"})
        assert response.status_code == 400
        assert "ไม่มีชั้นเรียนที่ใช้รหัสนี้" in response.get_data(as_text=True)
    # Even the right code is refused for a while after too many wrong ones.
    response = client.post("/join", data={"code": world["klass"].join_code})
    assert response.status_code == 400 and "รอ" in response.get_data(as_text=True)
    assert db.session.get(ClassMember, (world["klass"].id, newcomer.id)) is None


def test_expired_code_is_refused(client, world, make_user):
    world["klass"].join_code_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    newcomer = make_user("learner")
    client.login(newcomer)
    response = client.post("/join", data={"code": world["klass"].join_code})
    assert response.status_code == 400
    assert "หมดอายุ" in response.get_data(as_text=True)
    assert db.session.get(ClassMember, (world["klass"].id, newcomer.id)) is None


def test_full_class_is_refused(client, make_user, make_class, make_room):
    room = make_room(seats=2)
    klass = make_class(members=[make_user(), make_user()], room=room)
    newcomer = make_user("learner")
    client.login(newcomer)
    response = client.post("/join", data={"code": klass.join_code})
    assert response.status_code == 400
    assert "เต็ม" in response.get_data(as_text=True)
    assert db.session.get(ClassMember, (klass.id, newcomer.id)) is None


def test_regenerated_code_replaces_the_old_one(client, world, make_user):
    old = world["klass"].join_code
    client.login(world["teacher"])
    later = (utcnow() + timedelta(days=30)).date().isoformat()
    response = client.post(f"/classes/{world['klass'].id}/code", data={"expires_on": later})
    assert response.status_code == 302
    db.session.refresh(world["klass"])
    assert world["klass"].join_code != old
    past = (utcnow() - timedelta(days=2)).date().isoformat()
    response = client.post(f"/classes/{world['klass'].id}/code", data={"expires_on": past})
    assert response.status_code == 400
    learner_client = client.application.test_client().login(make_user("learner"))
    assert learner_client.post("/join", data={"code": old}).status_code == 400


def test_join_code_days_are_bangkok_days(client, world, make_user, time_machine):
    """At 00:30 on 1 January in Bangkok, UTC still says 31 December: that day has passed for
    the school, and a code that ends on 1 January works until midnight Bangkok time."""
    from datetime import UTC, datetime

    time_machine.move_to(datetime(2026, 12, 31, 17, 30, tzinfo=UTC), tick=False)
    client.login(world["teacher"])
    url = f"/classes/{world['klass'].id}/code"
    assert client.post(url, data={"expires_on": "2026-12-31"}).status_code == 400
    assert client.post(url, data={"expires_on": "2027-01-01"}).status_code == 302
    db.session.refresh(world["klass"])
    assert world["klass"].join_code_expires_at == datetime(2027, 1, 1, 17, 0, tzinfo=UTC)
    page = client.get(f"/classes/{world['klass'].id}").get_data(as_text=True)
    assert 'value="2027-01-01"' in page  # the form shows the last day the code works
    learner = client.application.test_client().login(make_user("learner"))
    time_machine.move_to(datetime(2027, 1, 1, 16, 59, tzinfo=UTC), tick=False)  # 23:59 local
    assert learner.post("/join", data={"code": world["klass"].join_code}).status_code == 302


def test_codes_have_no_ambiguous_characters(world):
    codes = {services.new_join_code(world["klass"]) for _ in range(50)}
    assert all(len(c) == 6 and not set(c) & set("01OIL") for c in codes)


# --- organisation --------------------------------------------------------------------------


def test_admin_adds_school_room_and_programme(client, world):
    client.login(world["admin"])
    assert (
        client.post("/admin/schools", data={"name": "โรงเรียนวัดดอน", "district": "สาทร"}).status_code
        == 302
    )
    school = db.session.scalar(select(School).where(School.name == "โรงเรียนวัดดอน"))
    response = client.post(
        f"/admin/schools/{school.id}", data={"room-name": "ห้องคอม 1", "room-seats": "42"}
    )
    assert response.status_code == 302
    assert db.session.scalar(select(Room.seats).where(Room.school_id == school.id)) == 42
    duplicate = client.post("/admin/schools", data={"name": "โรงเรียนวัดดอน"})
    assert duplicate.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(School).where(
        School.name == "โรงเรียนวัดดอน")) == 1  # fmt: skip
    response = client.post(
        "/admin/programmes", data={"name": "Bobae cohort 1", "kind": "market", "place": "Bobae"}
    )
    assert response.status_code == 302
    assert db.session.scalar(select(Programme.place)) == "Bobae"


def test_admin_assigns_an_instructor(client, world, make_user):
    newcomer = make_user("instructor")
    client.login(world["admin"])
    url = f"/classes/{world['klass'].id}/instructors"
    assert client.post(url, data={"username": newcomer.username}).status_code == 302
    assert db.session.get(ClassInstructor, (world["klass"].id, newcomer.id)) is not None
    assert client.post(url, data={"username": world["learner"].username}).status_code == 400
    teacher_client = client.application.test_client().login(world["teacher"])
    assert teacher_client.post(url, data={"username": newcomer.username}).status_code == 403


def test_instructor_home_is_classes(client, world):
    client.login(world["teacher"])
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/classes")


# --- the join poster ---------------------------------------------------------------------------


def test_the_join_poster_prints_a_qr_of_the_join_link(client, world, tmp_path):
    klass = world["klass"]
    client.login(world["teacher"])
    detail = client.get(f"/classes/{klass.id}").get_data(as_text=True)
    assert f"/classes/{klass.id}/poster.pdf" in detail and "โปสเตอร์" in detail
    response = client.get(f"/classes/{klass.id}/poster.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text, pages = read_pdf(response.data, tmp_path)
    link = f"http://localhost/join?code={klass.join_code}"
    assert pages == [[link]]  # one A4 page, one QR code: the join link with the code
    assert klass.name in text and klass.room.name in text and klass.room.school.name in text
    assert klass.join_code in text and "เข้าร่วมชั้นเรียน" in text
    # The phone that scans it: sign in, and it lands on "join this class" with the code.
    phone = client.application.test_client()
    signed_out = phone.get(link.removeprefix("http://localhost"))
    assert "/sign-in?next=" in signed_out.headers["Location"]
    newcomer = world["pupils"][1]
    signed_in = phone.post(
        signed_out.headers["Location"],
        data={"username": newcomer.username, "password": PASSWORD},
    )
    assert signed_in.headers["Location"] == f"/join?code={klass.join_code}"
    page = phone.get(signed_in.headers["Location"]).get_data(as_text=True)
    assert f'value="{klass.join_code}"' in page


def test_no_poster_without_a_working_code(client, world):
    klass = world["klass"]
    klass.join_code_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    client.login(world["teacher"])
    client.post("/language", data={"language": "en"})
    response = client.get(f"/classes/{klass.id}/poster.pdf")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "no join code that works: make a new code first" in page
    assert "poster.pdf" not in page  # and the class page offers no poster for a dead code
    other = client.application.test_client().login(world["other_teacher"])
    assert other.get(f"/classes/{klass.id}/poster.pdf").status_code == 404
