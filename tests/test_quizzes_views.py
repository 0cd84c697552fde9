"""Quiz pages: who may see what, saving answers over HTTP, the answer key kept out of the HTML,
instructor pages, GIFT import/export (pages and CLI)."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from academy.core.db import utcnow
from academy.extensions import db
from academy.quizzes import services
from academy.quizzes.models import SUBMITTED, Attempt, Question, Response
from tests.fixtures.quizzes import RIGHT

GIFT = """// a small quiz
::Capital:: What is the capital of Thailand? {=Bangkok ~Chiang Mai}

::Sun:: The sun is a star. {TRUE}
"""


@pytest.fixture
def world(make_user, make_quiz_course, make_quiz, enrol):
    """A course with its instructor, an enrolled learner, another learner, an instructor of
    another course and an admin; a quiz with one question of each type."""
    people = {
        "learner": make_user("learner"),
        "other": make_user("learner"),
        "teacher": make_user("instructor"),
        "stranger": make_user("instructor"),
        "admin": make_user("admin"),
    }
    course = make_quiz_course(instructor=people["teacher"])
    make_quiz_course(instructor=people["stranger"])
    enrol(people["learner"], course)
    enrol(people["other"], course)
    quiz = make_quiz(course=course)
    return {"quiz": quiz, "course": course, **people}


def _qid(quiz, title):
    return next(q.id for q in quiz.questions if q.title == title)


WHO = ["anonymous", "learner", "outsider", "teacher", "stranger", "admin"]


def _sign_in(client, world, who, make_user):
    if who == "anonymous":
        return
    user = make_user("learner") if who == "outsider" else world[who]
    client.login(user)


@pytest.mark.parametrize(
    ("who", "status"),
    list(zip(WHO, [302, 200, 403, 200, 403, 200], strict=True)),
)
def test_quiz_page_access(client, world, make_user, who, status):
    _sign_in(client, world, who, make_user)
    response = client.get(f"/quizzes/{world['quiz'].id}")
    assert response.status_code == status
    if status == 302:
        assert "/sign-in" in response.headers["Location"]


@pytest.mark.parametrize(
    ("path", "statuses"),
    [
        ("/quizzes/{q}/settings", [302, 403, 403, 200, 403, 200]),
        ("/quizzes/{q}/questions", [302, 403, 403, 200, 403, 200]),
        ("/quizzes/{q}/questions/new?type=single", [302, 403, 403, 200, 403, 200]),
        ("/quizzes/{q}/import", [302, 403, 403, 200, 403, 200]),
        ("/quizzes/{q}/export.gift", [302, 403, 403, 200, 403, 200]),
        ("/quizzes/{q}/export.json", [302, 403, 403, 200, 403, 200]),
        ("/quizzes/{q}/results", [302, 403, 403, 200, 403, 200]),
        ("/quizzes/{q}/marking", [302, 403, 403, 200, 403, 200]),
    ],
)
def test_instructor_pages_access(client, world, make_user, path, statuses):
    for who, status in zip(WHO, statuses, strict=True):
        client.logout()
        _sign_in(client, world, who, make_user)
        response = client.get(path.format(q=world["quiz"].id))
        assert response.status_code == status, (who, path)


@pytest.mark.parametrize(
    ("who", "status"),
    list(
        zip(
            ["anonymous", "learner", "other", "teacher", "admin"],
            [302, 200, 404, 404, 404],
            strict=True,
        )
    ),
)
def test_attempt_page_access(client, world, make_user, who, status):
    attempt = services.start_attempt(world["learner"], world["quiz"])
    _sign_in(client, world, who, make_user)
    assert client.get(f"/attempts/{attempt.id}").status_code == status
    response = client.post(
        f"/attempts/{attempt.id}/responses",
        json={"question_id": _qid(world["quiz"], "Capital"), "value": 0},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == (401 if who == "anonymous" else status)
    expected = 1 if who == "learner" else 0
    assert db.session.scalar(select(func.count(Response.id))) == expected


@pytest.mark.parametrize(
    ("who", "status"),
    list(
        zip(
            ["learner", "other", "teacher", "stranger", "admin"],
            [200, 404, 200, 404, 200],
            strict=True,
        )
    ),
)
def test_result_page_access(client, world, make_user, make_attempt, who, status):
    attempt = make_attempt(world["quiz"], world["learner"], answers={"Capital": 0}, submit=True)
    _sign_in(client, world, who, make_user)
    assert client.get(f"/attempts/{attempt.id}/result").status_code == status


def test_start_resume_and_take(client, world):
    quiz, learner = world["quiz"], world["learner"]
    client.login(learner)
    response = client.post(f"/quizzes/{quiz.id}/start")
    attempt = db.session.scalar(select(Attempt))
    assert response.headers["Location"].endswith(f"/attempts/{attempt.id}")
    # A second start (another tab) resumes the same attempt.
    client.post(f"/quizzes/{quiz.id}/start")
    assert db.session.scalar(select(func.count(Attempt.id))) == 1
    for title, value in RIGHT.items():
        response = client.post(
            f"/attempts/{attempt.id}/responses",
            json={"question_id": _qid(quiz, title), "value": value},
        )
        assert response.status_code == 200, (title, response.json)
        assert response.json["saved"] is True
    page = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert 'value="A small shop in Bobae."' not in page  # an essay is a textarea
    assert "A small shop in Bobae." in page
    confirm = client.get(f"/attempts/{attempt.id}/submit").get_data(as_text=True)
    assert "Every question has an answer" in confirm or "ทุกข้อ" in confirm
    response = client.post(f"/attempts/{attempt.id}/submit")
    assert response.status_code == 302
    db.session.refresh(attempt)
    assert attempt.status == SUBMITTED and attempt.points == 7
    result = client.get(f"/attempts/{attempt.id}/result").get_data(as_text=True)
    assert "87.5%" in result
    # Submitting again changes nothing and says so.
    again = client.post(f"/attempts/{attempt.id}/submit", follow_redirects=True)
    assert attempt.submitted_at is not None
    assert again.status_code == 200


def test_answer_key_never_in_attempt_html(client, world):
    quiz, learner = world["quiz"], world["learner"]
    attempt = services.start_attempt(learner, quiz)
    client.login(learner)
    page = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert "What is the capital of Thailand?" in page
    for secret in ("fraction", "GENERALFEEDBACK", "Yes, Krung Thep", "That is in the north"):
        assert secret not in page
    # The confirm page neither.
    page = client.get(f"/attempts/{attempt.id}/submit").get_data(as_text=True)
    assert "GENERALFEEDBACK" not in page and "Krung Thep" not in page


@pytest.mark.parametrize(
    ("show", "allowed", "visible"),
    [("after_submit", 0, True), ("never", 0, False), ("after_last_attempt", 2, False)],
)
def test_result_feedback_visibility(client, world, make_quiz, make_attempt, show, allowed, visible):
    quiz = make_quiz(course=world["course"], show_feedback=show, attempts_allowed=allowed)
    attempt = make_attempt(quiz, world["learner"], answers={"Capital": 1}, submit=True)
    client.login(world["learner"])
    page = client.get(f"/attempts/{attempt.id}/result").get_data(as_text=True)
    for secret in ("GENERALFEEDBACK-capital", "That is in the north"):
        assert (secret in page) is visible
    # The instructor always sees the review.
    client.login(world["teacher"])
    page = client.get(f"/attempts/{attempt.id}/result").get_data(as_text=True)
    assert "GENERALFEEDBACK-capital" in page


@pytest.mark.parametrize(
    "payload",
    [
        {"question_id": "Capital", "value": 9},
        {"question_id": "Capital", "value": "Bangkok"},
        {"question_id": "Sun", "value": "true"},
        {"question_id": 999999, "value": 0},
        {"value": 0},
        [],
    ],
)
def test_forged_answers_refused(client, world, payload):
    quiz, learner = world["quiz"], world["learner"]
    attempt = services.start_attempt(learner, quiz)
    if isinstance(payload, dict) and isinstance(payload.get("question_id"), str):
        payload = dict(payload, question_id=_qid(quiz, payload["question_id"]))
    client.login(learner)
    response = client.post(f"/attempts/{attempt.id}/responses", json=payload)
    assert response.status_code == 400
    assert response.json["error"]
    assert db.session.scalar(select(func.count(Response.id))) == 0


def test_json_save_needs_csrf(client, world):
    attempt = services.start_attempt(world["learner"], world["quiz"])
    client.login(world["learner"])
    response = client.post(
        f"/attempts/{attempt.id}/responses",
        json={"question_id": _qid(world["quiz"], "Capital"), "value": 0},
        csrf=False,
    )
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Response.id))) == 0


def test_closed_and_late_answers_refused(client, world):
    quiz, learner = world["quiz"], world["learner"]
    quiz.time_limit_minutes = 5
    db.session.commit()
    attempt = services.start_attempt(learner, quiz)
    services.save_response(attempt, _qid(quiz, "Capital"), 0, learner)
    attempt.deadline_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    client.login(learner)
    response = client.post(
        f"/attempts/{attempt.id}/responses", json={"question_id": _qid(quiz, "Capital"), "value": 1}
    )
    assert response.status_code == 409 and response.json["closed"] is True
    db.session.refresh(attempt)
    assert attempt.status == SUBMITTED and attempt.points == 1
    assert db.session.scalar(select(Response.value)) == 0
    # The attempt page now leads to the result.
    assert client.get(f"/attempts/{attempt.id}").headers["Location"].endswith("/result")


def test_timer_rendered_by_server(client, world):
    quiz, learner = world["quiz"], world["learner"]
    quiz.time_limit_minutes = 20
    db.session.commit()
    attempt = services.start_attempt(learner, quiz)
    client.login(learner)
    page = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert 'role="timer"' in page and 'data-remaining="1' in page


def test_form_post_without_javascript(client, world):
    quiz, learner = world["quiz"], world["learner"]
    attempt = services.start_attempt(learner, quiz)
    client.login(learner)
    ids = {title: _qid(quiz, title) for title in RIGHT}
    form = {
        f"q-{ids['Capital']}": "0",
        f"q-{ids['Colours']}-present": "1",
        f"q-{ids['Colours']}": ["0", "1"],
        f"q-{ids['Sun']}": "true",
        f"q-{ids['Rice']}": "ข้าว",
        f"q-{ids['Sum']}": "4",
        f"q-{ids['Match']}-present": "1",
        f"q-{ids['Match']}-m-0": "0",
        f"q-{ids['Match']}-m-1": "1",
        f"q-{ids['Blank']}": "0",
        f"q-{ids['Essay']}": "My shop",
        "action": "finish",
    }
    response = client.post(f"/attempts/{attempt.id}", data=form)
    assert response.headers["Location"].endswith(f"/attempts/{attempt.id}/submit")
    client.post(f"/attempts/{attempt.id}/submit")
    db.session.refresh(attempt)
    assert attempt.points == 7


def test_limit_reached_message(client, world, make_attempt):
    quiz = world["quiz"]
    quiz.attempts_allowed = 1
    db.session.commit()
    make_attempt(quiz, world["learner"], submit=True)
    client.login(world["learner"])
    page = client.get(f"/quizzes/{quiz.id}").get_data(as_text=True)
    assert "คุณทำแบบทดสอบนี้ครบจำนวนครั้งแล้ว" in page
    assert f'action="/quizzes/{quiz.id}/start"' not in page
    response = client.post(f"/quizzes/{quiz.id}/start", follow_redirects=True)
    assert "คุณทำแบบทดสอบนี้ครบ 1 ครั้งแล้ว" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Attempt.id))) == 1


def test_settings_form(client, world):
    quiz = world["quiz"]
    client.login(world["teacher"])
    response = client.post(
        f"/quizzes/{quiz.id}/settings",
        data={
            "title_th": "แบบทดสอบใหม่",
            "pass_mark": "70",
            "attempts_allowed": "3",
            "time_limit_minutes": "15",
            "draw_count": "0",
            "grading": "last",
            "show_feedback": "never",
            "shuffle_answers": "y",
        },
    )
    assert response.status_code == 302
    db.session.refresh(quiz)
    assert (quiz.pass_mark, quiz.attempts_allowed, quiz.time_limit_minutes) == (70, 3, 15)
    assert (quiz.grading, quiz.show_feedback, quiz.shuffle_answers) == ("last", "never", True)
    bad = client.post(f"/quizzes/{quiz.id}/settings", data={"title_th": "x", "pass_mark": "150"})
    assert bad.status_code == 200
    db.session.refresh(quiz)
    assert quiz.pass_mark == 70


@pytest.mark.parametrize(
    ("kind", "answers", "extra"),
    [
        ("single", "=Right\n~Wrong", {}),
        ("multiple", "~%50%A\n~%50%B\n~%-100%C", {}),
        ("truefalse", "FALSE", {}),
        ("short", "=ข้าว", {}),
        ("numerical", "#4:0.5", {}),
        ("matching", "=a -> 1\n=b -> 2", {}),
        ("missingword", "=ข้าว ~หิน", {"text_after": "ทุกวัน"}),
        ("essay", "", {}),
        ("description", "", {}),
    ],
)
def test_question_editor_every_type(client, world, kind, answers, extra):
    quiz = world["quiz"]
    client.login(world["teacher"])
    data = {"title": f"New {kind}", "text": "Question text {with} braces: ok", "points": "2"}
    data.update(answers=answers, **extra)
    preview = client.post(
        f"/quizzes/{quiz.id}/questions/new?type={kind}", data=dict(data, action="preview")
    )
    assert preview.status_code == 200
    assert (
        "Question text {with} braces: ok" in preview.get_data(as_text=True) or kind == "missingword"
    )
    count = len(quiz.questions)
    saved = client.post(
        f"/quizzes/{quiz.id}/questions/new?type={kind}", data=dict(data, action="save")
    )
    assert saved.status_code == 302
    db.session.expire_all()
    question = db.session.scalar(select(Question).where(Question.title == f"New {kind}"))
    assert question.type == kind and question.points == 2
    assert len(world["quiz"].questions) == count + 1
    # Editing shows the same answers back, and saving unchanged keeps the question.
    page = client.get(f"/quizzes/{quiz.id}/questions/{question.id}/edit").get_data(as_text=True)
    assert "New " + kind in page
    before = dict(question.data)
    edit = client.post(
        f"/quizzes/{quiz.id}/questions/{question.id}/edit", data=dict(data, action="save")
    )
    assert edit.status_code == 302
    db.session.refresh(question)
    assert question.data == before


def test_question_editor_refuses_bad_answers(client, world):
    quiz = world["quiz"]
    client.login(world["teacher"])
    count = len(quiz.questions)
    response = client.post(
        f"/quizzes/{quiz.id}/questions/new?type=single",
        data={"title": "Bad", "text": "?", "points": "1", "answers": "~a\n~b", "action": "save"},
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert len(world["quiz"].questions) == count


def test_delete_and_reorder(client, world):
    quiz = world["quiz"]
    client.login(world["teacher"])
    first, second = quiz.questions[0], quiz.questions[1]
    client.post(f"/quizzes/{quiz.id}/questions/{second.id}/move", data={"direction": "up"})
    db.session.expire_all()
    assert [q.id for q in world["quiz"].questions[:2]] == [second.id, first.id]
    client.post(f"/quizzes/{quiz.id}/questions/{first.id}/delete")
    db.session.expire_all()
    assert db.session.get(Question, first.id) is None


def test_import_page_all_or_nothing(client, world):
    quiz = world["quiz"]
    client.login(world["teacher"])
    count = len(quiz.questions)
    bad = GIFT + "\n::Broken:: Oops {=a ~b\n"
    response = client.post(f"/quizzes/{quiz.id}/import", data={"text": bad})
    assert response.status_code == 400
    assert ":6" in response.get_data(as_text=True) or ":5" in response.get_data(as_text=True)
    db.session.expire_all()
    assert len(world["quiz"].questions) == count
    response = client.post(f"/quizzes/{quiz.id}/import", data={"text": GIFT})
    assert response.status_code == 302
    db.session.expire_all()
    assert len(world["quiz"].questions) == count + 2


def test_export_pages(client, world):
    quiz = world["quiz"]
    client.login(world["teacher"])
    gift = client.get(f"/quizzes/{quiz.id}/export.gift").get_data(as_text=True)
    assert "::Capital::" in gift
    data = json.loads(client.get(f"/quizzes/{quiz.id}/export.json").get_data(as_text=True))
    assert data["format"] == 1 and len(data["questions"]) == len(quiz.questions)
    assert data["settings"]["pass_mark"] == quiz.pass_mark


def test_quiz_page_export_is_the_course_folder_quiz_file(client, world):
    # The quiz page and the course folder export wrote the settings header apart, and the page
    # dropped @draw_category; both now write the one header.
    from academy.quizzes.transfer import quiz_text

    quiz = world["quiz"]
    quiz.draw_count, quiz.draw_category = 1, "Geography"
    db.session.commit()
    client.login(world["teacher"])
    gift = client.get(f"/quizzes/{quiz.id}/export.gift").get_data(as_text=True)
    assert "// @draw_category: Geography" in gift
    assert gift == quiz_text(quiz)


def test_results_and_marking_pages(client, world, make_attempt):
    quiz = world["quiz"]
    attempt = make_attempt(quiz, world["learner"], answers=RIGHT, submit=True)
    client.login(world["teacher"])
    page = client.get(f"/quizzes/{quiz.id}/results").get_data(as_text=True)
    assert world["learner"].full_name in page and "87.5%" in page
    page = client.get(f"/quizzes/{quiz.id}/marking").get_data(as_text=True)
    assert "A small shop in Bobae." in page
    response_row = db.session.scalar(
        select(Response).where(Response.question_id == _qid(quiz, "Essay"))
    )
    marked = client.post(
        f"/responses/{response_row.id}/mark",
        data={f"r{response_row.id}-percent": "100", f"r{response_row.id}-comment": "ดีมาก"},
    )
    assert marked.status_code == 302
    db.session.refresh(attempt)
    assert attempt.percent == 100.0 and attempt.needs_marking is False
    client.login(world["learner"])
    page = client.get(f"/attempts/{attempt.id}/result").get_data(as_text=True)
    assert "ดีมาก" in page
    # Another course's instructor cannot mark.
    client.login(world["stranger"])
    response = client.post(
        f"/responses/{response_row.id}/mark", data={f"r{response_row.id}-percent": "0"}
    )
    assert response.status_code == 403


def test_cli_import_export_round_trip(runner, world, tmp_path):
    course = world["course"]
    source = tmp_path / "unit1.gift"
    source.write_text(GIFT, encoding="utf-8")
    result = runner.invoke(
        args=["academy", "import-gift", str(source), "--course", course.slug, "--quiz", "Unit 1"]
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "out.gift"
    result = runner.invoke(
        args=[
            "academy",
            "export-quiz",
            course.slug,
            "Unit 1",
            "--format",
            "gift",
            "--output",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    from academy.quizzes.gift import parse_gift

    assert parse_gift(out.read_text()).questions == parse_gift(GIFT).questions
    result = runner.invoke(
        args=["academy", "export-quiz", course.slug, "Unit 1", "--format", "json"]
    )
    assert json.loads(result.output)["questions"][0]["title"] == "Capital"
    # An error stores nothing and names file:line.
    bad = tmp_path / "bad.gift"
    bad.write_text(GIFT + "\n::X:: broken {=a\n", encoding="utf-8")
    before = db.session.scalar(select(func.count(Question.id)))
    result = runner.invoke(args=["academy", "import-gift", str(bad), "--course", course.slug])
    assert result.exit_code != 0
    assert f"{bad}:" in result.output
    db.session.rollback()
    assert db.session.scalar(select(func.count(Question.id))) == before


def test_cli_close_expired(runner, world):
    quiz = world["quiz"]
    quiz.time_limit_minutes = 1
    db.session.commit()
    attempt = services.start_attempt(world["learner"], quiz)
    attempt.deadline_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    result = runner.invoke(args=["academy", "close-expired-attempts"])
    assert result.exit_code == 0 and "1 attempts closed" in result.output
    db.session.refresh(attempt)
    assert attempt.status == SUBMITTED


def test_gift_export_carries_the_settings(client, world):
    from academy.quizzes.gift import parse_gift

    quiz = world["quiz"]
    quiz.pass_mark, quiz.attempts_allowed, quiz.grading = 75, 2, "last"
    db.session.commit()
    client.login(world["teacher"])
    parsed = parse_gift(client.get(f"/quizzes/{quiz.id}/export.gift").get_data(as_text=True))
    assert parsed.header["pass_mark"] == "75" and parsed.header["attempts"] == "2"
    assert parsed.header["grading"] == "last" and parsed.header["id"] == quiz.key
    assert len(parsed.questions) == len(quiz.questions)


def test_timeup_post_saves_and_submits(client, world):
    quiz, learner = world["quiz"], world["learner"]
    attempt = services.start_attempt(learner, quiz)
    client.login(learner)
    response = client.post(
        f"/attempts/{attempt.id}",
        data={f"q-{_qid(quiz, 'Capital')}": "0", "action": "timeup"},
    )
    assert response.headers["Location"].endswith(f"/attempts/{attempt.id}/result")
    db.session.refresh(attempt)
    assert attempt.status == SUBMITTED and attempt.points == 1


def test_gift_limits_on_the_page_and_the_command_line(client, world, runner, tmp_path):
    quiz = world["quiz"]
    count = len(quiz.questions)
    client.login(world["teacher"])
    client.post("/language", data={"language": "en"})
    bomb = "".join(f"Q{i}? {{T}}\n\n" for i in range(100_000)).encode()
    # Encoded in memory: the test client would spool a big upload to a file it never closes.
    boundary, body = encode_multipart(
        {"file": FileStorage(io.BytesIO(bomb), "bomb.gift"), "csrf_token": client.csrf_token()}
    )
    response = client.post(
        f"/quizzes/{quiz.id}/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        csrf=False,
    )
    assert response.status_code == 400 and "the file is too large" in response.text
    per_quiz = "".join(f"Q{i}? {{T}}\n\n" for i in range(1000 - count + 1))
    response = client.post(f"/quizzes/{quiz.id}/import", data={"text": per_quiz})
    assert response.status_code == 400 and "at most 1000 questions" in response.text
    db.session.expire_all()
    assert len(world["quiz"].questions) == count
    source = tmp_path / "bomb.gift"
    source.write_bytes(bomb)
    result = runner.invoke(
        args=["academy", "import-gift", str(source), "--course", world["course"].slug]
    )
    assert result.exit_code != 0 and "too large" in result.output


def test_import_shows_warnings_and_accepts_a_file_of_categories_only(client, world, runner):
    quiz = world["quiz"]
    client.login(world["teacher"])
    count = len(quiz.questions)
    response = client.post(
        f"/quizzes/{quiz.id}/import",
        data={"text": "$CATEGORY: unit-1\n"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "เพิ่มคำถามแล้ว 0 ข้อ" in response.get_data(as_text=True)
    response = client.post(
        f"/quizzes/{quiz.id}/import",
        data={"text": "::pick:: Which? {~a ~b}\n"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "เพิ่มคำถามแล้ว 1 ข้อ" in page
    assert 'class="flash flash-warning"' in page
    assert ":1: pick: no choice earns marks" in page
    db.session.expire_all()
    assert len(world["quiz"].questions) == count + 1


def test_cli_import_prints_warnings(runner, world, tmp_path):
    source = tmp_path / "w.gift"
    source.write_text("// c\n\n::pick:: Which? {~a ~b}\n", encoding="utf-8")
    result = runner.invoke(
        args=["academy", "import-gift", str(source), "--course", world["course"].slug]
    )
    assert result.exit_code == 0, result.output
    assert f"warning: {source}:3: pick: no choice earns marks" in result.output
    assert "1 questions added" in result.output


def test_question_editor_saves_what_moodle_imports_with_a_warning(client, world):
    quiz = world["quiz"]
    client.login(world["teacher"])
    saved = client.post(
        f"/quizzes/{quiz.id}/questions/new?type=multiple",
        data={"title": "No right", "text": "?", "points": "1", "answers": "~a\n~b"},
        follow_redirects=True,
    )
    assert saved.status_code == 200
    assert "No right: no choice earns marks" not in saved.get_data(as_text=True)
    assert "no choice earns marks" in saved.get_data(as_text=True)
    wild = {"title": "Spell", "text": "?", "points": "1", "answers": "=colo*r\n=%0%*#no"}
    client.post(f"/quizzes/{quiz.id}/questions/new?type=short", data=wild)
    question = db.session.scalar(select(Question).where(Question.title == "Spell"))
    page = client.get(f"/quizzes/{quiz.id}/questions/{question.id}/edit").get_data(as_text=True)
    assert "=colo*r\n=%0%*#no" in page


# A timed attempt the learner walked away from is closed by whichever page reads it: no
# scheduled job is needed for the results, the marking queue or the learner's own pages.
EXPIRY_PAGES = [
    ("learner", "/attempts/{a}"),
    ("learner", "/attempts/{a}/submit"),
    ("learner", "/attempts/{a}/result"),
    ("learner", "/quizzes/{q}"),
    ("teacher", "/quizzes/{q}/results"),
    ("teacher", "/quizzes/{q}/marking"),
]


@pytest.mark.parametrize(("who", "path"), EXPIRY_PAGES)
def test_reading_a_page_closes_an_expired_attempt(client, world, make_attempt, time_machine,
                                                  who, path):  # fmt: skip
    from datetime import UTC, datetime

    start = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    time_machine.move_to(start, tick=False)
    quiz = world["quiz"]
    quiz.time_limit_minutes = 20
    db.session.commit()
    attempt = make_attempt(quiz, world["learner"], answers={"Capital": 0, "Sun": True})
    time_machine.move_to(start + timedelta(minutes=20, seconds=5), tick=False)  # within grace
    client.login(world[who])
    client.get(path.format(a=attempt.id, q=quiz.id))
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).status == "open"
    time_machine.move_to(start + timedelta(minutes=21), tick=False)
    client.get(path.format(a=attempt.id, q=quiz.id))
    db.session.expire_all()
    closed = db.session.get(Attempt, attempt.id)
    assert closed.status == SUBMITTED
    assert closed.submitted_at == start + timedelta(minutes=20)  # at the deadline, not now
    assert closed.points == 2
    if path.endswith("/results"):
        page = client.get(path.format(a=attempt.id, q=quiz.id)).get_data(as_text=True)
        assert world["learner"].full_name in page and f"{closed.percent:g}" in page


def test_results_close_only_their_own_quizzes(client, world, make_quiz, make_attempt,
                                              time_machine):  # fmt: skip
    from datetime import UTC, datetime

    start = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    time_machine.move_to(start, tick=False)
    quiz = world["quiz"]
    other = make_quiz(course=world["course"], time_limit_minutes=5)
    quiz.time_limit_minutes = 5
    db.session.commit()
    mine = make_attempt(quiz, world["learner"])
    elsewhere = make_attempt(other, world["learner"])
    time_machine.move_to(start + timedelta(hours=1), tick=False)
    client.login(world["teacher"])
    assert client.get(f"/quizzes/{quiz.id}/results").status_code == 200
    db.session.expire_all()
    assert db.session.get(Attempt, mine.id).status == SUBMITTED
    assert db.session.get(Attempt, elsewhere.id).status == "open"
