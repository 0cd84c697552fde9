"""The rules of a period: start one per class, steer it through today's items, end it (or let
its length end it), and read what the room did. Every function takes `now` so the clock is the
caller's: views pass utcnow(), tests pass the moment they mean."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Engine, bindparam, select, text
from sqlalchemy.exc import IntegrityError

from academy.auth import services as auth
from academy.auth.models import User
from academy.classes.models import Class, ClassCourse, ClassMember
from academy.classes.services import members_of
from academy.core import transaction
from academy.core.clock import to_local
from academy.core.db import UTCDateTime
from academy.core.errors import ServiceError
from academy.courses.models import Course, Lesson, Module
from academy.extensions import db
from academy.periods.models import (
    LESSON,
    QUIZ,
    Period,
    PeriodItem,
)
from academy.progress.models import LessonProgress, ProgressEvent
from academy.quizzes.models import OPEN, Attempt, Quiz

DEFAULT_MINUTES = 50
MAX_MINUTES = 240
# A learner first seen this long after the start is late rather than present.
LATE_AFTER = timedelta(minutes=10)


@dataclass
class Choice:
    """A lesson or quiz the teacher may put on today's list."""

    kind: str
    obj: Any  # Lesson | Quiz
    course: Course

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.obj.id}"


def choices_for(klass: Class) -> list[Choice]:
    """The lessons and quizzes of the class's courses, in each course's outline order."""
    courses = list(
        db.session.scalars(
            select(Course)
            .join(ClassCourse, ClassCourse.course_id == Course.id)
            .where(ClassCourse.class_id == klass.id)
            .order_by(Course.title_th)
        )
    )
    ids = [c.id for c in courses]
    by_id = {c.id: c for c in courses}
    module_pos = dict(
        db.session.execute(
            select(Module.id, Module.position).where(Module.course_id.in_(ids))
        ).all()
    )
    found: list[tuple[tuple, Choice]] = []
    for lesson in db.session.scalars(select(Lesson).where(Lesson.course_id.in_(ids))):
        key = (lesson.course_id, module_pos.get(lesson.module_id, 0), lesson.position, 0)
        found.append((key, Choice(LESSON, lesson, by_id[lesson.course_id])))
    for quiz in db.session.scalars(select(Quiz).where(Quiz.course_id.in_(ids))):
        key = (quiz.course_id, module_pos.get(quiz.module_id, 0), quiz.position, 1)
        found.append((key, Choice(QUIZ, quiz, by_id[quiz.course_id])))
    order = {c.id: n for n, c in enumerate(courses)}
    found.sort(key=lambda pair: (order[pair[0][0]], *pair[0][1:]))
    return [choice for _key, choice in found]


def open_period(klass: Class) -> Period | None:
    """The class's unfinished row (it may have run past its end: check `running(now)`)."""
    return db.session.scalar(
        select(Period).where(Period.class_id == klass.id, Period.ended_at.is_(None))
    )


def last_period(klass: Class) -> Period | None:
    """The class's latest period (for the link to its summary)."""
    return db.session.scalar(
        select(Period)
        .where(Period.class_id == klass.id)
        .order_by(Period.started_at.desc())
        .limit(1)
    )


def running_period(klass: Class, now: datetime) -> Period | None:
    period = open_period(klass)
    return period if period is not None and period.running(now) else None


def _close_if_over(period: Period, now: datetime) -> bool:
    """A period past its length is closed at its ends_at (not at now: the server may have been
    down or its clock may have jumped). True when it was over."""
    if period.ended_at is None and now >= period.ends_at:
        period.ended_at = period.ends_at
        period.version += 1
        return True
    return period.ended_at is not None


