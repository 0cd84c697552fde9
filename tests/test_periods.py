"""The computer-room period (issue 14): starting one per class, steering, ending by itself,
the learners' banner and its poll (ETag / 304), the projector board, attendance, the summary
and signing the room's computers out."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.test import Client

from academy.core.clock import to_local, utcnow
from academy.core.errors import ServiceError
from academy.core.models import AuditEntry
from academy.extensions import db
from academy.periods import attendance, services
from academy.periods.models import ABSENT, EXCUSED, LATE, PRESENT, Attendance, Period
from academy.progress.models import ProgressEvent
from tests.fixtures.auth import PASSWORD


@pytest.fixture
def en():
    """Service messages in English (the app's default is Thai), for matching them by words."""
    with force_locale("en"):
        yield


def values(klass):
    return [c.value for c in services.choices_for(klass)]


# --- the period and its rules ---------------------------------------------------------------


def test_start_lists_todays_items_in_outline_order(room_period):
    room = room_period()
    items = services.items_of(room.period)
    assert [(i.kind, i.obj.key) for i in items] == [
        ("lesson", "m1-l1"), ("lesson", "m1-l2"), ("lesson", "m1-l3"), ("quiz", room.quiz.key),
    ]  # fmt: skip
    assert room.period.ends_at - room.period.started_at == timedelta(minutes=50)
    assert room.period.room_id == room.klass.room_id


def test_a_second_period_for_the_class_is_refused_and_nothing_is_saved(room_period, en):
    room = room_period()
    with pytest.raises(ServiceError, match="already has a period running"):
        services.start(room.klass, room.teacher, values(room.klass), now=room.started)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Period)) == 1


def test_the_database_refuses_two_open_periods_for_one_class(room_period):
    # Two teachers pressing Start in the same instant both pass the service's check: the
    # partial unique index is what keeps the second one out.
    room = room_period()
    db.session.add(
        Period(class_id=room.klass.id, started_at=room.started, ends_at=room.period.ends_at)
    )
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_steering(room_period, en):
    room = room_period()
    now = room.started + timedelta(minutes=5)
    version = room.period.version
    services.step(room.period, 1, now=now)
    assert room.period.current_position == 1 and room.period.version == version + 1
    services.step(room.period, -1, now=now)
    services.step(room.period, -1, now=now)  # already first: stays
    assert room.period.current_position == 0
    services.go_to(room.period, 3, now=now)
    assert services.current_item(room.period).kind == "quiz"
    with pytest.raises(ServiceError, match="no item 5"):
        services.go_to(room.period, 4, now=now)


def test_bad_length(room_period, en):
    room = room_period(start=False)
    for minutes in (0, 241):
        with pytest.raises(ServiceError, match="1 to 240 minutes"):
            services.start(
                room.klass, room.teacher, values(room.klass), minutes=minutes, now=room.started
            )


def test_items_must_belong_to_the_class(room_period, en, make_course):
    room = room_period(start=False)
    foreign = make_course(modules=1, lessons=1)
    lesson = foreign.modules[0].lessons[0]
    with pytest.raises(ServiceError, match="Not a lesson or quiz of this class"):
        services.start(room.klass, room.teacher, [f"lesson:{lesson.id}"], now=room.started)
    with pytest.raises(ServiceError, match="at least one"):
        services.start(room.klass, room.teacher, [], now=room.started)
    first = values(room.klass)[0]
    with pytest.raises(ServiceError, match="only once"):
        services.start(room.klass, room.teacher, [first, first], now=room.started)


def test_a_period_ends_by_itself_and_after_a_restart(room_period, en, app):
    room = room_period()
    klass_id, period_id, teacher_id = room.klass.id, room.period.id, room.teacher.id
    later = room.started + timedelta(minutes=51)
    # "Restart": nothing in memory, a new session reads the stored row.
    db.session.remove()
    period = db.session.get(Period, period_id)
    assert period.running(room.started + timedelta(minutes=49))
    assert not period.running(later)
    assert period.finished_at(later) == period.ends_at
    klass = db.session.get(type(room.klass), klass_id)
    teacher = db.session.get(type(room.teacher), teacher_id)
    assert services.running_period(klass, later) is None
    # Steering an expired period: refused, and it is closed at its end, not at "now".
    with pytest.raises(ServiceError, match="ended at"):
        services.step(period, 1, now=later + timedelta(hours=3))
    assert period.ended_at == period.ends_at
    # The next period starts cleanly (the stale row no longer holds the unique index).
    again = services.start(klass, teacher, values(klass), now=later + timedelta(hours=3))
    db.session.flush()
    assert again.running(later + timedelta(hours=3, minutes=1))


