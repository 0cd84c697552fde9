"""Coaching: a coach's learners (progress, hand-ins waiting, last activity), a learner's
timeline, private coaching notes (audited), and the milestone path ticked by coach or learner,
on the real database through the real pages."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from academy.assignments import services as assignments
from academy.coaching import services
from academy.coaching.models import CoachingNote, MilestoneReached
from academy.core.errors import ServiceError
from academy.core.models import AuditEntry
from academy.extensions import db
from academy.progress.models import QuizResult
from tests.fixtures.assignments import photo_bytes
from tests.fixtures.coaching import milestone
from tests.fixtures.progress import complete_lesson

NOW = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)  # 12:00 in Bangkok
TODAY = date(2026, 11, 20)


@pytest.fixture(autouse=True)
def english(app, client):
    """Messages and pages in English here; test_i18n checks that each has its Thai."""
    client.set_cookie("lang", "en")
    with force_locale("en"):
        yield


@pytest.fixture
def coached(seller_path, make_user, make_class, make_assignment):
    """A seller in a class coached by `coach`; another instructor who coaches someone else."""
    course, _milestones = seller_path()
    coach, stranger = make_user("instructor"), make_user("instructor")
    seller = make_user("learner", full_name="มาลี ขายดี", shop_name="ร้านมาลี")
    other = make_user("learner")
    make_class(instructor=coach, members=[seller], courses=[course], name="ตลาดโบ๊เบ๊ 1")
    make_class(instructor=stranger, members=[other], courses=[course])
    assignment = make_assignment(course, kinds=("photos",))
    return course, assignment, coach, stranger, seller, other


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def hand_in(seller, assignment, token="t1"):  # noqa: S107 - a form token
    submission = assignments.hand_in(
        seller,
        assignment,
        token=token,
        photos=[assignments.Upload("a.jpg", photo_bytes((400, 300)))],
    )
    db.session.commit()
    return submission


# --------------------------------------------------------------------------- my learners


def test_my_learners_shows_only_coached_learners_with_progress_waiting_and_activity(
    app, client, coached
):
    course, assignment, coach, stranger, seller, other = coached
    complete_lesson(seller, course.modules[0].lessons[0])
    hand_in(seller, assignment)
    rows, _page = services.my_learners(coach)
    assert [r.learner.id for r in rows] == [seller.id]
    [row] = rows
    assert row.classes == ["ตลาดโบ๊เบ๊ 1"] and row.waiting == 1
    assert [c.id for c, _p in row.courses] == [course.id] and row.courses[0][1].percent == 50
    assert row.last_activity is not None
    assert [r.learner.id for r in services.my_learners(stranger)[0]] == [other.id]
    client.login(coach)
    page = client.get("/coaching").get_data(as_text=True)
    assert "มาลี ขายดี" in page and "1 hand-in waiting" in page and "50% done" in page
    assert other.full_name not in page


def test_my_learners_runs_the_same_queries_for_one_learner_or_six(
    app, client, coached, make_user, make_class, count_queries
):
    course, assignment, coach, *_rest = coached
    client.login(coach)
    with count_queries() as one:
        assert client.get("/coaching").status_code == 200
    more = [make_user("learner") for _ in range(5)]
    make_class(instructor=coach, members=more, courses=[course])
    for n, learner in enumerate(more):
        hand_in(learner, assignment, token=f"t{n}")
    with count_queries() as six:
        page = client.get("/coaching").get_data(as_text=True)
    assert page.count('class="card"') == 6
    assert len(six) == len(one), six


# --------------------------------------------------------------------------- notes


def test_a_note_is_kept_audited_without_its_text_and_shown_to_coaches_only(app, client, coached):
    _course, _a, coach, stranger, seller, _other = coached
    client.login(coach)
    response = client.post(
        f"/coaching/learners/{seller.id}/notes",
        data={"held_on": "2026-11-18", "channel": "line", "discussed": "ตั้งราคาส่งฟรี",
              "next_step": "ไลฟ์วันเสาร์"},
    )  # fmt: skip
    assert response.status_code == 302
    note = db.session.scalars(select(CoachingNote)).one()
    assert (note.coach_id, note.channel, note.held_on) == (coach.id, "line", date(2026, 11, 18))
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("coaching%"))).one()
    assert (entry.action, entry.target_id, entry.actor_id) == (
        "coaching_note.create",
        seller.id,
        coach.id,
    )
    assert "ตั้งราคา" not in str(entry.details)
    page = client.get(f"/coaching/learners/{seller.id}").get_data(as_text=True)
    assert "ตั้งราคาส่งฟรี" in page and "ไลฟ์วันเสาร์" in page and "LINE" in page
    client.logout()
    client.login(stranger)
    assert client.get(f"/coaching/learners/{seller.id}").status_code == 404
    client.logout()
    client.login(seller)
    assert client.get(f"/coaching/learners/{seller.id}").status_code == 403
    for own_page in ("/dashboard", "/milestones", "/assignments/mine"):
        assert "ตั้งราคาส่งฟรี" not in client.get(own_page).get_data(as_text=True)


@pytest.mark.parametrize(
    "form, message",
    [
        ({"held_on": "2026-11-21"}, "The date is in the future."),
        ({"held_on": "20/11/2026"}, "Give the date as a day of the calendar."),
        ({"channel": "email"}, "Choose how you met"),
        ({"discussed": "   "}, "Write what you discussed."),
        ({"discussed": "ก" * 4001}, "At most 4000 characters."),
    ],
)
def test_bad_notes_say_why_and_save_nothing(app, coached, form, message):
    _course, _a, coach, _s, seller, _o = coached
    fields = {"held_on": "2026-11-20", "channel": "visit", "discussed": "เยี่ยมร้าน", **form}
    with pytest.raises(ServiceError, match=message):
        services.add_note(coach, seller, now=NOW, **fields)
    db.session.rollback()
    assert count(CoachingNote) == 0
    assert (
        db.session.scalar(select(AuditEntry.id).where(AuditEntry.action.like("coaching%"))) is None
    )


def test_a_stranger_cannot_keep_a_note(app, coached):
    _course, _a, _coach, stranger, seller, _o = coached
    with pytest.raises(ServiceError, match="You do not coach this learner"):
        services.add_note(stranger, seller, held_on=TODAY, channel="visit", discussed="x", now=NOW)


# --------------------------------------------------------------------------- the timeline


def test_the_timeline_has_hand_ins_reviews_quizzes_notes_and_milestones_newest_first(
    app, coached, make_quiz_in
):
    course, assignment, coach, _s, seller, _o = coached
    submission = hand_in(seller, assignment)
    submission.submitted_at = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)
    quiz = make_quiz_in(course)
    db.session.add(QuizResult(user_id=seller.id, quiz_id=quiz.id, course_id=course.id,
                              percent=80, best_percent=80, passed=True,
                              updated_at=datetime(2026, 11, 12, 3, 0, tzinfo=UTC)))  # fmt: skip
    results = {"light": {"done": True}, "background": {"done": True}, "extra": {"done": False}}
    assignments.review(coach, submission, results=results, comment="ดีมาก", passed=True,
                       now=datetime(2026, 11, 14, 3, 0, tzinfo=UTC))  # fmt: skip
    services.add_note(coach, seller, held_on=date(2026, 11, 16), channel="visit",
                      discussed="เยี่ยมร้าน", now=NOW)  # fmt: skip
    services.tick(coach, seller, milestone("shop-opened"), reached_on="2026-11-18", now=NOW)
    db.session.commit()
    events = services.timeline(seller)
    assert [e.kind for e in events] == ["milestone", "note", "review", "quiz", "submission"]


# --------------------------------------------------------------------------- milestones


def test_the_learner_ticks_a_milestone_with_evidence_and_sees_the_path(app, client, coached):
    seller = coached[4]
    client.login(seller)
    board = client.get("/dashboard").get_data(as_text=True)
    assert "My path" in board and "Shop opened" in board and "0 of 5 reached" in board
    shop = milestone("shop-opened")
    response = client.post(
        f"/coaching/learners/{seller.id}/milestones/{shop.id}",
        data={"reached_on": "2026-11-01", "evidence": "https://shopee.co.th/maleeshop"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/milestones")
    reached = db.session.scalars(select(MilestoneReached)).one()
    assert (reached.user_id, reached.ticked_by_id, reached.reached_on) == (
        seller.id, seller.id, date(2026, 11, 1)
    )  # fmt: skip
    board = client.get("/dashboard").get_data(as_text=True)
    assert "1 of 5 reached" in board and "shopee.co.th" in board
    ticks = select(AuditEntry.action).where(AuditEntry.action.like("milestone.t%"))
    assert list(db.session.scalars(ticks)) == ["milestone.tick"]


@pytest.mark.parametrize(
    "form, message",
    [
        ({"evidence": "javascript:alert(1)"}, "must start with https://"),
        ({"evidence": "https://10.0.0.1/x"}, "private or local address"),
        ({"reached_on": "2026-11-21"}, "The date is in the future."),
        ({"reached_on": ""}, "Give the date as a day of the calendar."),
    ],
)
def test_bad_ticks_say_why_and_save_nothing(app, coached, form, message):
    _course, _a, coach, _s, seller, _o = coached
    fields = {"reached_on": "2026-11-20", "evidence": "", **form}
    with pytest.raises(ServiceError, match=message):
        services.tick(coach, seller, milestone("shop-opened"), now=NOW, **fields)
    db.session.rollback()
    assert count(MilestoneReached) == 0


def test_a_milestone_off_the_learners_path_or_by_a_stranger_is_refused(app, coached, seller_path):
    _course, _a, coach, stranger, seller, other = coached
    seller_path("otop")
    otop = db.session.scalars(
        select(services.Milestone).where(services.Milestone.key == "first-order")
        .order_by(services.Milestone.id.desc())
    ).first()  # fmt: skip
    with pytest.raises(ServiceError, match="not on the learner's path"):
        services.tick(coach, seller, otop, reached_on=TODAY, now=NOW)
    with pytest.raises(ServiceError, match="You do not coach this learner"):
        services.tick(stranger, seller, milestone("shop-opened"), reached_on=TODAY, now=NOW)
    with pytest.raises(ServiceError, match="You do not coach this learner"):
        services.tick(other, seller, milestone("shop-opened"), reached_on=TODAY, now=NOW)


def test_a_coach_ticks_corrects_and_unticks(app, client, coached):
    _course, _a, coach, _s, seller, _o = coached
    shop = milestone("shop-opened")
    client.login(coach)
    url = f"/coaching/learners/{seller.id}/milestones/{shop.id}"
    assert client.post(url, data={"reached_on": "2026-11-01"}).status_code == 302
    assert client.post(url, data={"reached_on": "2026-11-02"}).status_code == 302
    reached = db.session.scalars(select(MilestoneReached)).one()
    assert (reached.reached_on, reached.ticked_by_id) == (date(2026, 11, 2), coach.id)
    page = client.get(f"/coaching/learners/{seller.id}").get_data(as_text=True)
    assert "Milestone reached" in page
    assert client.post(url + "/remove").status_code == 302
    assert count(MilestoneReached) == 0


def test_admins_define_milestones_per_programme(app, client, admin, make_course):
    make_course(track="otop")
    client.login(admin)
    page = client.get("/coaching/milestones").get_data(as_text=True)
    assert "Add the default milestones" in page
    from academy.courses.services import track_by_slug

    otop = track_by_slug("otop")
    assert client.post("/coaching/milestones",
                       data={"track": otop.id, "action": "defaults"}).status_code == 302  # fmt: skip
    form = {"track": otop.id, "action": "add", "title_th": "ส่งออกต่างประเทศครั้งแรก"}
    assert client.post("/coaching/milestones", data=form).status_code == 302
    titles = [m.title_th for m in services.milestones_of_track(otop.id)]
    assert len(titles) == 6 and titles[-1] == "ส่งออกต่างประเทศครั้งแรก"
    again = client.post("/coaching/milestones", data=form)
    assert again.status_code == 400 and "has that milestone already" in again.get_data(as_text=True)
    assert client.post("/coaching/milestones", data={"track": "x"}).status_code == 400
    assert len(services.milestones_of_track(otop.id)) == 6


def test_the_coach_resets_a_forgotten_password_from_the_learners_page(app, client, coached):
    from academy.auth.services import verify_password
    from tests.fixtures.auth import PASSWORD

    _course, _a, coach, stranger, seller, _o = coached
    client.login(coach)
    page = client.get(f"/coaching/learners/{seller.id}").get_data(as_text=True)
    assert f"/people/{seller.id}/reset-password" in page
    reset = client.post(f"/people/{seller.id}/reset-password")
    assert reset.status_code == 200 and seller.username in reset.get_data(as_text=True)
    db.session.expire_all()
    assert not verify_password(seller, PASSWORD) and seller.must_change_password
    client.logout()
    client.login(stranger)
    assert client.post(f"/people/{seller.id}/reset-password").status_code == 404
