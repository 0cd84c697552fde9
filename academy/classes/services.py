"""Organisation rules: schools, rooms, programmes, classes, members, class enrolment and join
codes. Views and the CLI call these; nothing here commits (the caller commits once)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from academy.auth.models import User
from academy.classes.models import (
    Class,
    ClassCourse,
    ClassInstructor,
    ClassMember,
    Programme,
    Room,
    School,
)
from academy.core import audit, signals, throttle, transaction
from academy.core.access import ADMIN, INSTRUCTOR, LEARNER
from academy.core.clock import local_date, local_day_start
from academy.core.db import utcnow
from academy.core.errors import ServiceError
from academy.courses.models import Course, Enrolment
from academy.extensions import db

PROGRAMME_KINDS = ("market", "otop", "other")
# Join codes: 6 letters a pupil cannot misread on a board (no 0/O, 1/I/L), about 10^9 codes.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
CODE_DAYS = 14
JOIN_MAX_FAILURES = 10
JOIN_WINDOW_SECONDS = 15 * 60


# --- schools, rooms, programmes ------------------------------------------------------------


def _clean(text: str | None, limit: int, field: str, *, required: bool = True) -> str | None:
    text = " ".join((text or "").split())
    if not text:
        if required:
            raise ServiceError(_("Please fill in this field."), field)
        return None
    if len(text) > limit:
        raise ServiceError(_("At most %(max)d characters, please.", max=limit), field)
    return text


def _flush_unique(message: str, field: str) -> None:
    """The database enforces uniqueness; a clash becomes a message, not a 500."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        transaction.abandon()
        raise ServiceError(message, field) from None


# The fields the audit log keeps when a school, room or programme is created or changed.
_AUDITED = {
    "school": ("name", "district"),
    "room": ("name", "seats", "school_id"),
    "programme": ("name", "kind", "place"),
}


def _audited_fields(kind: str, thing: Any) -> dict[str, Any] | None:
    return None if thing is None else {f: getattr(thing, f) for f in _AUDITED[kind]}


def _audit_saved(kind: str, thing: Any, before: dict[str, Any] | None) -> None:
    """'<kind>.create' with the new values, or '<kind>.change' with what changed [old, new]."""
    after = _audited_fields(kind, thing)
    if before is None:
        audit.record(f"{kind}.create", thing, **after)
        return
    changed = {f: [before[f], after[f]] for f in after if before[f] != after[f]}
    if changed:
        audit.record(f"{kind}.change", thing, **changed)


def save_school(school: School | None, name: str, district: str | None) -> School:
    name = _clean(name, 200, "name")
    before = _audited_fields("school", school)
    school = school or School()
    school.name, school.district = name, _clean(district, 100, "district", required=False)
    db.session.add(school)
    _flush_unique(_("There is already a school called %(name)s.", name=name), "name")
    _audit_saved("school", school, before)
    return school


def save_room(school: School, room: Room | None, name: str, seats: int | None) -> Room:
    name = _clean(name, 100, "name")
    if seats is None or not 1 <= seats <= 500:
        raise ServiceError(_("Seats: a number from 1 to 500."), "seats")
    before = _audited_fields("room", room)
    room = room or Room(school_id=school.id)
    room.name, room.seats = name, seats
    db.session.add(room)
    _flush_unique(_("This school already has a room called %(name)s.", name=name), "name")
    _audit_saved("room", room, before)
    return room


def save_programme(programme: Programme | None, name: str, kind: str, place: str | None):
    name = _clean(name, 200, "name")
    if kind not in PROGRAMME_KINDS:
        raise ServiceError(_("Choose a kind of programme."), "kind")
    before = _audited_fields("programme", programme)
    programme = programme or Programme()
    programme.name, programme.kind = name, kind
    programme.place = _clean(place, 100, "place", required=False)
    db.session.add(programme)
    _flush_unique(_("There is already a programme called %(name)s.", name=name), "name")
    _audit_saved("programme", programme, before)
    return programme


