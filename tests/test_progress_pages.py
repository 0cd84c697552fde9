"""The learner dashboard and the class pages: access, content, query counts, CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from academy.core.clock import to_local
from academy.core.db import utcnow
from academy.extensions import db
from academy.progress.models import CourseProgress
from tests.fixtures.progress import (
    complete_lesson,
    course_lessons,
    course_quizzes,
    enrol,
    fail_quiz,
    finish_course,
    pass_quiz,
    view_lesson,
)


@pytest.fixture
def setting(make_user, progress_course, progress_class):
    """A class with two learners and its instructor; another class with its own instructor."""
    teacher = make_user("instructor", full_name="ครูสมศรี")
    other_teacher = make_user("instructor")
    member = make_user("learner", full_name="สมชาย ใจดี")
    classmate = make_user("learner", full_name='=HYPERLINK("x")')
    outsider = make_user("learner")
    admin = make_user("admin")
    course = progress_course(modules=2, lessons=2, quizzes=1, title_th="ขายของออนไลน์ให้ปัง")
    klass = progress_class(teacher, learners=[member, classmate], courses=[course])
    other_class = progress_class(other_teacher, learners=[outsider], courses=[course])
    return dict(
        teacher=teacher,
        other_teacher=other_teacher,
        member=member,
        classmate=classmate,
        outsider=outsider,
        admin=admin,
        course=course,
        klass=klass,
        other_class=other_class,
    )


CLASS_PAGES = [
    "/classes/{c}/gradebook",
    "/classes/{c}/gradebook?course={course}",
    "/classes/{c}/gradebook.csv?course={course}",
    "/classes/{c}/stuck",
    "/classes/{c}/stuck?partial=1",
    "/classes/{c}/learners/{m}",
]


@pytest.mark.parametrize("page", CLASS_PAGES)
@pytest.mark.parametrize(
    ("who", "status"),
    [
        (None, 302),
        ("member", 404),
        ("outsider", 404),
        ("other_teacher", 404),
        ("teacher", 200),
        ("admin", 200),
    ],
)
def test_class_pages_access(client, setting, page, who, status):
    url = page.format(c=setting["klass"].id, course=setting["course"].id, m=setting["member"].id)
    if who:
        client.login(setting[who])
    response = client.get(url)
    assert response.status_code == status
    if status == 302:
        assert "/sign-in" in response.headers["Location"]


@pytest.mark.parametrize("who", ["teacher", "admin"])
def test_learner_not_in_the_class_is_404(client, setting, who):
    client.login(setting[who])
    url = f"/classes/{setting['klass'].id}/learners/{setting['outsider'].id}"
    assert client.get(url).status_code == 404


def test_unknown_class_or_course_is_404(client, setting, progress_course):
    client.login(setting["admin"])
    assert client.get("/classes/999999/gradebook").status_code == 404
    klass = setting["klass"].id
    not_taken = progress_course()
    assert client.get(f"/classes/{klass}/gradebook?course={not_taken.id}").status_code == 404
    assert client.get(f"/classes/{klass}/stuck?course=abc").status_code == 404


@pytest.mark.parametrize(("who", "status"), [(None, 302), ("member", 200), ("teacher", 200)])
def test_dashboard_access(client, setting, who, status):
    if who:
        client.login(setting[who])
    assert client.get("/dashboard").status_code == status


def test_learner_home_is_the_dashboard(client, setting):
    client.login(setting["member"])
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")


def test_dashboard_shows_only_my_progress_and_what_is_next(client, setting, progress_course):
    member, classmate, course = setting["member"], setting["classmate"], setting["course"]
    lessons = course_lessons(course)
    complete_lesson(member, lessons[0])
    view_lesson(member, lessons[1])
    finished = progress_course(modules=1, lessons=1, quizzes=0, title_th="คอร์สที่จบแล้ว")
    enrol(member, finished)
    finish_course(member, finished)
    mine_only = progress_course(title_th="คอร์สของเพื่อน")
    enrol(classmate, mine_only)
    client.login(member)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "ต่อจากที่ค้างไว้" in html or "Continue where you left off" in html
    assert "ขายของออนไลน์ให้ปัง" in html and "คอร์สที่จบแล้ว" in html
    assert "คอร์สของเพื่อน" not in html
    assert lessons[1].title_th in html  # resume: the lesson opened last, not yet done
    assert '<progress max="100" value="17"' in html  # 1 of 6 is 16.7%, shown as 17%
    assert "style=" not in html
    completed_at = db.session.get(CourseProgress, (member.id, finished.id)).completed_at
    assert str(to_local(completed_at).year + 543) in html  # Buddhist Era, Bangkok's year


def test_dashboard_query_count_does_not_grow_with_courses(
    client, make_user, progress_course, count_queries
):
    def measure(n: int) -> int:
        learner = make_user("learner")
        for _ in range(n):
            course = progress_course(modules=1, lessons=2, quizzes=1)
            enrol(learner, course)
            complete_lesson(learner, course_lessons(course)[0])
        client.login(learner)
        with count_queries() as statements:
            assert client.get("/dashboard").status_code == 200
        return len(statements)

    few, many = measure(2), measure(12)
    assert few == many, f"{few} queries for 2 courses, {many} for 12: N+1"
    # The signed-in user, courses with totals, their items, my ticks, the class's period (banner),
    # the coach's feedback on assignments, each assignment's state, the milestone path of the
    # courses' programmes.
    assert few == 8, few


def _class_of(n, make_user, progress_class, course, teacher):
    learners = [make_user("learner") for _ in range(n)]
    klass = progress_class(teacher, learners=learners, courses=[course])
    lessons, quizzes = course_lessons(course), course_quizzes(course)
    for i, learner in enumerate(learners):
        complete_lesson(learner, lessons[i % len(lessons)])
        if i % 2:
            pass_quiz(learner, quizzes[0], 80)
        else:
            fail_quiz(learner, quizzes[0], 30)
    return klass


# Each counts the signed-in user, the class and the permission check, then the page's own:
# gradebook = expired attempts to close, courses, items, learners with totals, marks; stuck =
# courses, learners with totals, failed quizzes; learner = membership, expired attempts to
# close, courses with totals, timeline, attempts.
@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("/classes/{c}/gradebook", 8),
        ("/classes/{c}/gradebook.csv", 8),
        ("/classes/{c}/stuck", 6),
        ("/classes/{c}/learners/{m}", 8),
    ],
)
def test_class_page_query_count_is_the_same_for_3_and_30_learners(
    client, make_user, progress_course, progress_class, count_queries, page, expected
):
    teacher = make_user("instructor")
    client.login(teacher)

    def measure(n: int) -> int:
        course = progress_course(modules=2, lessons=3, quizzes=1)
        klass = _class_of(n, make_user, progress_class, course, teacher)
        member = db.session.scalars(
            db.select(CourseProgress.user_id).where(CourseProgress.course_id == course.id)
        ).first()
        with count_queries() as statements:
            response = client.get(page.format(c=klass.id, m=member))
            assert response.status_code == 200
            response.get_data()  # a streamed body runs its queries while it is read
        return len(statements)

    small, big = measure(3), measure(30)
    assert small == big, f"{small} queries for 3 learners, {big} for 30: N+1"
    assert small == expected, f"{small} queries"


def test_gradebook_shows_ticks_scores_and_percent(client, setting):
    member, course, klass = setting["member"], setting["course"], setting["klass"]
    lessons, quizzes = course_lessons(course), course_quizzes(course)
    complete_lesson(member, lessons[0])
    fail_quiz(member, quizzes[0], 45)
    pass_quiz(member, quizzes[0], 85)
    client.login(setting["teacher"])
    html = client.get(f"/classes/{klass.id}/gradebook").get_data(as_text=True)
    assert "สมชาย ใจดี" in html and "85%" in html
    assert 'class="sticky"' in html and "<caption" in html and 'scope="row"' in html
    assert "style=" not in html
    # The other class's learner is not in this class's book.
    assert setting["outsider"].full_name not in html


def test_gradebook_csv_opens_in_excel_with_thai(client, setting):
    member, course, klass = setting["member"], setting["course"], setting["klass"]
    finish_course(member, course)
    client.login(setting["teacher"])
    response = client.get(f"/classes/{klass.id}/gradebook.csv?course={course.id}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark: Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 1 + 2  # header + one row per learner
    header = rows[0]
    assert header[:2] == ["ชื่อ", "ชื่อผู้ใช้"]
    assert "บทเรียน 1.1 การตั้งราคา" in header
    by_name = {r[0]: r for r in rows[1:]}
    done = by_name["สมชาย ใจดี"]
    assert done[-2] == "100" and done[-1]  # course percent and completion date
    # A name that Excel would run as a formula is written as text.
    assert '\'=HYPERLINK("x")' in by_name


def test_gradebook_csv_dates_are_bangkok_days(client, setting, time_machine):
    """Finished at 00:30 on 1 January in Bangkok (31 December in UTC): the CSV says 1 January."""
    from datetime import UTC, datetime

    member, course, klass = setting["member"], setting["course"], setting["klass"]
    time_machine.move_to(datetime(2026, 12, 31, 17, 30, tzinfo=UTC), tick=False)
    finish_course(member, course)
    client.login(setting["teacher"])
    body = client.get(f"/classes/{klass.id}/gradebook.csv?course={course.id}").get_data()
    done = next(r for r in csv.reader(io.StringIO(body.decode("utf-8-sig"))) if r[0] == "สมชาย ใจดี")
    assert done[-1] == "2027-01-01"
    assert done[2] == "2027-01-01"  # the first lesson's date


def test_stuck_lists_the_urgent_first(client, make_user, progress_course, progress_class, app):
    teacher = make_user("instructor")
    course = progress_course(modules=1, lessons=3, quizzes=1)
    busy, idle, failing, absent, done = (
        make_user("learner", full_name=name)
        for name in ("ก ขยัน", "ข หยุดนิ่ง", "ค สอบตก", "ง ยังไม่เริ่ม", "จ จบแล้ว")
    )
    klass = progress_class(teacher, learners=[busy, idle, failing, absent, done], courses=[course])
    lessons, quiz = course_lessons(course), course_quizzes(course)[0]
    complete_lesson(idle, lessons[0])
    # idle's last activity was 25 minutes ago.
    db.session.execute(
        db.update(CourseProgress)
        .where(CourseProgress.user_id == idle.id)
        .values(last_activity_at=utcnow() - timedelta(minutes=25))
    )
    db.session.commit()
    fail_quiz(failing, quiz, 10)
    fail_quiz(failing, quiz, 20)
    complete_lesson(busy, lessons[0])
    finish_course(done, course)
    client.login(teacher)
    html = client.get(f"/classes/{klass.id}/stuck").get_data(as_text=True)
    order = [html.find(name) for name in ("ค สอบตก", "ง ยังไม่เริ่ม", "ข หยุดนิ่ง")]
    assert all(i > 0 for i in order) and order == sorted(order)
    assert "ก ขยัน" not in html and "จ จบแล้ว" not in html
    assert "25" in html  # minutes without progress
    assert 'data-refresh-url="' in html and "js/progress." in html
    partial = client.get(f"/classes/{klass.id}/stuck?partial=1").get_data(as_text=True)
    assert "<html" not in partial and "ค สอบตก" in partial
    # The idle time is configurable: with 30 minutes, 25 idle minutes are not yet stuck.
    app.config["PROGRESS_IDLE_MINUTES"] = 30
    try:
        html = client.get(f"/classes/{klass.id}/stuck").get_data(as_text=True)
    finally:
        app.config.pop("PROGRESS_IDLE_MINUTES")
    assert "ข หยุดนิ่ง" not in html


def test_learner_detail_shows_timeline_progress_and_attempts(client, setting):
    member, course, klass = setting["member"], setting["course"], setting["klass"]
    lesson, quiz = course_lessons(course)[0], course_quizzes(course)[0]
    complete_lesson(member, lesson)
    fail_quiz(member, quiz, 35)
    pass_quiz(member, quiz, 90)
    client.login(setting["teacher"])
    html = client.get(f"/classes/{klass.id}/learners/{member.id}").get_data(as_text=True)
    assert "สมชาย ใจดี" in html
    assert lesson.title_th in html and quiz.title_th in html
    assert "35%" in html and "90%" in html
    assert html.count("<time") >= 4  # enrolled, viewed, done, graded twice


def test_dashboard_percentages_read_as_a_person_expects(client, setting, progress_course):
    member = setting["member"]
    eight = progress_course(modules=2, lessons=4, quizzes=0, title_th="แปดบท")
    enrol(member, eight)
    complete_lesson(member, course_lessons(eight)[0])
    finished = progress_course(modules=1, lessons=1, quizzes=0, title_th="จบแล้ว")
    enrol(member, finished)
    finish_course(member, finished)
    client.login(member)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "13%" in html and "12%" not in html  # 1 of 8 is 12.5%: halves round up
    finished_card = html[html.index("จบแล้ว") :]
    assert '<progress max="100" value="100"' in finished_card
    assert "100%" in finished_card


@pytest.mark.parametrize(
    "path",
    [
        "/classes/{c}/gradebook?course={course}",
        "/classes/{c}/gradebook.csv?course={course}",
        "/classes/{c}/learners/{m}",
    ],
)
def test_class_pages_close_expired_attempts(client, make_user, make_quiz, make_attempt,
                                            progress_class, time_machine, path):  # fmt: skip
    """The learner walked away from a timed quiz: the teacher's page closes the attempt with
    what was saved and counts it, without the scheduled command."""
    from datetime import UTC, datetime

    from academy.courses.models import Course
    from academy.quizzes.models import SUBMITTED, Attempt

    teacher, learner = make_user("instructor"), make_user("learner")
    start = datetime(2027, 4, 30, 15, 0, tzinfo=UTC)
    time_machine.move_to(start, tick=False)
    quiz = make_quiz(time_limit_minutes=10)
    klass = progress_class(
        teacher, learners=[learner], courses=[db.session.get(Course, quiz.course_id)]
    )
    attempt = make_attempt(quiz, learner, answers={"Capital": 0, "Sun": True})
    outside = make_attempt(quiz, make_user("learner"))  # not in this class: left alone
    time_machine.move_to(start + timedelta(minutes=30), tick=False)
    client.login(teacher)
    url = path.format(c=klass.id, course=quiz.course_id, m=learner.id)
    assert client.get(url).status_code == 200
    db.session.expire_all()
    closed = db.session.get(Attempt, attempt.id)
    assert closed.status == SUBMITTED and closed.submitted_at == start + timedelta(minutes=10)
    assert db.session.get(Attempt, outside.id).status == "open"
    assert f"{closed.percent:g}" in client.get(url).get_data(as_text=True)
