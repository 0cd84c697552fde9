"""Learner side: catalogue, course page, lessons, enrolment, course files, access."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from academy.core import signals
from academy.core.learning import LearnerCourseState, QuizMark
from academy.courses import access, services
from academy.courses.models import Enrolment
from academy.extensions import db
from academy.studio import services as authoring
from tests.fixtures.files import PDF, PNG, SVG


@pytest.fixture
def people(make_user):
    return {
        "learner": make_user("learner"),
        "instructor": make_user("instructor"),
        "other_instructor": make_user("instructor"),
        "admin": make_user("admin"),
    }


def as_(client, people, who):
    if who != "anonymous":
        client.login(people[who])
    return client


@pytest.fixture
def state_provider():
    """Stand in for the progress feature's answer to the learner_state signal (a real
    receiver, connected the documented way), restored afterwards."""
    from academy.progress import state as progress

    states: dict[tuple[int, int], LearnerCourseState] = {}

    def state(user, course):
        return states.get((user.id, course.id), LearnerCourseState())

    signals.learner_state.disconnect(progress.learner_state)
    with signals.learner_state.connected_to(state):
        yield states
    signals.learner_state.connect(progress.learner_state)


@pytest.mark.parametrize(
    ("who", "published", "status"),
    [
        ("anonymous", True, 200), ("learner", True, 200), ("instructor", True, 200),
        ("other_instructor", True, 200), ("admin", True, 200),
        ("anonymous", False, 404), ("learner", False, 404), ("instructor", False, 200),
        ("other_instructor", False, 404), ("admin", False, 200),
    ],
)  # fmt: skip
def test_course_page_access(client, people, make_course, who, published, status):
    course = make_course(published=published, instructor=people["instructor"])
    assert as_(client, people, who).get(f"/courses/{course.slug}").status_code == status


@pytest.mark.parametrize(
    ("who", "published", "status"),
    [
        ("anonymous", True, 302), ("learner", True, 200), ("instructor", True, 200),
        ("admin", True, 200),
        ("anonymous", False, 302), ("learner", False, 404), ("instructor", False, 200),
        ("other_instructor", False, 404), ("admin", False, 200),
    ],
)  # fmt: skip
def test_lesson_page_access(client, people, make_course, who, published, status):
    course = make_course(published=published, instructor=people["instructor"])
    response = as_(client, people, who).get(f"/courses/{course.slug}/lessons/m1-l1")
    assert response.status_code == status
    if status == 302:
        assert response.headers["Location"].startswith("/sign-in?next=")


def test_unknown_course_and_lesson_are_404(client, learner, make_course):
    course = make_course()
    client.login(learner)
    assert client.get("/courses/nope").status_code == 404
    assert client.get(f"/courses/{course.slug}/lessons/nope").status_code == 404


def test_catalogue_groups_by_track_and_searches(client, people, make_course):
    make_course(title_th="ถ่ายรูปสินค้า", title_en="Product photos", track="seller-academy")
    make_course(title_th="ลดขยะในโรงเรียน", title_en="Less waste", track="smart-environment")
    make_course(title_th="คอร์สลับ", published=False, instructor=people["instructor"])
    page = client.get("/courses").get_data(as_text=True)
    assert "ถ่ายรูปสินค้า" in page and "ลดขยะในโรงเรียน" in page and "คอร์สลับ" not in page
    assert page.index("เซลเลอร์อะคาเดมี") < page.index("สิ่งแวดล้อมอัจฉริยะ")
    found = client.get("/courses?q=photos").get_data(as_text=True)
    assert "ถ่ายรูปสินค้า" in found and "ลดขยะในโรงเรียน" not in found
    by_track = client.get("/courses?track=smart-environment").get_data(as_text=True)
    assert "ลดขยะในโรงเรียน" in by_track and "ถ่ายรูปสินค้า" not in by_track
    assert "ไม่พบคอร์สที่ตรงกับคำค้นหา" in client.get("/courses?q=zzzz").get_data(as_text=True)
    client.login(people["instructor"])
    assert "คอร์สลับ" in client.get("/courses").get_data(as_text=True)


def test_catalogue_and_course_page_use_few_queries(client, learner, make_course, make_quiz_in, app):
    from sqlalchemy import event

    for _ in range(3):
        make_quiz_in(make_course(modules=3, lessons=4))
    course = make_course(modules=5, lessons=5)
    client.login(learner)
    counted = []

    def count(*_args):
        counted.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        client.get("/courses")
        catalogue_queries = len(counted)
        counted.clear()
        client.get(f"/courses/{course.slug}")
        course_queries = len(counted)
        counted.clear()
        client.get(f"/courses/{course.slug}/lessons/m3-l3")
        lesson_queries = len(counted)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    # The course and lesson pages ask for the period banner (1) and the assignments (2).
    assert catalogue_queries <= 6 and course_queries <= 12 and lesson_queries <= 11


def test_course_page_shows_outline_with_marks(
    client, learner, make_course, make_quiz_in, state_provider
):
    course = make_course(modules=2, lessons=2)
    quiz = make_quiz_in(course.modules[0])
    lessons = {x.key: x for m in course.modules for x in m.lessons}
    state_provider[(learner.id, course.id)] = LearnerCourseState(
        done_lesson_ids={lessons["m1-l1"].id},
        quiz_marks={quiz.id: QuizMark(percent=80.0, passed=True, attempts=1)},
        percent=40.0,
        resume_lesson_id=lessons["m1-l2"].id,
    )
    client.login(learner)
    db.session.add(Enrolment(user_id=learner.id, course_id=course.id))
    db.session.commit()
    page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert page.index("บทเรียน 1.1") < page.index("บทเรียน 1.2") < page.index(quiz.title_th)
    assert page.index(quiz.title_th) < page.index("บทเรียน 2.1")
    assert "(เรียนจบแล้ว)" in page or "(done)" in page
    assert "80%" in page and 'value="40"' in page
    assert f'href="/courses/{course.slug}/lessons/m1-l2"' in page
    assert "เรียนต่อจากที่ค้างไว้" in page


def test_sequential_course_locks_until_previous_is_done(
    client, learner, make_course, state_provider
):
    course = make_course(modules=1, lessons=3, sequential=True)
    first = course.modules[0].lessons[0]
    client.login(learner)
    assert client.get(f"/courses/{course.slug}/lessons/m1-l1").status_code == 200
    assert client.get(f"/courses/{course.slug}/lessons/m1-l2").status_code == 403
    assert client.post(f"/courses/{course.slug}/lessons/m1-l2/done").status_code == 403
    state_provider[(learner.id, course.id)] = LearnerCourseState(done_lesson_ids={first.id})
    assert client.get(f"/courses/{course.slug}/lessons/m1-l2").status_code == 200
    assert client.get(f"/courses/{course.slug}/lessons/m1-l3").status_code == 403


def test_lesson_page_has_previous_next_and_done_button(client, learner, make_course):
    course = make_course(modules=2, lessons=2)
    client.login(learner)
    page = client.get(f"/courses/{course.slug}/lessons/m1-l2").get_data(as_text=True)
    assert f'rel="prev" href="/courses/{course.slug}/lessons/m1-l1"' in page
    assert f'rel="next" href="/courses/{course.slug}/lessons/m2-l1"' in page
    assert f'action="/courses/{course.slug}/lessons/m1-l2/done"' in page
    assert "<strong>สำคัญ</strong>" in page


def test_enrol_is_once_and_sends_signal(client, learner, make_course):
    course = make_course()
    received = []

    def on_enrol(sender, **kw):
        received.append((sender.id, kw["course"].id))

    signals.enrolled.connect(on_enrol)
    try:
        client.login(learner)
        assert client.post(f"/courses/{course.slug}/enrol").status_code == 302
        assert client.post(f"/courses/{course.slug}/enrol").status_code == 302
    finally:
        signals.enrolled.disconnect(on_enrol)
    assert received == [(learner.id, course.id)]
    assert db.session.scalar(select(func.count(Enrolment.id))) == 1


def test_enrol_needs_sign_in_and_csrf(client, learner, make_course):
    course = make_course()
    assert client.post(f"/courses/{course.slug}/enrol").status_code == 302
    client.login(learner)
    assert client.post(f"/courses/{course.slug}/enrol", csrf=False).status_code == 400
    assert db.session.scalar(select(func.count(Enrolment.id))) == 0


def test_mark_done_sends_signal_enrols_and_goes_to_next(client, learner, make_course):
    course = make_course(modules=1, lessons=2)
    done = []

    def on_done(sender, **kw):
        done.append((sender.id, kw["lesson"].key))

    signals.lesson_done.connect(on_done)
    try:
        client.login(learner)
        response = client.post(f"/courses/{course.slug}/lessons/m1-l1/done")
    finally:
        signals.lesson_done.disconnect(on_done)
    assert response.headers["Location"] == f"/courses/{course.slug}/lessons/m1-l2"
    assert done == [(learner.id, "m1-l1")]
    assert access.is_enrolled(learner, course.id)


def test_lesson_view_is_a_post_beacon_not_a_get_write(client, learner, make_course):
    course = make_course()
    seen = []

    def on_view(sender, **kw):
        seen.append((sender.id, kw["lesson"].key, kw["seconds"]))

    signals.lesson_viewed.connect(on_view)
    try:
        client.login(learner)
        client.get(f"/courses/{course.slug}/lessons/m1-l1")
        assert seen == []
        url = f"/courses/{course.slug}/lessons/m1-l1/viewed"
        assert client.post(url).status_code == 204
        assert client.post(url, data={"seconds": "95"}).status_code == 204
        assert client.post(url, data={"seconds": "999999"}).status_code == 204
        assert client.post(url, data={"seconds": "-3"}).status_code == 204
    finally:
        signals.lesson_viewed.disconnect(on_view)
    assert seen == [
        (learner.id, "m1-l1", None), (learner.id, "m1-l1", 95),
        (learner.id, "m1-l1", 4 * 3600), (learner.id, "m1-l1", None),
    ]  # fmt: skip


def test_quiz_links_only_when_the_quiz_page_exists(client, learner, make_course, make_quiz_in, app):
    course = make_course(modules=1, lessons=1)
    quiz = make_quiz_in(course)
    client.login(learner)
    page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert quiz.title_th in page
    if "quizzes.quiz" in app.view_functions:
        assert f"/{quiz.id}" in page
    else:
        assert f">{quiz.title_th}</a>" not in page


# --- course files -----------------------------------------------------------------------------


def get_file(client, url, **kwargs):
    """GET a served file and close the response (send_file keeps the file open until then)."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