def schools_with_counts(search: str | None = None) -> list[tuple[School, int, int]]:
    """Every school with its number of rooms and learners, in one query."""
    rooms = select(func.count(Room.id)).where(Room.school_id == School.id).scalar_subquery()
    learners = (
        select(func.count(User.id))
        .where(User.school_id == School.id, User.role == LEARNER)
        .scalar_subquery()
    )
    query = select(School, rooms, learners).order_by(School.name)
    if search:
        query = query.where(School.name.ilike(f"%{search}%") | School.district.ilike(f"%{search}%"))
    return [tuple(row) for row in db.session.execute(query)]


def rooms_with_counts(school: School) -> list[tuple[Room, int]]:
    classes = select(func.count(Class.id)).where(Class.room_id == Room.id).scalar_subquery()
    query = select(Room, classes).where(Room.school_id == school.id).order_by(Room.name)
    return [tuple(row) for row in db.session.execute(query)]


def all_programmes() -> list[Programme]:
    return list(db.session.scalars(select(Programme).order_by(Programme.kind, Programme.name)))


def all_rooms() -> list[Room]:
    return list(
        db.session.scalars(
            select(Room)
            .join(Room.school)
            .order_by(School.name, Room.name)
            .options(contains_eager(Room.school))
        )
    )


# --- classes -------------------------------------------------------------------------------


def create_class(
    creator: User,
    name: str,
    *,
    room_id: int | None = None,
    programme_id: int | None = None,
    capacity: int | None = None,
) -> Class:
    name = _clean(name, 200, "name")
    if (room_id is None) == (programme_id is None):
        raise ServiceError(_("Choose a computer room or a programme for the class."), "place")
    if room_id is not None and db.session.get(Room, room_id) is None:
        raise ServiceError(_("Choose a computer room or a programme for the class."), "place")
    if programme_id is not None and db.session.get(Programme, programme_id) is None:
        raise ServiceError(_("Choose a computer room or a programme for the class."), "place")
    if capacity is not None and not 1 <= capacity <= 10000:
        raise ServiceError(_("Places: a number from 1 to 10000."), "capacity")
    klass = Class(
        name=name,
        room_id=room_id,
        programme_id=programme_id,
        capacity=capacity,
        created_by_id=creator.id,
    )
    db.session.add(klass)
    db.session.flush()
    if creator.role in (INSTRUCTOR, ADMIN):
        db.session.add(ClassInstructor(class_id=klass.id, user_id=creator.id))
    new_join_code(klass)
    audit.record(
        "class.create", klass, room_id=room_id, programme_id=programme_id, capacity=capacity
    )
    return klass


def classes_for(user: User, school_id: int | None = None) -> list[tuple[Class, int]]:
    """The classes a person teaches (admins: all), with member counts, in one query."""
    members = (
        select(func.count(ClassMember.user_id))
        .where(ClassMember.class_id == Class.id)
        .scalar_subquery()
    )
    query = (
        select(Class, members)
        .outerjoin(Class.room)
        .outerjoin(Room.school)
        .outerjoin(Class.programme)
        .options(
            contains_eager(Class.room).contains_eager(Room.school),
            contains_eager(Class.programme),
        )
        .where(Class.archived.is_(False))
        .order_by(School.name, Room.name, Programme.name, Class.name)
    )
    if user.role != ADMIN:
        query = query.where(
            Class.id.in_(select(ClassInstructor.class_id).where(ClassInstructor.user_id == user.id))
        )
    if school_id:
        query = query.where(Room.school_id == school_id)
    return [tuple(row) for row in db.session.execute(query)]


def members_of(klass: Class) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(ClassMember, ClassMember.user_id == User.id)
            .where(ClassMember.class_id == klass.id)
            .order_by(User.full_name, User.username)
        )
    )


def member_count(klass: Class) -> int:
    return db.session.scalar(
        select(func.count()).select_from(ClassMember).where(ClassMember.class_id == klass.id)
    )


