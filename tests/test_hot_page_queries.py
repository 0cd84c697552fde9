"""The hot learner pages (issue 8) run a fixed number of queries: the same for a small course
and a big one, for few rows and many. Exact counts, so a new query on a hot page is a decision
someone made, not an accident."""

from __future__ import annotations

import pytest

from academy.certificates import issuing
from academy.courses import services as courses
from academy.extensions import db


def _count(client, count_queries, path: str, method: str = "GET", **kwargs) -> int:
    client.open(path, method=method, **kwargs)  # warm: caches, the first-request work
    with count_queries() as queries:
        response = client.open(path, method=method, **kwargs)
        response.get_data()
    assert response.status_code < 400, (path, response.status_code)
    return len(queries)


def _learner_in(make_user, make_course, make_quiz_in, modules: int, lessons: int):
    course = make_course(modules=modules, lessons=lessons)
    make_quiz_in(course)
    learner = make_user("learner")
    courses.enrol(learner, course)
    db.session.commit()
    return learner, course


@pytest.mark.parametrize(
    ("page", "expected"),
    # (SQLite, PostgreSQL): the same today; a dialect may need its own (row locks). The course
    # and lesson pages ask once whether the learner's class is in a period (the banner);
    # assignments (issue 13) add two: the outline's assignments and the learner's states; mark
    # done one more: the completion rule's assignment list. Issue 15: the outline's modules and
    # lessons are one query, the course comes with its track, the lesson pages read the
    # course and lesson in one, and the learner's ticks, totals and quiz marks are one. Then the
    # outline (modules and lessons, quizzes, assignments: 3) is kept by course version and the
    # assignment states are part of the learner-state query (1).
    [("course", (5, 5)), ("lesson", (4, 4)), ("done", (13, 13))],
)
def test_course_pages_do_not_grow_with_lessons(
    client, count_queries, make_user, make_course, make_quiz_in, page, expected
):
    counts = []
    for modules, lessons in ((1, 3), (3, 10)):
        learner, course = _learner_in(make_user, make_course, make_quiz_in, modules, lessons)
        client.login(learner)
        client.post(f"/courses/{course.slug}/lessons/m1-l1/done")  # some progress to show
        path = {
            "course": f"/courses/{course.slug}",
            "lesson": f"/courses/{course.slug}/lessons/m1-l2",
            "done": f"/courses/{course.slug}/lessons/m1-l2/done",
        }[page]
        counts.append(_count(client, count_queries, path, "POST" if page == "done" else "GET"))
    assert counts[0] == counts[1], f"{counts[0]} queries for 3 lessons, {counts[1]} for 30"
    assert counts[0] == expected[db.engine.dialect.name == "postgresql"], counts


def test_catalogue_does_not_grow_with_courses(client, count_queries, make_user, make_course):
    learner = make_user("learner")
    client.login(learner)
    counts = []
    for n in (3, 27):  # 3, then 30 in all
        for _ in range(n):
            make_course(modules=1, lessons=1)
        counts.append(_count(client, count_queries, "/courses"))
    # The user, the courses, the tracks (read once for the groups and the track filter).
    assert counts[0] == counts[1] == 3, counts


def test_certificates_page_does_not_grow_with_certificates(
    client, count_queries, make_user, make_course
):
    counts = []
    for n in (3, 30):
        learner = make_user("learner")
        for _ in range(n):
            issuing.issue(learner, make_course(modules=1, lessons=1))
        db.session.commit()
        client.login(learner)
        counts.append(_count(client, count_queries, "/certificates"))
    assert counts[0] == counts[1] == 2, counts


def test_saving_an_answer_does_not_grow_with_questions(
    client, count_queries, make_quiz, make_user, make_attempt
):
    from tests.fixtures.quizzes import SAMPLE_QUESTIONS

    counts = []
    for extra in (1, 15):
        questions = [
            {"type": "truefalse", "title": f"T{i}", "text": f"Statement {i}", "correct": True}
            for i in range(extra)
        ] + SAMPLE_QUESTIONS
        learner = make_user()
        quiz = make_quiz(questions=questions)
        attempt = make_attempt(quiz, learner)
        client.login(learner)
        question_id = quiz.questions[0].id
        counts.append(
            _count(
                client, count_queries, f"/attempts/{attempt.id}/responses", "POST",
                json={"question_id": question_id, "value": True},
            )
        )  # fmt: skip
    # 6 since the request owns the transaction (was 8: the service committed, and the view
    # read the saved answer back). On SQLite 5 (issue 15): the attempt is not read again under
    # a row lock, as the request's BEGIN IMMEDIATE holds the database's write lock already.
    expected = 6 if db.engine.dialect.name == "postgresql" else 5
    assert counts[0] == counts[1] == expected, counts