def _course_with_files(make_course, **kw):
    course = make_course(**kw)
    authoring.add_file(course, "tag.png", PNG)
    authoring.add_file(course, "form.pdf", PDF)
    authoring.add_file(course, "logo.svg", SVG)
    db.session.commit()
    return course


def test_asset_served_with_type_cache_and_disposition(client, make_course):
    course = _course_with_files(make_course)
    image = get_file(client, f"/courses/{course.slug}/assets/tag.png")
    # Stored re-encoded by Pillow: a PNG again, named by the content served.
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    assert image.headers["Content-Type"] == "image/png"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert image.headers["ETag"] == f'"{hashlib.sha256(image.data).hexdigest()}"'
    assert (
        "max-age=31536000" in image.headers["Cache-Control"]
        and "public" in image.headers["Cache-Control"]
    )
    assert "attachment" not in image.headers.get("Content-Disposition", "")
    pdf = get_file(client, f"/courses/{course.slug}/assets/form.pdf")
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("attachment")
    again = get_file(
        client,
        f"/courses/{course.slug}/assets/tag.png",
        headers={"If-None-Match": image.headers["ETag"]},
    )
    assert again.status_code == 304
    svg = get_file(client, f"/courses/{course.slug}/assets/logo.svg")
    assert (
        svg.headers["Content-Type"].startswith("image/svg+xml")
        and "sandbox" in svg.headers["Content-Security-Policy"]
    )


