"""Reports: exact numbers on a small known dataset, filters, access, and CSV streaming."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

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


# --- the completion rollup (issue 15): the same numbers from report_completion/report_learners


def _filter_sets():
    """Every filter and pair of filters over the rows there are (and no filter)."""
    from academy.classes.models import Programme, School
    from academy.courses.models import Course

    schools = list(db.session.scalars(select(School.id)))
    tracks = list(db.session.scalars(select(Track.id)))
    courses = list(db.session.scalars(select(Course.id)))
    programmes = list(db.session.scalars(select(Programme.id)))
    yield services.Filters()
    for s in schools:
        yield services.Filters(school_id=s)
        for t in tracks:
            yield services.Filters(school_id=s, track_id=t)
        for c in courses:
            yield services.Filters(school_id=s, course_id=c)
    for t in tracks:
        yield services.Filters(track_id=t)
        for c in courses:
            yield services.Filters(track_id=t, course_id=c)
    for c in courses:
        yield services.Filters(course_id=c)
    for p in programmes:
        yield services.Filters(programme_id=p)


def _rollup_rows() -> tuple[list, list]:
    from academy.reports.models import CompletionCount, CompletionLearner

    return (
        sorted(tuple(r) for r in db.session.execute(select(*CompletionCount.__table__.c))),
        sorted(tuple(r) for r in db.session.execute(select(*CompletionLearner.__table__.c))),
    )


def assert_rollup_is_right() -> int:
    """Each report the rollup holds equals the report counted from the rows, and the rollup the
    triggers kept equals the one rebuilt from scratch. Returns how many reports were compared."""
    from academy.reports import rollup

    db.session.flush()
    compared = 0
    for filters in _filter_sets():
        for by in services.DIMENSIONS:
            raw = services.rows_of(services.completion_query(by, filters))
            if not services.rollup_answers(by, filters):
                assert services.completion(by, filters) == raw
                continue
            kept = services.rows_of(services.rollup_query(by, filters))
            order = lambda r: (r.label, r.key or 0)  # noqa: E731 - equal labels, any order
            assert sorted(kept, key=order) == sorted(raw, key=order), (by, filters)
            compared += 1
    kept = _rollup_rows()
    rollup.rebuild(db.session.connection())
    assert _rollup_rows() == kept
    return compared


def test_rollup_answers_the_known_numbers(app, city):
    assert services.rollup_answers("school", services.Filters(track_id=city["track"].id))
    assert not services.rollup_answers("room", services.Filters(course_id=city["x"].id))
    assert not services.rollup_answers("school", services.Filters(programme_id=1))
    f = services.Filters()
    assert as_dict(services.rows_of(services.rollup_query("school", f)))["โรงเรียน ข"] == (
        2, 4, 2, 2,
    )  # fmt: skip
    assert assert_rollup_is_right() > 20


def test_rollup_follows_every_change_on_generated_data(
    app, make_user, make_school, make_room, make_class_course, make_programme
):
    """Random enrolments, class changes, progress, completions, un-completions, moves between
    schools, rooms, programmes and tracks, and deletions of learners, classes, courses, rooms
    and schools, through the services where they exist and through bulk SQL where they do not;
    after every few steps each report from the rollup equals the report from the rows."""
    import random

    from sqlalchemy import delete, update

    from academy.auth.models import User
    from academy.classes import services as classes
    from academy.classes.models import Class, ClassMember, Room, School
    from academy.courses import services as courses
    from academy.courses.models import Course, Lesson
    from academy.progress import services as progress

    rnd = random.Random(15)
    tracks = [Track(slug=f"t{i}", name_th=f"สาย {i}") for i in range(2)]
    db.session.add_all(tracks)
    db.session.commit()
    schools = [make_school(f"โรงเรียน {i}") for i in range(3)]
    rooms = [make_room(s, f"ห้อง {i}") for s in schools for i in range(2)]
    programmes = [make_programme(f"รุ่น {i}") for i in range(2)]
    course_list = [make_class_course(f"วิชา {i}", track_id=[tracks[0].id, tracks[1].id, None][i % 3])
                   for i in range(4)]  # fmt: skip
    learners = [
        make_user("learner", school_id=rnd.choice([s.id for s in schools] + [None]))
        for _ in range(24)
    ]
    klasses = []
    for i in range(5):
        klass = Class(name=f"ห้อง {i}", room_id=rnd.choice(rooms).id if i != 4 else None,
                      programme_id=programmes[i % 2].id if i % 2 else None)  # fmt: skip
        db.session.add(klass)
        db.session.flush()
        klasses.append(klass)
        for course in rnd.sample(course_list, 2):
            classes.enrol_class(klass, course)
        classes.add_members(klass, [u.id for u in rnd.sample(learners, 6)])
    db.session.commit()
    assert_rollup_is_right()

    ids = {User: [u.id for u in learners], Class: [k.id for k in klasses],
           Course: [c.id for c in course_list], Room: [r.id for r in rooms],
           School: [s.id for s in schools]}  # fmt: skip

    def alive(model):
        return [x for x in map(lambda i: db.session.get(model, i), ids[model]) if x is not None]

    def step() -> None:
        users, ks, cs = alive(User), alive(Class), alive(Course)
        action = rnd.randrange(17)
        user, klass, course = rnd.choice(users), rnd.choice(ks), rnd.choice(cs)
        if action == 0:
            courses.enrol(user, course)
        elif action == 1:
            classes.add_members(klass, [user.id])
        elif action == 2:
            member = db.session.scalar(select(ClassMember.user_id).where(
                ClassMember.class_id == klass.id))  # fmt: skip
            if member:
                target = rnd.choice(ks)
                if target.id != klass.id and not db.session.get(ClassMember, (target.id, member)):
                    classes.move_member(klass, member, target)
                else:
                    classes.remove_member(klass, member)
        elif action == 3:
            classes.enrol_class(klass, course)
        elif action == 4:
            classes.unenrol_class(klass, course.id)
        elif action in (5, 6, 7):  # study: views and ticks, completing some courses
            enrolled = db.session.scalar(select(Enrolment.course_id).where(
                Enrolment.user_id == user.id))  # fmt: skip
            if enrolled:
                for lesson in db.session.scalars(select(Lesson).where(
                        Lesson.course_id == enrolled)):  # fmt: skip
                    progress.record_view(user, lesson)
                    if action != 5:
                        progress.mark_done(user, lesson)
        elif action == 8:  # un-completion, as a school's batch or a correction can bring
            db.session.execute(update(CourseProgress).where(
                CourseProgress.user_id == user.id).values(completed_at=None))  # fmt: skip
        elif action == 9:
            db.session.execute(delete(Enrolment).where(Enrolment.user_id == user.id,
                                                       Enrolment.course_id == course.id))  # fmt: skip
        elif action == 10:
            user.school_id = rnd.choice([s.id for s in alive(School)] + [None])
        elif action == 11:
            klass.room_id = rnd.choice([r.id for r in alive(Room)] + [None])
            klass.programme_id = rnd.choice([p.id for p in programmes] + [None])
        elif action == 12:
            db.session.execute(update(Course).where(Course.id == course.id).values(
                track_id=rnd.choice([t.id for t in tracks] + [None])))  # fmt: skip
        elif action == 13:
            db.session.execute(delete(CourseProgress).where(CourseProgress.user_id == user.id))
        elif action == 14 and len(users) > 10:
            db.session.execute(delete(User).where(User.id == user.id))
        elif action == 15 and rnd.random() < 0.3:
            victims = [(Room, r.id) for r in alive(Room)] + [(School, x.id) for x in alive(School)]
            victims += [(Class, klass.id)] if len(ks) > 2 else []
            victims += [(Course, course.id)] if len(cs) > 2 else []
            model, victim = rnd.choice(victims)
            db.session.execute(delete(model).where(model.id == victim))
        elif action == 16:  # a bulk re-enrolment of a class, as a CSV import does
            classes.enrol_users([u.id for u in rnd.sample(users, 5)], [course.id])
        db.session.flush()
        db.session.expire_all()

    for n in range(120):
        step()
        if n % 15 == 14:
            db.session.commit()
            assert_rollup_is_right()
    assert db.session.scalar(select(func.count()).select_from(CourseProgress).where(
        CourseProgress.completed_at.isnot(None))) > 0  # fmt: skip


def test_rollup_stays_right_after_a_school_batch_at_the_city(sync_pair, tmp_path):
    """The sync push writes a school's rows at the city directly (users, classes, members,
    enrolments, progress): the city's triggers count them in the batch's transaction, and a
    removal at the school removes them at the city too."""
    from academy.auth.services import create_user
    from academy.classes import services as classes
    from academy.classes.models import Class, Room
    from academy.core import transaction
    from academy.courses import services as courses
    from academy.courses.models import Course, Lesson
    from academy.progress import services as progress
    from academy.studio import loader
    from academy.sync import services as sync
    from tests.fixtures.sync import write_course

    pair = sync_pair
    with pair.at(pair.city), transaction.unit_of_work():
        loader.load_course(write_course(tmp_path / "v1"))
        _peer, token = sync.register("โรงเรียนวัดทดลอง")
    with pair.at(pair.school), transaction.unit_of_work():
        sync.join(pair.city_url, token)
    with pair.at(pair.school):
        sync.run_round()
    with pair.at(pair.school), transaction.unit_of_work():
        school_id = sync.link().school_id
        course = db.session.scalar(select(Course).where(Course.slug == "sync-course"))
        room = Room(school_id=school_id, name="ห้องคอม 1")
        db.session.add(room)
        db.session.flush()
        klass = Class(name="ม.1/1", room_id=room.id)
        db.session.add(klass)
        db.session.flush()
        classes.enrol_class(klass, course)
        people = []
        for n in range(4):
            user, _ = create_user(f"pupil{n}", f"นักเรียน {n}", password="pass-word-1",
                                  learner_kind="student", school_id=school_id)  # fmt: skip
            db.session.flush()
            people.append(user)
        classes.add_members(klass, [u.id for u in people[:3]])
        courses.enrol(people[3], course)
        first = people[0].id
        for user in people[:2]:
            for lesson in db.session.scalars(select(Lesson).where(Lesson.course_id == course.id)):
                progress.record_view(user, lesson)
                progress.mark_done(user, lesson)

    def pushed() -> tuple:
        """A round, then the city's room and school rows (checked against the rows)."""
        with pair.at(pair.school):
            sync.run_round()
        with pair.at(pair.city):
            assert assert_rollup_is_right() > 0
            [room] = services.completion("room", services.Filters())
            [school] = [r for r in services.completion("school", services.Filters()) if r.key]
            db.session.rollback()
        return (room.learners, room.enrolled, room.started), (school.learners, school.enrolled)

    assert pushed() == ((3, 3, 2), (4, 4))
    with pair.at(pair.school), transaction.unit_of_work():
        classes.remove_member(db.session.scalar(select(Class)), first)
    assert pushed() == ((2, 2, 1), (4, 4))  # out of the class, still enrolled
