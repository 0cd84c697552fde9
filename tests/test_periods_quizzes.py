"""Quizzes in the period (issue 14): a quiz that opens only during a period of the learner's
class, opened and closed by the teacher, with an optional start code on the projector; closing
it (or ending the period) submits the open attempts with what was saved."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from academy.core.clock import utcnow
from academy.core.models import AuditEntry, ThrottleFailure
from academy.extensions import db
from academy.periods import gate
from academy.periods.models import PeriodItem
from academy.quizzes import taking, transfer
from academy.quizzes.models import OPEN, SUBMITTED, Attempt

QUIZ = 3  # the fixture's items: three lessons, then the quiz


def attempts() -> int:
    return db.session.scalar(select(func.count()).select_from(Attempt))


def failures() -> int:
    return db.session.scalar(select(func.count()).select_from(ThrottleFailure))


def english(client) -> None:
    client.post("/language", data={"language": "en"})


def open_quiz(client, room, *, code: bool = True) -> str | None:
    """The teacher opens the quiz over HTTP; returns the start code the board shows."""
    client.login(room.teacher)
    form = {"position": str(QUIZ), **({"code": "yes"} if code else {})}
    response = client.post(f"/classes/{room.klass.id}/period/quiz/open", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    board = client.get(f"/classes/{room.klass.id}/period/board.json").get_json()
    return board["items"][QUIZ]["code"]


def start(client, room, learner, code: str | None = None):
    client.login(learner)
    english(client)
    data = {} if code is None else {"code": code}
    response = client.post(f"/quizzes/{room.quiz.id}/start", data=data)
    return response, client.get(f"/quizzes/{room.quiz.id}").get_data(as_text=True)


def test_a_period_quiz_stays_shut_outside_a_period(client, room_period):
    room = room_period(start=False, period_only=True)
    response, page = start(client, room, room.learners[0])
    assert response.status_code == 302 and attempts() == 0
    assert "opens only during a period of your class" in page
    assert "data-period-wait" in page and "Start the quiz" not in page


def test_a_running_period_waits_for_the_teacher_to_open_it(client, room_period):
    room = room_period(period_only=True)
    client.login(room.learners[0])
    page = client.get(f"/quizzes/{room.quiz.id}").get_data(as_text=True)
    assert "ครูยังไม่ได้เปิดแบบทดสอบนี้" in page  # "Your teacher has not opened this quiz yet."
    assert 'class="period-banner"' in page  # the poll that reloads it when the quiz opens
    _response, page = start(client, room, room.learners[0])
    assert "Your teacher has not opened this quiz yet." in page and attempts() == 0


def test_the_start_code_wrong_malformed_and_right(client, room_period):
    room = room_period(period_only=True)
    code = open_quiz(client, room)
    assert re.fullmatch(r"\d{4}", code)
    board = client.get(f"/classes/{room.klass.id}/period/board").get_data(as_text=True)
    assert f'<strong class="board-start-code">{code}</strong>' in board
    learner = room.learners[0]
    client.login(learner)
    page = client.get(f"/quizzes/{room.quiz.id}").get_data(as_text=True)
    assert 'name="code"' in page and code not in page  # the code is on the projector only
    wrong = f"{(int(code) + 1) % 10000:04d}"
    _response, page = start(client, room, learner, wrong)
    assert "That is not the start code on the projector now" in page
    assert attempts() == 0 and failures() == 1  # counted, although the request was refused
    for bad, words in (("12a4", "4 digits"), ("", "Type the 4-digit start code"), ("123", "4")):
        _response, page = start(client, room, learner, bad)
        assert words in page, bad
    assert attempts() == 0 and failures() == 1  # a slip of the finger is no guess
    response, _page = start(client, room, learner, code)
    attempt = db.session.scalars(select(Attempt)).one()
    assert response.headers["Location"].endswith(f"/attempts/{attempt.id}")
    assert attempt.deadline_at == room.period.ends_at  # it ends with the period at the latest
    # Coming back to the quiz page resumes the attempt without asking for the code again.
    assert (
        client.post(f"/quizzes/{room.quiz.id}/start")
        .headers["Location"]
        .endswith(f"/attempts/{attempt.id}")
    )


def test_wrong_codes_are_throttled(client, room_period):
    room = room_period(period_only=True)
    code = open_quiz(client, room)
    wrong = f"{(int(code) + 5) % 10000:04d}"
    learner, other = room.learners
    for _ in range(gate.CODE_TRIES):
        start(client, room, learner, wrong)
    _response, page = start(client, room, learner, code)
    assert "Too many wrong start codes: try again in 10 minutes." in page
    assert attempts() == 0
    # The class's other learners are not held back by one guesser.
    start(client, room, other, code)
    assert db.session.scalars(select(Attempt.user_id)).all() == [other.id]


def test_a_code_of_an_earlier_opening_no_longer_works(client, room_period):
    room = room_period(period_only=True)
    first = open_quiz(client, room)
    client.post(f"/classes/{room.klass.id}/period/quiz/close", data={"position": str(QUIZ)})
    second = open_quiz(client, room)
    assert second != first
    _response, page = start(client, room, room.learners[0], first)
    assert "That is not the start code on the projector now" in page and attempts() == 0


def test_without_a_code_the_opened_quiz_starts_with_a_tap(client, room_period):
    room = room_period(period_only=True)
    assert open_quiz(client, room, code=False) is None
    client.login(room.learners[0])
    page = client.get(f"/quizzes/{room.quiz.id}").get_data(as_text=True)
    assert 'name="code"' not in page
    start(client, room, room.learners[0])
    assert attempts() == 1


def test_closing_submits_open_attempts_with_what_was_saved(client, room_period):
    room = room_period(learners=3, period_only=True)
    open_quiz(client, room, code=False)
    answered, blank, finished = room.learners
    ids = {}
    for learner in room.learners:
        start(client, room, learner)
        ids[learner.id] = db.session.scalar(select(Attempt.id).where(Attempt.user_id == learner.id))
    question = room.quiz.questions[0].id
    client.login(answered)
    saved = client.post(
        f"/attempts/{ids[answered.id]}/responses", json={"question_id": question, "value": 0}
    )
    assert saved.status_code == 200
    client.login(finished)
    client.post(f"/attempts/{ids[finished.id]}/submit")
    client.login(room.teacher)
    english(client)
    response = client.post(
        f"/classes/{room.klass.id}/period/quiz/close", data={"position": str(QUIZ)}
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 open attempts were submitted" in page
    entry = db.session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.details) == (
        "period.quiz_close", {"period_id": room.period.id, "position": QUIZ, "submitted": 2}
    )  # fmt: skip
    db.session.expire_all()
    rows = {a.user_id: a for a in db.session.scalars(select(Attempt))}
    assert all(a.status == SUBMITTED for a in rows.values())
    assert rows[answered.id].percent == 50.0 and rows[blank.id].percent == 0.0  # what was saved
    board = client.get(f"/classes/{room.klass.id}/period/board.json").get_json()
    assert board["items"][QUIZ]["answered"] == 3 and board["items"][QUIZ]["open"] is False
    # An answer that arrives after the close is refused and changes nothing.
    client.login(blank)
    late = client.post(
        f"/attempts/{ids[blank.id]}/responses", json={"question_id": question, "value": 0}
    )
    assert late.status_code == 409 and late.get_json()["closed"] is True
    _response, page = start(client, room, blank)
    assert "Your teacher has not opened this quiz yet." in page


def test_ending_the_period_closes_its_open_quiz(client, room_period):
    room = room_period(period_only=True)
    open_quiz(client, room, code=False)
    start(client, room, room.learners[0])
    client.login(room.teacher)
    assert client.post(f"/classes/{room.klass.id}/period/end").status_code == 302
    db.session.expire_all()
    assert db.session.scalars(select(Attempt.status)).all() == [SUBMITTED]
    item = db.session.scalars(select(PeriodItem).where(PeriodItem.position == QUIZ)).one()
    assert item.closed_at is not None


def test_a_period_that_ends_by_itself_ends_its_attempts(client, room_period):
    # Started 45 minutes ago: five minutes left. Nobody ends it; the attempt's deadline is the
    # period's end, so the time limit's path closes it once the period is over.
    room = room_period(period_only=True, now=utcnow() - timedelta(minutes=45))
    open_quiz(client, room, code=False)
    start(client, room, room.learners[0])
    attempt = db.session.scalars(select(Attempt)).one()
    assert attempt.status == OPEN and attempt.deadline_at == room.period.ends_at
    later = room.period.ends_at + taking.GRACE + timedelta(seconds=1)
    assert taking.close_expired_attempts(later) == 1
    assert attempt.status == SUBMITTED and attempt.submitted_at == room.period.ends_at


def test_the_teachers_bad_input_gets_clear_messages(client, room_period):
    room = room_period(period_only=True)
    client.login(room.teacher)
    english(client)
    base = f"/classes/{room.klass.id}/period/quiz"
    for path, position, words in (
        ("open", "0", "Item 1 is not a quiz."),
        ("open", "9", "There is no item 10 today."),
        ("close", str(QUIZ), "This quiz is not open."),
    ):
        response = client.post(f"{base}/{path}", data={"position": position})
        assert response.status_code == 409, (path, position)
        assert words in response.get_data(as_text=True), (path, position)
    assert client.post(f"{base}/open", data={"position": "x"}).status_code == 400
    open_quiz(client, room)
    english(client)
    again = client.post(f"{base}/open", data={"position": str(QUIZ), "code": "yes"})
    assert again.status_code == 409 and "already open" in again.get_data(as_text=True)


def test_an_ordinary_quiz_cannot_be_opened_in_the_period(client, room_period):
    room = room_period()  # the quiz is open to its learners at any time
    client.login(room.teacher)
    english(client)
    response = client.post(
        f"/classes/{room.klass.id}/period/quiz/open", data={"position": str(QUIZ)}
    )
    assert response.status_code == 409
    assert "open to its learners at any time" in response.get_data(as_text=True)
    assert (
        db.session.scalar(select(PeriodItem.opened_at).where(PeriodItem.position == QUIZ)) is None
    )
    start(client, room, room.learners[0])  # and it starts as always, with no code
    assert attempts() == 1


def test_the_quiz_editor_previews_without_a_period(client, room_period):
    room = room_period(start=False, period_only=True)
    client.login(room.teacher)
    assert client.post(f"/quizzes/{room.quiz.id}/start").status_code == 302
    assert attempts() == 1


def test_steering_a_quiz_after_the_period_ended(client, room_period):
    room = room_period(period_only=True, now=utcnow() - timedelta(hours=2))
    client.login(room.teacher)
    english(client)
    response = client.post(
        f"/classes/{room.klass.id}/period/quiz/open", data={"position": str(QUIZ)}
    )
    assert response.status_code == 409 and "This period ended at" in response.get_data(as_text=True)


@pytest.mark.parametrize("value", [True, False])
def test_period_only_in_the_quiz_file_and_settings(client, make_quiz, make_user, value):
    quiz = make_quiz(period_only=value)
    header = transfer.quiz_header(quiz)
    assert ("period_only" in header) is value  # written only when set
    text = transfer.quiz_text(quiz)
    _parsed, settings = transfer.read_quiz_file(text, "q.gift")
    assert settings["period_only"] is value


def test_period_only_is_a_quiz_setting(client, room_period):
    room = room_period(start=False)
    quiz = room.quiz
    client.login(room.teacher)
    form = {
        "title_th": quiz.title_th, "pass_mark": "60", "grading": "best",
        "show_feedback": "after_submit", "period_only": "y",
    }  # fmt: skip
    assert client.post(f"/quizzes/{quiz.id}/settings", data=form).status_code == 302
    db.session.refresh(quiz)
    assert quiz.period_only is True


def test_only_the_periods_class_may_start_it(client, room_period, make_user):
    # Enrolled in the course, but not in the class whose period has the quiz open.
    from academy.courses import services as courses

    room = room_period(period_only=True)
    open_quiz(client, room, code=False)
    outsider = make_user("learner")
    courses.enrol(outsider, room.course)
    db.session.commit()
    _response, page = start(client, room, outsider)
    assert "opens only during a period of your class" in page and attempts() == 0