def test_asset_range_requests(client, make_course):
    course = make_course()
    audio = b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 40
    authoring.add_file(course, "talk.mp3", audio)
    db.session.commit()
    response = get_file(
        client, f"/courses/{course.slug}/assets/talk.mp3", headers={"Range": "bytes=10-19"}
    )
    assert response.status_code == 206 and response.data == audio[10:20]
    assert response.headers["Content-Range"] == f"bytes 10-19/{len(audio)}"
    assert response.headers["Content-Type"] == "audio/mpeg"


@pytest.mark.parametrize(
    "who,status", [("anonymous", 404), ("learner", 404), ("instructor", 200), ("admin", 200)]
)
def test_draft_course_files_are_private(client, people, make_course, who, status):
    course = _course_with_files(make_course, published=False, instructor=people["instructor"])
    response = get_file(as_(client, people, who), f"/courses/{course.slug}/assets/tag.png")
    assert response.status_code == status
    if status == 200:
        assert "public" not in response.headers["Cache-Control"]


@pytest.mark.parametrize(
    "path", ["../course.yml", "..%2Fcourse.yml", "nope.png", "a/../tag.png", ".hidden"]
)
def test_asset_bad_paths_are_404(client, make_course, path):
    course = _course_with_files(make_course)
    assert get_file(client, f"/courses/{course.slug}/assets/{path}").status_code == 404


def test_outline_locks_after_an_unpassed_quiz_in_sequential_courses(make_course, make_quiz_in):
    course = make_course(modules=2, lessons=1, sequential=True)
    quiz = make_quiz_in(course.modules[0])
    first = course.modules[0].lessons[0]
    state = LearnerCourseState(
        done_lesson_ids={first.id},
        quiz_marks={quiz.id: QuizMark(percent=40.0, passed=False, attempts=1)},
    )
    items = services.flat_items(services.outline(course, state))
    assert [(i.key, i.done, i.locked) for i in items] == [
        ("m1-l1", True, False), (quiz.key, False, False), ("m2-l1", False, True),
    ]  # fmt: skip
    state.quiz_marks[quiz.id] = QuizMark(percent=80.0, passed=True, attempts=2)
    items = services.flat_items(services.outline(course, state))
    assert [i.locked for i in items] == [False, False, False]
    not_sequential = services.flat_items(services.outline(make_course(modules=1, lessons=3), state))
    assert not any(i.locked for i in not_sequential)