def test_a_clock_that_jumps_back_does_not_end_before_the_start(room_period, en):
    room = room_period()
    before = room.started - timedelta(hours=2)  # the server's clock was set back
    assert room.period.running(before)
    services.end(room.period, now=before)
    assert room.period.ended_at == room.period.started_at
    with pytest.raises(ServiceError, match="ended at"):
        services.step(room.period, 1, now=room.started)


def test_an_expired_stale_period_is_closed_when_the_next_starts(room_period):
    room = room_period()
    later = room.started + timedelta(days=1)
    services.start(room.klass, room.teacher, values(room.klass), now=later)
    db.session.flush()
    periods = list(db.session.scalars(select(Period).order_by(Period.id)))
    assert periods[0].ended_at == periods[0].ends_at and periods[1].ended_at is None


# --- the learners' banner and poll ----------------------------------------------------------


def test_the_banner_shows_on_dashboard_course_and_lesson_pages(client, room_period):
    room = room_period()
    client.login(room.learners[0])
    for path in (
        "/dashboard",
        f"/courses/{room.course.slug}",
        f"/courses/{room.course.slug}/lessons/m1-l2",
    ):
        page = client.get(path).get_data(as_text=True)
        assert 'class="period-banner"' in page, path
        assert "บทเรียน 1.1" in page and "/lessons/m1-l1" in page, path
        assert "js/periods.js" in page


def test_no_banner_for_another_class_or_after_the_end(client, room_period, make_user):
    room = room_period()
    other = room_period(start=False)
    client.login(other.learners[0])
    page = client.get("/dashboard").get_data(as_text=True)
    # The banner waits, empty and hidden, so a period started later appears by polling.
    banner = re.search(r'<aside class="period-banner"[^>]* hidden>.*?</aside>', page, re.S)
    assert banner and "บทเรียน" not in banner.group(0)
    assert client.get("/period/now").get_json() == {"running": False}
    services.end(room.period, now=room.started + timedelta(minutes=10))
    db.session.commit()
    client.login(room.learners[0])
    assert client.get("/period/now").get_json() == {"running": False}


