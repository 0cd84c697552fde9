"""Quiz pages run a fixed number of queries, however many questions, learners or attempts."""

from __future__ import annotations

import pytest

from tests.fixtures.quizzes import RIGHT, SAMPLE_QUESTIONS


def _questions(n: int) -> list[dict]:
    return [
        {"type": "truefalse", "title": f"T{i}", "text": f"Statement {i}", "correct": True}
        for i in range(n)
    ] + SAMPLE_QUESTIONS


def _count(client, count_queries, path: str) -> int:
    client.get(path)  # warm: caches, the first-request work
    with count_queries() as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.mark.parametrize("pages", ["attempt", "confirm", "quiz"])
def test_learner_pages_do_not_grow_with_questions(
    client, count_queries, make_quiz, make_user, make_attempt, pages
):
    counts = []
    for extra in (1, 15):
        learner = make_user()
        quiz = make_quiz(questions=_questions(extra))
        attempt = make_attempt(quiz, learner, answers=RIGHT)
        client.login(learner)
        path = {
            "attempt": f"/attempts/{attempt.id}",
            "confirm": f"/attempts/{attempt.id}/submit",
            "quiz": f"/quizzes/{quiz.id}",
        }[pages]
        counts.append(_count(client, count_queries, path))
    assert counts[0] == counts[1] and counts[0] <= 8, counts


def test_result_page_does_not_grow_with_questions(
    client, count_queries, make_quiz, make_user, make_attempt
):
    counts = []
    for extra in (1, 15):
        learner = make_user()
        quiz = make_quiz(questions=_questions(extra))
        attempt = make_attempt(quiz, learner, answers=RIGHT, submit=True)
        client.login(learner)
        counts.append(_count(client, count_queries, f"/attempts/{attempt.id}/result"))
    assert counts[0] == counts[1] and counts[0] <= 8, counts


def test_results_and_marking_do_not_grow_with_learners(
    client, count_queries, make_quiz, make_quiz_course, make_user, make_attempt
):
    teacher = make_user("instructor")
    quiz = make_quiz(course=make_quiz_course(instructor=teacher))
    client.login(teacher)
    counts = {"results": [], "marking": []}
    for learners in (1, 6):
        while len(quiz.questions) and learners:
            make_attempt(quiz, make_user(), answers=RIGHT, submit=True)
            learners -= 1
        for page in counts:
            counts[page].append(_count(client, count_queries, f"/quizzes/{quiz.id}/{page}"))
    assert counts["results"][0] == counts["results"][1], counts
    assert counts["marking"][0] == counts["marking"][1], counts