def instructors_of(klass: Class) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(ClassInstructor, ClassInstructor.user_id == User.id)
            .where(ClassInstructor.class_id == klass.id)
            .order_by(User.full_name)
        )
    )


def courses_of(klass: Class) -> list[Course]:
    return list(
        db.session.scalars(
            select(Course)
            .join(ClassCourse, ClassCourse.course_id == Course.id)
            .where(ClassCourse.class_id == klass.id)
            .order_by(Course.title_th)
        )
    )


def assign_instructor(klass: Class, username: str) -> User:
    person = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if person is None or person.role not in (INSTRUCTOR, ADMIN):
        raise ServiceError(_("No instructor has the username %(name)s.", name=username), "username")
    if db.session.get(ClassInstructor, (klass.id, person.id)) is None:
        db.session.add(ClassInstructor(class_id=klass.id, user_id=person.id))
    return person


def unassign_instructor(klass: Class, user_id: int) -> None:
    db.session.execute(
        delete(ClassInstructor).where(
            ClassInstructor.class_id == klass.id, ClassInstructor.user_id == user_id
        )
    )


# --- enrolment -----------------------------------------------------------------------------


def enrol_users(user_ids: Sequence[int], course_ids: Sequence[int]) -> int:
    """Enrol learners in courses (source "class"), skipping existing enrolments; one signal per
    new enrolment so progress can start its rows. Returns the number of new enrolments."""
    if not user_ids or not course_ids:
        return 0
    existing: set[tuple[int, int]] = set()
    for chunk in _chunks(list(user_ids), 500):
        existing.update(
            db.session.execute(
                select(Enrolment.user_id, Enrolment.course_id).where(
                    Enrolment.user_id.in_(chunk), Enrolment.course_id.in_(course_ids)
                )
            ).all()
        )
    new = [(u, c) for u in user_ids for c in course_ids if (u, c) not in existing]
    if not new:
        return 0
    now = utcnow()
    for chunk in _chunks(new, 1000):
        db.session.execute(
            insert(Enrolment),
            [
                {"user_id": u, "course_id": c, "source": "class", "created_at": now}
                for u, c in chunk
            ],
        )
    if signals.enrolled.receivers:
        users = {u.id: u for u in _load(User, {u for u, _c in new})}
        courses = {c.id: c for c in _load(Course, {c for _u, c in new})}
        for u, c in new:
            signals.enrolled.send(users[u], course=courses[c])
    return len(new)


def _load(model, ids: set[int]) -> list:
    rows = []
    for chunk in _chunks(sorted(ids), 500):
        rows += db.session.scalars(select(model).where(model.id.in_(chunk)))
    return rows


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def enrol_class(klass: Class, course: Course) -> int:
    """The class takes the course: every member is enrolled, and future members too."""
    if db.session.get(ClassCourse, (klass.id, course.id)) is None:
        db.session.add(ClassCourse(class_id=klass.id, course_id=course.id))
        db.session.flush()
    member_ids = list(
        db.session.scalars(select(ClassMember.user_id).where(ClassMember.class_id == klass.id))
    )
    return enrol_users(member_ids, [course.id])


def unenrol_class(klass: Class, course_id: int) -> None:
    """The class stops taking the course; learners keep their enrolment and progress."""
    db.session.execute(
        delete(ClassCourse).where(
            ClassCourse.class_id == klass.id, ClassCourse.course_id == course_id
        )
    )


def add_members(klass: Class, user_ids: Sequence[int]) -> int:
    """Put learners in the class (skipping those already in) and enrol them in its courses."""
    if not user_ids:
        return 0
    present = set()
    for chunk in _chunks(list(user_ids), 500):
        present.update(
            db.session.scalars(
                select(ClassMember.user_id).where(
                    ClassMember.class_id == klass.id, ClassMember.user_id.in_(chunk)
                )
            )
        )
    new = [u for u in dict.fromkeys(user_ids) if u not in present]
    now = utcnow()
    for chunk in _chunks(new, 1000):
        db.session.execute(
            insert(ClassMember),
            [{"class_id": klass.id, "user_id": u, "joined_at": now} for u in chunk],
        )
    course_ids = list(
        db.session.scalars(select(ClassCourse.course_id).where(ClassCourse.class_id == klass.id))
    )
    enrol_users(new, course_ids)
    return len(new)


