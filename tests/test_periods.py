"""The computer-room period (issue 14): starting one per class, steering, ending by itself,
the learners' banner and its poll (ETag / 304), the projector board, attendance, the summary
and signing the room's computers out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from academy.core.errors import ServiceError
from academy.extensions import db
from academy.periods import services
from academy.periods.models import ABSENT, EXCUSED, LATE, PRESENT, Attendance, Period


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


def test_a_second_period_for_the_class_is_refused_and_nothing_is_saved(room_period):
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


def test_steering(room_period):
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


def test_bad_length(room_period):
    room = room_period(start=False)
    for minutes in (0, 241):
        with pytest.raises(ServiceError, match="1 to 240 minutes"):
            services.start(
                room.klass, room.teacher, values(room.klass), minutes=minutes, now=room.started
            )


def test_items_must_belong_to_the_class(room_period, make_course):
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


def test_a_period_ends_by_itself_and_after_a_restart(room_period, app):
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


def test_a_clock_that_jumps_back_does_not_end_before_the_start(room_period):
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