def start(
    klass: Class,
    teacher: User,
    values: list[str],
    *,
    follow_me: bool = False,
    minutes: int | None = DEFAULT_MINUTES,
    now: datetime,
) -> Period:
    """Start the class's period with today's items (values "lesson:ID" / "quiz:ID", in order)."""
    minutes = DEFAULT_MINUTES if minutes is None else minutes
    if not 1 <= minutes <= MAX_MINUTES:
        raise ServiceError(
            _("A period lasts from 1 to %(max)d minutes.", max=MAX_MINUTES), "minutes"
        )
    allowed = {c.value: c for c in choices_for(klass)}
    if not values:
        raise ServiceError(_("Choose at least one lesson or quiz for today."), "item")
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ServiceError(
            _("Not a lesson or quiz of this class's courses: %(item)s", item=unknown[0]), "item"
        )
    if len(set(values)) != len(values):
        raise ServiceError(_("Each item can be on today's list only once."), "item")
    stale = open_period(klass)
    if stale is not None:
        if not _close_if_over(stale, now):
            raise ServiceError(
                _(
                    "This class already has a period running (until %(time)s): end it first.",
                    time=_bangkok_time(stale.ends_at),
                )
            )
        db.session.flush()
    period = Period(
        class_id=klass.id,
        room_id=klass.room_id,
        teacher_id=teacher.id,
        follow_me=follow_me,
        current_position=0,
        started_at=now,
        ends_at=now + timedelta(minutes=minutes),
    )
    for position, value in enumerate(values):
        choice = allowed[value]
        period.items.append(
            PeriodItem(
                position=position,
                kind=choice.kind,
                lesson_id=choice.obj.id if choice.kind == LESSON else None,
                quiz_id=choice.obj.id if choice.kind == QUIZ else None,
            )
        )
    db.session.add(period)
    try:
        db.session.flush()
    except IntegrityError:
        # Another teacher of the class started one in the same moment: the index said no.
        transaction.abandon()
        raise ServiceError(_("This class already has a period running: end it first.")) from None
    return period


def _bangkok_time(moment: datetime) -> str:
    return to_local(moment).strftime("%H:%M")


def must_run(period: Period, now: datetime) -> None:
    if period.ended_at is None and now >= period.ends_at:
        _close_if_over(period, now)
        # The closing is a fact worth keeping, even though the steering is refused.
        transaction.keep_on_refusal()
    if period.ended_at is not None:
        raise ServiceError(_("This period ended at %(time)s.", time=_bangkok_time(period.ended_at)))


def go_to(period: Period, position: int, *, now: datetime) -> Period:
    """Put the room on item `position` (0-based); learners following the teacher move too."""
    must_run(period, now)
    if not 0 <= position < len(period.items):
        raise ServiceError(_("There is no item %(number)d today.", number=position + 1))
    if position != period.current_position:
        period.current_position = position
        period.version += 1
    return period


def step(period: Period, delta: int, *, now: datetime) -> Period:
    """Next (+1) or previous (-1); at either end of the list it stays where it is."""
    must_run(period, now)
    position = min(max(period.current_position + delta, 0), len(period.items) - 1)
    return go_to(period, position, now=now)


def end(period: Period, *, now: datetime) -> Period:
    must_run(period, now)
    period.ended_at = max(now, period.started_at)  # a clock set back never ends it before it began
    period.version += 1
    return period


# --- what a learner's page shows --------------------------------------------------------------


@dataclass(frozen=True)
class PollState:
    period_id: int
    version: int
    follow_me: bool
    position: int

    @property
    def etag(self) -> str:
        return f"p{self.period_id}.{self.version}"


@dataclass(frozen=True)
class Poller:
    """Who polls (checked against the session's version, as the user loader does) and the
    running period of one of their classes, if any."""

    locale: str | None
    state: PollState | None


# The poll is the most frequent request of a room (40 PCs, every 5 seconds): one statement,
# written once, that checks the cookie's session as the user loader does (the session row,
# not past its lifetime; the user's session version; active) and finds the running period of
# their classes through class_members' user index and the periods' one-open-per-class index.
# Plain SQL so the 304 pays for no ORM; the same on both databases.
_POLL = text(
    """
    SELECT u.locale, p.id, p.version, p.follow_me, p.current_position
    FROM users u
    JOIN user_sessions s ON s.user_id = u.id AND s.id = :session AND s.created_at > :since
    LEFT JOIN class_members cm ON cm.user_id = u.id
    LEFT JOIN periods p
      ON p.class_id = cm.class_id AND p.ended_at IS NULL AND p.ends_at > :now
    WHERE u.id = :user_id AND u.session_version = :version AND u.active
    ORDER BY CASE WHEN p.id IS NULL THEN 1 ELSE 0 END, p.started_at DESC
    LIMIT 1
    """
).bindparams(bindparam("now", type_=UTCDateTime()), bindparam("since", type_=UTCDateTime()))