def remove_member(klass: Class, user_id: int) -> None:
    """Out of the class; the learner keeps their account, enrolments and progress."""
    result = db.session.execute(
        delete(ClassMember).where(ClassMember.class_id == klass.id, ClassMember.user_id == user_id)
    )
    if not result.rowcount:
        raise ServiceError(_("This learner is not in the class."))


def move_member(klass: Class, user_id: int, target: Class) -> None:
    if target.id == klass.id:
        raise ServiceError(_("Choose another class."), "target")
    remove_member(klass, user_id)
    add_members(target, [user_id])


# --- join codes ----------------------------------------------------------------------------


def _random_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_join_code(klass: Class, expires_on: date | None = None) -> str:
    """A fresh code (the old one stops working), valid until the end of `expires_on`."""
    # Days are the school's (local) days: before 07:00 in Bangkok, UTC is still on yesterday.
    today = local_date(utcnow())
    expires_on = expires_on or today + timedelta(days=CODE_DAYS)
    if expires_on < today:
        raise ServiceError(_("The end date has passed; choose a later date."), "expires_on")
    for _attempt in range(10):
        klass.join_code = _random_code()
        try:
            with db.session.begin_nested():
                db.session.flush()
        except IntegrityError:
            continue
        break
    else:  # pragma: no cover - a billion codes, ten clashes in a row
        raise RuntimeError("could not find a free join code")
    # The code works through the whole last day, in local time.
    klass.join_code_expires_at = local_day_start(expires_on + timedelta(days=1))
    return klass.join_code


def normalize_code(code: str) -> str:
    return "".join((code or "").split()).upper().replace("-", "")


@dataclass
class JoinResult:
    klass: Class
    already: bool


def join_with_code(user: User, code: str, address: str) -> JoinResult:
    """A learner joins a class with its code. Wrong guesses are counted per person and per
    address (the caller commits them even when joining fails)."""
    keys = (f"join-user:{user.id}", f"join-ip:{address}")
    limit = current_app.config.get("JOIN_MAX_FAILURES", JOIN_MAX_FAILURES)
    wait = max(throttle.seconds_blocked(k, limit, JOIN_WINDOW_SECONDS) for k in keys)
    if wait:
        raise ServiceError(
            _(
                "Too many wrong codes. Please wait %(minutes)d minute(s), then check the code "
                "with your teacher.",
                minutes=max(1, (wait + 59) // 60),
            ),
            "code",
        )
    code = normalize_code(code)
    klass = None
    if len(code) == CODE_LENGTH:
        klass = db.session.scalar(
            select(Class).where(Class.join_code == code, Class.archived.is_(False))
        )
    if klass is None:
        throttle.record_failure(*keys)
        raise ServiceError(
            _("There is no class with this code. Check the code with your teacher."), "code"
        )
    if db.session.get(ClassMember, (klass.id, user.id)) is not None:
        return JoinResult(klass, already=True)
    if klass.join_code_expires_at is not None and klass.join_code_expires_at <= utcnow():
        raise ServiceError(_("This code has expired. Ask your teacher for a new code."), "code")
    capacity = class_capacity(klass)
    if capacity is not None and member_count(klass) >= capacity:
        raise ServiceError(
            _("This class is full (%(n)d places). Please ask your teacher.", n=capacity), "code"
        )
    add_members(klass, [user.id])
    return JoinResult(klass, already=False)


def class_capacity(klass: Class) -> int | None:
    """The class's own limit, else the seats of its room; programmes have no limit."""
    if klass.capacity:
        return klass.capacity
    if klass.room is not None:
        return klass.room.seats
    return None


def other_classes(user: User, klass: Class) -> list[Class]:
    """Classes this person may move a learner to."""
    return [c for c, _n in classes_for(user) if c.id != klass.id]
