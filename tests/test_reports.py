"""Reports: exact numbers on a small known dataset, filters, access, and CSV streaming."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from academy.core.clock import local_month_keys, to_local
from academy.core.db import utcnow
from academy.courses.models import Enrolment, Track
from academy.extensions import db
from academy.progress.models import CourseProgress
from academy.progress.services import log_event
from academy.reports import services


@pytest.fixture
def city(make_user, make_school, make_room, make_class, make_class_course, make_programme):
    """School A: room A1, class of 3 learners in course X. School B: room B1, class of 2 in X
    and Y. A market programme: 1 seller in Y. Progress: A 2 started 1 completed; B ..."""
    track = Track(slug="digital", name_th="ทักษะดิจิทัล", name_en="Digital skills")
    db.session.add(track)
    db.session.commit()
    x = make_class_course("วิชา X", track_id=track.id)
    y = make_class_course("วิชา Y")
    a, b = make_school("โรงเรียน ก"), make_school("โรงเรียน ข")
    pupils_a = [make_user("learner", school_id=a.id) for _ in range(3)]
    pupils_b = [make_user("learner", school_id=b.id) for _ in range(2)]
    seller = make_user("learner", learner_kind="seller")
    make_class(members=pupils_a, courses=[x], room=make_room(a, "ห้อง 1"))
    make_class(members=pupils_b, courses=[x, y], room=make_room(b, "ห้อง 2"))
    programme = make_programme("Bobae 1")
    make_class(members=[seller], courses=[y], programme=programme)
    now = utcnow()
    # The middle of the previous Bangkok month, whatever day of the month today is.
    last_month = now - timedelta(days=to_local(now).day + 14)

    def progress(user, course, done=None, at=now):
        # Enrolling made the row; the learner's first activity makes it "started".
        db.session.merge(
            CourseProgress(user_id=user.id, course_id=course.id, started_at=at,
                           first_activity_at=at, last_activity_at=at, completed_at=done,
                           percent=100 if done else 40)
        )  # fmt: skip
        log_event(user.id, course.id, "lesson_viewed", at)

    progress(pupils_a[0], x, done=now)
    progress(pupils_a[1], x)
    progress(pupils_b[0], x, done=last_month, at=last_month)
    progress(pupils_b[0], y, done=now)
    progress(seller, y)
    db.session.commit()
    return {"programme": programme, "a": a, "b": b, "x": x, "y": y, "track": track, "now": now}


def as_dict(rows):
    return {r.label: (r.learners, r.enrolled, r.started, r.completed) for r in rows}


def test_completion_by_each_dimension(app, city):
    f = services.Filters()
    assert as_dict(services.completion("school", f)) == {
        "โรงเรียน ก": (3, 3, 2, 1),
        "โรงเรียน ข": (2, 4, 2, 2),
        "": (1, 1, 1, 0),  # the seller has no school
    }
    assert as_dict(services.completion("room", f)) == {
        "โรงเรียน ก · ห้อง 1": (3, 3, 2, 1),
        "โรงเรียน ข · ห้อง 2": (2, 4, 2, 2),
    }
    assert as_dict(services.completion("programme", f)) == {"Bobae 1": (1, 1, 1, 0)}
    assert as_dict(services.completion("course", f)) == {
        "วิชา X": (5, 5, 3, 2),
        "วิชา Y": (3, 3, 2, 1),
    }
    assert as_dict(services.completion("track", f)) == {
        "ทักษะดิจิทัล": (5, 5, 3, 2),
        "": (3, 3, 2, 1),  # course Y has no track
    }


def test_filters(app, city):
    by_course = services.completion("course", services.Filters(school_id=city["b"].id))
    assert as_dict(by_course) == {"วิชา X": (2, 2, 1, 1), "วิชา Y": (2, 2, 1, 1)}
    rows = services.completion("school", services.Filters(track_id=city["track"].id))
    assert as_dict(rows)["โรงเรียน ข"] == (2, 2, 1, 1)
    rows = services.completion("course", services.Filters(programme_id=city["programme"].id))
    assert as_dict(rows) == {"วิชา Y": (1, 1, 1, 0)}


def test_months(app, city):
    months = services.monthly(services.Filters(months=3), now=city["now"])
    assert len(months) == 3
    this, previous = months[-1], months[-2]
    assert (this.started, this.completed, this.active) == (4, 2, 4)
    assert (previous.started, previous.completed, previous.active) == (1, 1, 1)


def test_month_keys_cross_the_year():
    keys = local_month_keys(3, datetime(2027, 1, 10, tzinfo=UTC))
    assert keys == ["2026-11", "2026-12", "2027-01"]


@pytest.mark.parametrize(
    "path", ["/reports/", "/reports/?by=room", "/reports/months", "/reports/export.csv"]
)
def test_reports_are_for_admins(app, city, make_user, path):
    assert app.test_client().get(path).status_code == 302
    for role in ("learner", "instructor"):
        assert app.test_client().login(make_user(role)).get(path).status_code == 403
    assert app.test_client().login(make_user("admin")).get(path).status_code == 200


def test_pages_show_numbers_and_an_accessible_chart(client, city, make_user):
    client.login(make_user("admin"))
    for by in services.DIMENSIONS:
        page = client.get(f"/reports/?by={by}").get_data(as_text=True)
        assert "<svg" in page and "<title" in page and "<desc" in page
        assert '<th scope="col"' in page
    page = client.get("/reports/?by=school").get_data(as_text=True)
    assert "โรงเรียน ข" in page and "50%" in page
    assert client.get("/reports/?by=nope").status_code == 404
    page = client.get("/reports/months").get_data(as_text=True)
    assert "<svg" in page


def read_csv(response):
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_export_is_streamed_with_bom_and_thai(client, city, make_user):
    client.login(make_user("admin"))
    response = client.get("/reports/export.csv?report=school")
    assert response.is_streamed and response.mimetype == "text/csv"
    rows = read_csv(response)
    assert rows[0] == ["school", "enrolled", "learners", "started", "completed", "completion_rate"]
    assert ["โรงเรียน ข", "4", "2", "2", "2", "0.5000"] in rows
    rows = read_csv(client.get("/reports/export.csv?report=learners"))
    assert rows[0] == list(services.DETAIL_HEADER)
    assert len(rows) == 1 + db.session.query(Enrolment).count()
    assert any(r[0] == "โรงเรียน ก" and r[3] for r in rows[1:])
    rows = read_csv(client.get("/reports/export.csv?report=months&months=3"))
    assert rows[0] == ["month", "started", "completed", "active_learners"] and len(rows) == 4
    assert client.get("/reports/export.csv?report=nope").status_code == 404


def test_big_export_streams_in_batches(client, make_user, make_class_course):
    """Rows come through the generator batch by batch (yield_per), not as one list."""
    course = make_class_course()
    learners = [make_user("learner", full_name=f"ผู้เรียน {i}") for i in range(30)]
    db.session.add_all(Enrolment(user_id=u.id, course_id=course.id) for u in learners)
    db.session.commit()
    rows = services.detail_rows(services.Filters(), batch=7)
    assert not isinstance(rows, list)
    assert len(list(rows)) == 30


# --- practical work (issue 13): assignments by class and month, milestones by province --------

NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)


@pytest.fixture
def practice_world(make_user, make_class, make_programme, seller_path, make_assignment):
    from academy.assignments import services as assignments
    from academy.coaching import services as coaching
    from tests.fixtures.assignments import photo_bytes
    from tests.fixtures.coaching import milestone

    course, _m = seller_path()
    task = make_assignment(course, kinds=("photos",))
    coach = make_user("instructor")
    sellers = [make_user("learner") for _ in range(3)]
    loner = make_user("learner")  # in no class: counted nowhere
    bobae = make_programme("Bobae 1", place="กรุงเทพมหานคร")
    make_class(instructor=coach, members=sellers, courses=[course], programme=bobae, name="โบ๊เบ๊ 1")
    from tests.fixtures.progress import enrol

    enrol(loner, course)
    at = lambda day, hour: datetime(2026, 11, day, hour, tzinfo=UTC)  # noqa: E731
    done = {"light": {"done": True}, "background": {"done": True}, "extra": {"done": False}}
    not_yet = {**done, "background": {"done": False, "comment": "พื้นหลังรก"}}

    def hand(user, token, when):
        photo = [assignments.Upload("a.jpg", photo_bytes((40, 30)))]
        return assignments.hand_in(user, task, token=token, photos=photo, now=when)

    a = hand(sellers[0], "a", at(2, 1))
    assignments.review(coach, a, results=done, comment="ดี", passed=True, now=at(2, 3))  # 2 h
    b = hand(sellers[1], "b", at(3, 1))
    assignments.review(coach, b, results=not_yet, comment="แก้", passed=False, now=at(3, 5))  # 4 h
    b2 = hand(sellers[1], "b2", at(4, 0))
    assignments.review(coach, b2, results=done, comment="ผ่าน", passed=True, now=at(4, 10))  # 10 h
    hand(sellers[2], "c", at(5, 0))  # waiting
    hand(loner, "d", at(5, 0))
    shop = milestone("shop-opened")
    coaching.tick(coach, sellers[0], shop, reached_on="2026-11-10", now=NOW)
    coaching.tick(coach, sellers[1], shop, reached_on="2026-11-12", now=NOW)
    coaching.tick(coach, sellers[2], milestone("first-order"), reached_on="2026-10-30", now=NOW)
    coaching.tick(loner, loner, shop, reached_on="2026-11-11", now=NOW)
    db.session.commit()
    return course


def test_assignments_by_class_and_month_with_the_median_wait(app, practice_world):
    from academy.reports import practice

    [row] = practice.assignments(12, NOW)
    assert row.cells() == ("2026-11", "โบ๊เบ๊ 1", "Bobae 1", 4, 3, 2, "4.0")


def test_milestones_by_programme_province_and_month(app, practice_world):
    from academy.reports import practice

    rows = [(r.month, r.milestone, r.province, r.reached) for r in practice.milestones(12, NOW)]
    assert rows == [
        ("2026-11", "เปิดร้านค้าออนไลน์แล้ว", "กรุงเทพมหานคร", 2),
        ("2026-11", "เปิดร้านค้าออนไลน์แล้ว", "", 1),  # the learner in no programme
        ("2026-10", "ได้ออร์เดอร์แรก", "กรุงเทพมหานคร", 1),
    ]
    assert practice.milestones(1, NOW) == [
        r for r in practice.milestones(12, NOW) if r.month == "2026-11"
    ]


def test_practice_reports_page_and_csv(client, practice_world, make_user, time_machine):
    time_machine.move_to(NOW, tick=False)  # the pages' months end at "now"
    client.login(make_user("admin"))
    page = client.get("/reports/assignments?months=3")
    assert page.status_code == 200 and "โบ๊เบ๊ 1" in page.get_data(as_text=True)
    response = client.get("/reports/export.csv?report=assignments&months=3")
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffmonth,class,programme,handed_in,reviewed,passed,")
    assert "2026-11,โบ๊เบ๊ 1,Bobae 1,4,3,2,4.0" in text
    response = client.get("/reports/export.csv?report=milestones&months=3")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["month", "programme", "milestone", "province", "reached"]
    assert len(rows) == 4