def _poll_params(user_id: int, version: int, token: str, now: datetime, lifetime: timedelta):
    return {
        "user_id": user_id,
        "version": version,
        "session": auth.session_key(token),
        "since": now - lifetime,
        "now": now,
    }


def _poller(row: Any) -> Poller | None:
    if row is None:
        return None
    locale, period_id, version, follow_me, position = row
    state = PollState(period_id, version, bool(follow_me), position) if period_id else None
    return Poller(locale, state)


def poller(user_id: int, session_version: int, token: str, now: datetime) -> Poller | None:
    """None when the cookie's session is over: signed out (this room's computers too), past
    its lifetime, the version moved on, or the person switched off."""
    params = _poll_params(
        user_id, session_version, token, now, current_app.permanent_session_lifetime
    )
    return _poller(db.session.execute(_POLL, params).first())


class PollStatement:
    """The same statement on the driver's own connection, for the poll's shortcut in front of
    Flask (shortcut.py): compiled once for the engine's database, its datetimes bound as
    SQLAlchemy binds them, run without SQLAlchemy's per-statement machinery (which costs more
    than the statement on the hottest request). On SQLite it runs in autocommit, one statement
    and no BEGIN."""

    def __init__(self, engine: Engine) -> None:
        compiled = _POLL.compile(dialect=engine.dialect)
        self.engine = engine
        self.sql = compiled.string
        self.order = compiled.positiontup if compiled.positional else None
        bind = UTCDateTime().bind_processor(engine.dialect)
        self.bind = bind or (lambda value: value)

    def run(
        self, user_id: int, version: int, token: str, now: datetime, lifetime: timedelta
    ) -> Poller | None:
        params = _poll_params(user_id, version, token, now, lifetime)
        params["now"], params["since"] = self.bind(params["now"]), self.bind(params["since"])
        args: Any = [params[name] for name in self.order] if self.order else params
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(self.sql, args)
            row = cursor.fetchone()
            cursor.close()
        finally:
            connection.close()  # back to the pool (which ends PostgreSQL's implicit transaction)
        return _poller(row)


# Built once, on the tables (a Core select of plain columns skips the ORM's per-statement
# work): the banner asks on every learner page (issue 15).
_period = Period.__table__
_class_member = ClassMember.__table__
_POLL_STATE = (
    select(_period.c.id, _period.c.version, _period.c.follow_me, _period.c.current_position)
    .join(_class_member, _class_member.c.class_id == _period.c.class_id)
    .where(
        _class_member.c.user_id == bindparam("user_id"),
        _period.c.ended_at.is_(None),
        _period.c.ends_at > bindparam("now", type_=UTCDateTime()),
    )
    .order_by(_period.c.started_at.desc())
    .limit(1)
)


def poll_state(user: User, now: datetime) -> PollState | None:
    """The running period of one of a (loaded, signed-in) learner's classes."""
    row = db.session.execute(_POLL_STATE, {"user_id": user.id, "now": now}).first()
    return PollState(row[0], row[1], bool(row[2]), row[3]) if row else None


@dataclass
class ItemView:
    position: int
    kind: str
    obj: Any  # Lesson | Quiz
    course: Course
    row: PeriodItem | None = None  # the quiz's opening in this period (gate.py)

    @property
    def gated(self) -> bool:
        """A quiz that opens only in a period: the teacher opens and closes it."""
        return self.kind == QUIZ and bool(self.obj.period_only)

    @property
    def is_open(self) -> bool:
        return self.gated and self.row is not None and self.row.is_open()


def items_of(period: Period) -> list[ItemView]:
    """Today's items with their lesson or quiz and course, in two queries whatever the count."""
    items = list(
        db.session.scalars(
            select(PeriodItem)
            .where(PeriodItem.period_id == period.id)
            .order_by(PeriodItem.position)
        )
    )
    lesson_ids = [i.lesson_id for i in items if i.lesson_id]
    quiz_ids = [i.quiz_id for i in items if i.quiz_id]
    lessons = {
        lesson.id: (lesson, course)
        for lesson, course in db.session.execute(
            select(Lesson, Course)
            .join(Course, Course.id == Lesson.course_id)
            .where(Lesson.id.in_(lesson_ids))
        )
    }
    quizzes = {
        quiz.id: (quiz, course)
        for quiz, course in db.session.execute(
            select(Quiz, Course)
            .join(Course, Course.id == Quiz.course_id)
            .where(Quiz.id.in_(quiz_ids))
        )
    }
    views = []
    for item in items:
        found = lessons.get(item.lesson_id) if item.kind == LESSON else quizzes.get(item.quiz_id)
        if found is not None:  # a lesson deleted since the start simply drops off the list
            views.append(ItemView(item.position, item.kind, found[0], found[1], item))
    return views