def test_poll_etag_and_304(client, room_period):
    room = room_period()
    client.login(room.learners[0])
    first = client.get("/period/now")
    assert first.status_code == 200
    state = first.get_json()
    assert state["running"] and state["follow_me"] and state["url"].endswith("/lessons/m1-l1")
    etag = first.headers["ETag"]
    again = client.get("/period/now", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    listed = client.get("/period/now", headers={"If-None-Match": f'"other", {etag}'})
    assert listed.status_code == 304  # a browser may send several
    assert client.get("/period/now", headers={"If-None-Match": '"other"'}).status_code == 200
    # The teacher moves on: the same ETag no longer matches, and the answer names the new item.
    client.login(room.teacher)
    assert client.post(f"/classes/{room.klass.id}/period/next").status_code == 302
    client.login(room.learners[0])
    moved = client.get("/period/now", headers={"If-None-Match": etag})
    assert moved.status_code == 200 and moved.get_json()["url"].endswith("/lessons/m1-l2")
    assert moved.headers["ETag"] != etag
    # The banner on a page carries the ETag the poll will answer 304 to.
    page = html.unescape(client.get("/dashboard").get_data(as_text=True))
    assert f'data-etag="{moved.headers["ETag"]}"' in page


@pytest.fixture
def sqlite_statements(app):
    """Every statement SQLite itself runs (BEGIN and COMMIT too), however it was sent: the
    poll's shortcut talks to the driver without SQLAlchemy's events."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("counts what SQLite runs")
    statements: list[str] = []

    def trace(connection, _record):
        connection.set_trace_callback(statements.append)

    db.session.remove()
    db.engine.dispose()  # the connections made from now on are traced
    event.listen(db.engine, "connect", trace)
    yield statements
    event.remove(db.engine, "connect", trace)
    db.engine.dispose()


def test_the_304_is_one_statement_and_no_transaction(client, room_period, sqlite_statements):
    room = room_period()
    client.login(room.learners[0])
    etag = client.get("/period/now").headers["ETag"]
    sqlite_statements.clear()
    response = client.get("/period/now", headers={"If-None-Match": etag})
    assert response.status_code == 304
    # The session's user and their class's period, together; not even a BEGIN.
    assert len(sqlite_statements) == 1 and "FROM users u" in sqlite_statements[0]


def test_the_304_is_answered_in_front_of_flask(client, room_period, count_queries):
    # On either database: SQLAlchemy sees no statement (count_queries listens to it), so the
    # shortcut, not the view, answered (had the shortcut failed, the view would have: a query).
    room = room_period()
    client.login(room.learners[0])
    etag = client.get("/period/now").headers["ETag"]
    with count_queries() as queries:
        response = client.get("/period/now", headers={"If-None-Match": etag})
    assert response.status_code == 304 and len(queries) == 0, queries
    with count_queries() as queries:
        assert client.get("/period/now", headers={"If-None-Match": '"old"'}).status_code == 200
    assert len(queries) >= 1  # a changed state is the view's


def _behind_the_shortcut(app, client):
    """A browser with the client's cookies talking to Flask itself, past the poll's
    shortcut (academy/periods/shortcut.py): what the view alone would answer."""
    flask_only = Client(app.wsgi_app.wsgi_app)
    for cookie in client._cookies.values():
        flask_only.set_cookie(cookie.key, cookie.value)
    return flask_only


def test_the_shortcut_answers_exactly_as_the_view(app, client, room_period):
    room = room_period()
    client.login(room.learners[0])
    etag = client.get("/period/now").headers["ETag"]
    unchanged = {"If-None-Match": etag}
    fast = client.get("/period/now", headers=unchanged)
    view = _behind_the_shortcut(app, client).get("/period/now", headers=unchanged)
    assert (fast.status_code, fast.get_data()) == (view.status_code, view.get_data()) == (304, b"")
    assert sorted(fast.headers.items()) == sorted(view.headers.items())
    assert "Set-Cookie" not in fast.headers
    # In English the title changes, so the Thai ETag no longer holds: the view answers 200.
    client.post("/language", data={"language": "en"})
    english = client.get("/period/now", headers=unchanged)
    assert english.status_code == 200 and english.get_json()["title"] == "Lesson 1.1"


def test_the_shortcut_never_keeps_an_ended_session(app, client, room_period):
    room = room_period()
    learner = room.learners[0]
    client.login(learner)
    etag = client.get("/period/now").headers["ETag"]
    unchanged = {"If-None-Match": etag, "Accept": "application/json"}
    assert client.get("/period/now", headers=unchanged).status_code == 304
    # A forged cookie, then the room signed out (the version moves on): never "unchanged".
    forged = app.test_client()
    forged.set_cookie("session", client.get_cookie("session").value[:-2] + "xx")
    assert forged.get("/period/now", headers=unchanged).status_code == 401
    learner.session_version += 1
    db.session.commit()
    assert client.get("/period/now", headers=unchanged).status_code == 401


def test_a_signed_out_session_polls_401(client, room_period):
    # The room's computers were signed out (the session version moved on): the poll says so,
    # and the page's script reloads into the sign-in page.
    room = room_period()
    client.login(room.learners[0])
    assert client.get("/period/now").status_code == 200
    room.learners[0].session_version += 1
    db.session.commit()
    response = client.get("/period/now", headers={"Accept": "application/json"})
    assert response.status_code == 401


def test_poll_is_in_the_learners_language(client, room_period):
    room = room_period()
    client.login(room.learners[0])
    assert client.get("/period/now").get_json()["title"] == "บทเรียน 1.1"
    client.post("/language", data={"language": "en"})
    english = client.get("/period/now")
    assert english.get_json()["title"] == "Lesson 1.1"


# --- steering over HTTP: who may, and bad input ------------------------------------------------


def test_a_teacher_of_another_class_cannot_steer_or_see_the_board(client, room_period):
    room = room_period()
    stranger = room_period(start=False).teacher
    client.login(stranger)
    base = f"/classes/{room.klass.id}/period"
    for path in (base, f"{base}/board", f"{base}/board.json"):
        assert client.get(path).status_code == 404, path
    for action in ("next", "previous", "end", "start"):
        assert client.post(f"{base}/{action}").status_code == 404, action
    db.session.refresh(room.period)
    assert room.period.current_position == 0 and room.period.ended_at is None


def test_learners_cannot_steer_their_own_class(client, room_period):
    room = room_period()
    client.login(room.learners[0])
    assert client.post(f"/classes/{room.klass.id}/period/next").status_code == 404
    assert client.get(f"/classes/{room.klass.id}/period/board").status_code == 404


def test_start_over_http_and_a_second_start_is_refused(client, room_period):
    room = room_period(start=False)
    client.login(room.teacher)
    page = client.get(f"/classes/{room.klass.id}/period").get_data(as_text=True)
    assert "เริ่มคาบเรียน" in page  # Start the period, in Thai
    chosen = values(room.klass)[:2]
    form = {"item": chosen, "minutes": "45", "follow_me": "yes"}
    assert client.post(f"/classes/{room.klass.id}/period/start", data=form).status_code == 302
    period = db.session.scalar(select(Period))
    assert period.follow_me and period.ends_at - period.started_at == timedelta(minutes=45)
    second = client.post(f"/classes/{room.klass.id}/period/start", data=form)
    assert second.status_code == 400
    assert "มีคาบเรียนอยู่แล้ว" in second.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Period)) == 1


def test_start_with_bad_input_names_the_problem(client, room_period):
    room = room_period(start=False)
    client.login(room.teacher)
    url = f"/classes/{room.klass.id}/period/start"
    for form, words in (
        ({"item": values(room.klass), "minutes": "abc"}, "minutes"),
        ({"item": values(room.klass), "minutes": "999"}, "240"),
        ({"item": ["lesson:999999"]}, "lesson:999999"),
        ({}, "at least one"),
    ):
        client.post("/language", data={"language": "en"})
        response = client.post(url, data=form)
        assert response.status_code == 400, form
        assert words in response.get_data(as_text=True), form
    assert db.session.scalar(select(func.count()).select_from(Period)) == 0


def test_steering_after_the_end_says_when_it_ended(client, room_period):
    room = room_period(now=utcnow() - timedelta(hours=2))
    client.login(room.teacher)
    client.post("/language", data={"language": "en"})
    response = client.post(f"/classes/{room.klass.id}/period/next")
    assert response.status_code == 409
    ended = to_local(room.period.ends_at).strftime("%H:%M")
    assert f"This period ended at {ended}." in response.get_data(as_text=True)
    again = client.post(f"/classes/{room.klass.id}/period/next")
    assert "This class has no period running." in again.get_data(as_text=True)
    db.session.refresh(room.period)
    assert room.period.ended_at == room.period.ends_at  # closed at its end, and kept


def test_ending_leads_to_the_summary(client, room_period):
    room = room_period()
    client.login(room.teacher)
    response = client.post(f"/classes/{room.klass.id}/period/end")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/periods/{room.period.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "สรุปคาบเรียน" in page


# --- the projector board ---------------------------------------------------------------------


def test_board_counts_and_names(client, room_period, make_attempt):
    room = room_period(learners=3)
    first, second, third = room.learners
    slug = room.course.slug
    for learner, key in ((first, "m1-l1"), (second, "m1-l2")):
        client.login(learner)
        client.post(f"/courses/{slug}/lessons/{key}/viewed")  # the page's beacon
    client.login(first)
    client.post(f"/courses/{slug}/lessons/m1-l1/done")
    make_attempt(room.quiz, third, submit=True)
    client.login(room.teacher)
    data = client.get(f"/classes/{room.klass.id}/period/board.json").get_json()
    rows = {row["position"]: row for row in data["items"]}
    assert (rows[0]["on_it"], rows[0]["done"], rows[0]["names"]) == (1, 1, [first.full_name])
    assert (rows[1]["on_it"], rows[1]["done"]) == (1, 0)
    assert (rows[3]["on_it"], rows[3]["answered"], rows[3]["average"]) == (1, 1, 0)
    board = services.board(room.period, room.klass, utcnow())
    assert board.items[0].done_by == [first.full_name]
    assert board.items[3].scores == [(third.full_name, 0.0)]
    summary = client.get(f"/classes/{room.klass.id}/periods/{room.period.id}")
    text = summary.get_data(as_text=True)
    assert f"{third.full_name} (0%)" in text and "ใครทำเสร็จ" in text
    assert data["not_started"] == 0 and data["learners"] == 3
    hidden = client.get(f"/classes/{room.klass.id}/period/board.json?names=hide").get_json()
    assert all(row["names"] == [] for row in hidden["items"])
    page = client.get(f"/classes/{room.klass.id}/period/board").get_data(as_text=True)
    assert "<svg" in page and room.klass.join_code in page and "จอโปรเจกเตอร์" in page
    assert first.full_name in page
    hidden_page = client.get(f"/classes/{room.klass.id}/period/board?names=hide")
    assert first.full_name not in hidden_page.get_data(as_text=True)


def test_board_etag_changes_when_the_room_does(client, room_period):
    room = room_period(learners=2)
    client.login(room.teacher)
    url = f"/classes/{room.klass.id}/period/board.json"
    etag = client.get(url).headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    client.login(room.learners[0])
    client.post(f"/courses/{room.course.slug}/lessons/m1-l3/viewed")
    client.login(room.teacher)
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


# The signed-in user, the class, its period (and the permission check), the members, today's
# items with their lessons and quizzes, the views, attempts and marks of the room.
BOARD_QUERIES = {"board": 11, "board.json": 11}


@pytest.mark.parametrize("page", ["board", "board.json"])
def test_board_queries_do_not_grow_with_the_class(client, room_period, count_queries, page):
    counts = []
    for size in (3, 30):
        room = room_period(learners=size)
        for learner in room.learners:
            client.login(learner)
            client.post(f"/courses/{room.course.slug}/lessons/m1-l1/viewed")
        client.login(room.teacher)
        url = f"/classes/{room.klass.id}/period/{page}"
        client.get(url)
        with count_queries() as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts == [BOARD_QUERIES[page]] * 2, counts


# --- attendance, summary, signing the room out --------------------------------------------------


def test_attendance_is_read_from_what_learners_did(client, room_period):
    room = room_period(learners=3, now=utcnow() - timedelta(minutes=15))
    on_time, late, _absent = room.learners
    # On time: worked in the first minutes (an event stamped then); late: seen just now.
    db.session.add(
        ProgressEvent(
            user_id=on_time.id,
            course_id=room.course.id,
            kind="lesson_viewed",
            at=room.started + timedelta(minutes=2),
        )
    )
    db.session.commit()
    client.login(late)
    client.post(f"/courses/{room.course.slug}/lessons/m1-l1/viewed")
    rows = {r.user.id: r for r in attendance.attendance(room.period, room.klass, utcnow())}
    assert [rows[u.id].status for u in room.learners] == [PRESENT, LATE, ABSENT]
    assert not any(r.corrected for r in rows.values())


def test_the_teacher_corrects_attendance_on_one_screen(client, room_period):
    room = room_period(learners=2)
    a, b = room.learners
    client.login(room.teacher)
    url = f"/classes/{room.klass.id}/periods/{room.period.id}/attendance"
    page = client.get(url).get_data(as_text=True)
    assert f'name="status-{a.id}"' in page and "การเข้าเรียน" in page
    form = {f"status-{a.id}": EXCUSED, f"note-{a.id}": "ไปแข่งกีฬา", f"status-{b.id}": ABSENT}
    assert client.post(url, data=form).status_code == 302
    stored = {r.user_id: r for r in db.session.scalars(select(Attendance))}
    assert stored[a.id].status == EXCUSED and stored[a.id].note == "ไปแข่งกีฬา"
    (entry,) = db.session.scalars(select(AuditEntry))
    assert (entry.action, entry.details) == (
        "period.attendance", {"period_id": room.period.id, "changed": 1}
    )  # fmt: skip
    assert b.id not in stored  # absent was already what the record said: nothing to correct
    # One bad line: a clear message and nothing of the screen is saved.
    client.post("/language", data={"language": "en"})
    bad = {f"status-{a.id}": PRESENT, f"status-{b.id}": "sick"}
    response = client.post(url, data=bad)
    assert response.status_code == 400
    assert "sick is not present, late, absent or excused" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Attendance, (room.period.id, a.id)).status == EXCUSED
    stranger = room_period(learners=1, start=False).learners[0]
    outsider = client.post(url, data={f"status-{stranger.id}": PRESENT})
    assert outsider.status_code == 400 and "is not in this class" in outsider.get_data(as_text=True)


def test_summary_and_signing_the_room_out(client, app, room_period):
    room = room_period(learners=2, start=False)
    on_this_pc, at_home = room.learners
    # A session begun before the period (at home) stays; one begun during it (the room's PC)
    # ends.
    home = app.test_client().login(at_home)
    period = services.start(room.klass, room.teacher, values(room.klass), now=utcnow())
    db.session.commit()
    pc = app.test_client()
    response = pc.post("/sign-in", data={"username": on_this_pc.username, "password": PASSWORD})
    assert response.status_code == 302
    assert pc.get("/dashboard").status_code == 200
    client.login(room.teacher)
    client.post(f"/classes/{room.klass.id}/period/end")
    summary = client.get(f"/classes/{room.klass.id}/periods/{period.id}")
    assert "ออกจากระบบคอมพิวเตอร์ทุกเครื่องในห้องนี้" in summary.get_data(as_text=True)
    out = client.post(f"/classes/{room.klass.id}/periods/{period.id}/sign-out")
    assert out.status_code == 302
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("period.%"))).one()
    assert entry.details == {"period_id": period.id, "sessions": 1}
    after = pc.get("/dashboard")
    assert after.status_code == 302 and "/sign-in" in after.headers["Location"]
    assert pc.get("/period/now", headers={"Accept": "application/json"}).status_code == 401
    assert home.get("/dashboard").status_code == 200
    assert home.get("/period/now").status_code == 200


def test_attendance_by_month_as_csv_for_excel(client, room_period):
    room = room_period(learners=2, now=datetime(2026, 11, 30, 17, 30, tzinfo=UTC))  # 1 Dec, Bangkok
    a, b = room.learners
    db.session.add(Attendance(period_id=room.period.id, user_id=a.id, status=LATE, note="=bus"))
    db.session.commit()
    client.login(room.teacher)
    url = f"/classes/{room.klass.id}/attendance.csv"
    december = client.get(f"{url}?month=2026-12")
    assert december.status_code == 200 and december.mimetype == "text/csv"
    text = december.get_data(as_text=True)
    assert text.startswith("\ufeff")
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("วันที่,")
    by_user = {line.split(",")[3]: line.split(",") for line in lines[1:]}
    assert by_user[a.username][:2] == ["2026-12-01", "00:30"]
    assert by_user[a.username][4:] == ["สาย", "'=bus"]  # Thai, and no formula for Excel
    assert by_user[b.username][4] == "ขาด"
    november = client.get(f"{url}?month=2026-11").get_data(as_text=True)
    assert len(november.splitlines()) == 1  # the header only: that period is December's
    client.post("/language", data={"language": "en"})
    bad = client.get(f"{url}?month=12-2026")
    assert bad.status_code == 400 and "YYYY-MM" in bad.get_data(as_text=True)


def test_the_board_qr_opens_join_with_the_code(client, room_period, make_user):
    room = room_period()
    newcomer = make_user("learner")
    client.login(newcomer)
    page = client.get(f"/join?code={room.klass.join_code}").get_data(as_text=True)
    assert f'value="{room.klass.join_code}"' in page
