"""Quizzes in the period: a quiz set to open only during a period of the learner's class is
opened and closed by the teacher, optionally with a 4-digit start code shown on the projector.
The quizzes feature asks `core.learning.quiz_gate` whether a learner may start; this module
answers, so quizzes never imports periods. Closing the quiz (or ending the period) submits the
open attempts with what was saved, through the quiz's time-limit path."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from academy.classes.models import Class, ClassMember
from academy.core import signals, throttle
from academy.core.errors import ServiceError
from academy.core.learning import QuizGate
from academy.extensions import db
from academy.periods import services
from academy.periods.models import QUIZ, Period, PeriodItem
from academy.quizzes import taking
from academy.quizzes.models import Quiz

CODE_LENGTH = 4
# Wrong start codes a learner may type per opening before waiting: a room of 40 guessing
# 5 each in 10 minutes tries 200 of the 10,000 codes.
CODE_TRIES = 5
CODE_WINDOW_SECONDS = 600


def _quiz_item(period: Period, position: int) -> PeriodItem:
    item = next((i for i in period.items if i.position == position), None)
    if item is None:
        raise ServiceError(_("There is no item %(number)d today.", number=position + 1))
    quiz = db.session.get(Quiz, item.quiz_id) if item.kind == QUIZ else None
    if quiz is None:
        raise ServiceError(_("Item %(number)d is not a quiz.", number=position + 1))
    if not quiz.period_only:
        raise ServiceError(
            _(
                "This quiz is open to its learners at any time. To open it in the period only, "
                "choose so in the quiz's settings."
            )
        )
    return item


def _new_code(previous: str | None) -> str:
    while True:
        # A fresh code at each opening, never the last one: a code seen earlier is no key.
        code = f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"
        if code != previous:
            return code


def open_quiz(period: Period, position: int, *, with_code: bool, now: datetime) -> PeriodItem:
    """Open the quiz at `position` for the class (with a new start code if asked)."""
    services.must_run(period, now)
    item = _quiz_item(period, position)
    if item.is_open():
        raise ServiceError(_("This quiz is already open."))
    item.start_code = _new_code(item.start_code) if with_code else None
    item.opened_at, item.closed_at = now, None
    period.version += 1  # the learners' pages waiting on the quiz reload
    return item


def members(klass: Class):
    return select(ClassMember.user_id).where(ClassMember.class_id == klass.id)


def _close(period: Period, klass: Class, item: PeriodItem, now: datetime) -> int:
    item.closed_at = max(now, item.opened_at or now)
    period.version += 1
    return taking.close_now(db.session.get(Quiz, item.quiz_id), members(klass), now)


def close_quiz(period: Period, klass: Class, position: int, *, now: datetime) -> int:
    """Close the quiz at `position`: the class's open attempts are submitted with what was
    saved. Returns how many attempts were submitted."""
    services.must_run(period, now)
    item = _quiz_item(period, position)
    if not item.is_open():
        raise ServiceError(_("This quiz is not open."))
    return _close(period, klass, item, now)


def end(period: Period, klass: Class, *, now: datetime) -> int:
    """End the period; its open quizzes close with it (attempts submitted). Returns how many
    attempts were submitted."""
    services.end(period, now=now)
    return sum(_close(period, klass, item, now) for item in period.items if item.is_open())


# --- the answer to quizzes' question -----------------------------------------------------------


def _throttle_key(item: PeriodItem, user: Any) -> str:
    return f"period-quiz-code:{item.id}:{user.id}"


def _gate(user: Any, *, quiz: Quiz, now: datetime, code: str | None, **_kwargs: Any):
    if not quiz.period_only:
        return None
    rows = db.session.execute(
        select(PeriodItem, Period)
        .join(Period, Period.id == PeriodItem.period_id)
        .join(ClassMember, ClassMember.class_id == Period.class_id)
        .where(
            ClassMember.user_id == user.id,
            PeriodItem.quiz_id == quiz.id,
            Period.ended_at.is_(None),
            Period.ends_at > now,
        )
    ).all()
    opened = [(item, period) for item, period in rows if item.is_open()]
    if not opened:
        if rows:
            return QuizGate(False, _("Your teacher has not opened this quiz yet."))
        return None  # no period of theirs has it: quizzes says when it opens
    item, period = opened[0]
    gate = QuizGate(True, needs_code=bool(item.start_code), closes_at=period.ends_at)
    if code is None or not item.start_code:
        return gate
    key = _throttle_key(item, user)
    wait = throttle.seconds_blocked(key, CODE_TRIES, CODE_WINDOW_SECONDS)
    if wait:
        message = _("Too many wrong start codes: try again in %(minutes)d minutes.",
                    minutes=max(1, (wait + 59) // 60))  # fmt: skip
        return QuizGate(False, message, needs_code=True)
    code = code.strip()
    if not code:
        message = _("Type the 4-digit start code shown on the projector.")
        return QuizGate(False, message, needs_code=True)
    if not (len(code) == CODE_LENGTH and code.isascii() and code.isdigit()):
        return QuizGate(False, _("The start code is 4 digits, like 0472."), needs_code=True)
    if not hmac.compare_digest(code, item.start_code):
        throttle.record_failure(key)
        message = _("That is not the start code on the projector now: check it and try again.")
        return QuizGate(False, message, needs_code=True)
    return gate


def connect() -> None:
    signals.quiz_gate.connect(_gate)