def current_item(period: Period) -> ItemView | None:
    items = items_of(period)
    return next((i for i in items if i.position == period.current_position), None)


# --- the projector board ----------------------------------------------------------------------


@dataclass
class BoardItem:
    item: ItemView
    on_it: list[str] = field(default_factory=list)  # names of the learners there now
    done: int = 0
    answered: int = 0
    average: float | None = None
    done_by: list[str] = field(default_factory=list)  # who finished it (the summary)
    scores: list[tuple[str, float]] = field(default_factory=list)  # quiz: name, best percent


@dataclass
class Board:
    period: Period
    learners: int
    items: list[BoardItem]
    not_started: list[str]


def window_end(period: Period, now: datetime) -> datetime:
    return period.finished_at(now) or now


def board(period: Period, klass: Class, now: datetime) -> Board:
    """The room at a glance: a fixed number of queries for any class size and item count."""
    members = members_of(klass)
    member_ids = [m.id for m in members]
    names = {m.id: m.full_name for m in members}
    items = items_of(period)
    until = window_end(period, now)
    lesson_ids = [i.obj.id for i in items if i.kind == LESSON]
    # Where each learner is: the latest lesson opened or quiz started during the period.
    latest: dict[int, tuple[datetime, str, int]] = {}
    views = db.session.execute(
        select(ProgressEvent.user_id, ProgressEvent.lesson_id, ProgressEvent.at).where(
            ProgressEvent.user_id.in_(member_ids),
            ProgressEvent.kind == "lesson_viewed",
            ProgressEvent.at >= period.started_at,
            ProgressEvent.at <= until,
        )
    )
    for user_id, lesson_id, at in views:
        if user_id not in latest or latest[user_id][0] < at:
            latest[user_id] = (at, LESSON, lesson_id)
    attempts = list(
        db.session.execute(
            select(
                Attempt.user_id,
                Attempt.quiz_id,
                Attempt.started_at,
                Attempt.status,
                Attempt.percent,
            ).where(
                Attempt.user_id.in_(member_ids),
                Attempt.started_at >= period.started_at,
                Attempt.started_at <= until,
            )
        )
    )
    for user_id, quiz_id, started_at, _status, _percent in attempts:
        if user_id not in latest or latest[user_id][0] < started_at:
            latest[user_id] = (started_at, QUIZ, quiz_id)
    done: dict[int, list[int]] = {}
    for lesson_id, user_id in db.session.execute(
        select(LessonProgress.lesson_id, LessonProgress.user_id).where(
            LessonProgress.user_id.in_(member_ids),
            LessonProgress.lesson_id.in_(lesson_ids),
            LessonProgress.done_at.is_not(None),
        )
    ):
        done.setdefault(lesson_id, []).append(user_id)
    rows = []
    for item in items:
        row = BoardItem(item)
        row.on_it = sorted(
            names[uid]
            for uid, (_at, kind, ident) in latest.items()
            if (kind, ident) == (item.kind, item.obj.id)
        )
        if item.kind == LESSON:
            row.done_by = sorted(names[uid] for uid in done.get(item.obj.id, []))
            row.done = len(row.done_by)
        else:
            scores: dict[int, float] = {}
            for user_id, quiz_id, _started, status, percent in attempts:
                if quiz_id == item.obj.id and status != OPEN and percent is not None:
                    scores[user_id] = max(scores.get(user_id, 0.0), percent)
            row.answered = row.done = len(scores)
            row.average = sum(scores.values()) / len(scores) if scores else None
            row.scores = sorted((names[uid], pct) for uid, pct in scores.items())
            row.done_by = [name for name, _pct in row.scores]
        rows.append(row)
    not_started = sorted(names[uid] for uid in member_ids if uid not in latest)
    return Board(period, len(members), rows, not_started)
