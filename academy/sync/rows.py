"""The pushed tables, once: how each row is named on every server (its UUID, or its parents'
names), which columns travel, and which of its columns point at other rows. Reading a row
turns local keys into those names; applying one turns them back, refusing what the sending
school does not own (docs/sync.md, "Ownership")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from academy.assignments.models import Assignment  # noqa: F401 - the course's items
from academy.auth.models import User
from academy.certificates.models import Certificate
from academy.classes.models import Class, ClassCourse, ClassInstructor, ClassMember, Room
from academy.core.db import UTCDateTime
from academy.courses.models import Course, Enrolment, Lesson
from academy.extensions import db
from academy.periods.models import Attendance, Period
from academy.progress.models import (
    CourseProgress,
    LearnerMonthActivity,
    LessonProgress,
    ProgressEvent,
    QuizResult,
)
from academy.quizzes.models import Attempt, Question, Quiz, Response
from academy.sync.problems import N_, SyncProblem


class Refused(SyncProblem):
    """A batch the receiver will not apply; the message names the row and the reason."""


# Kinds of reference: rows the school owns travel with the batch ("user", "class", "attempt",
# "certificate"); course items are the city's and must already be there.
@dataclass(frozen=True)
class Table:
    model: Any
    key: tuple[str, ...]  # "uuid", or reference columns naming the row
    refs: dict[str, str] = field(default_factory=dict)  # column -> kind
    # Columns that stay on their server (local state, or unique per server).
    local: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.model.__tablename__

    def columns(self) -> list[str]:
        skip = {"id", "sync_seq", *self.refs, *self.local}
        return [c.key for c in sa_inspect(self.model).columns if c.key not in skip]


# In the order a receiver applies them: a row's parents come before it.
TABLES: tuple[Table, ...] = (
    # Sessions are per server: a sign-out everywhere at the school ends the school's sessions.
    Table(User, ("uuid",), local=("school_id", "session_version", "last_seen_at")),
    Table(Class, ("uuid",), {"room_id": "room", "created_by_id": "user?"},
          local=("programme_id", "join_code", "join_code_expires_at")),
    Table(ClassInstructor, ("class_id", "user_id"), {"class_id": "class", "user_id": "user"}),
    Table(ClassMember, ("class_id", "user_id"), {"class_id": "class", "user_id": "user"}),
    Table(ClassCourse, ("class_id", "course_id"), {"class_id": "class", "course_id": "course"}),
    Table(Enrolment, ("user_id", "course_id"), {"user_id": "user", "course_id": "course"}),
    # A period and the teacher's attendance corrections (the rest of attendance is read from
    # the progress events during the period); its plan (period_items) stays at the school.
    Table(Period, ("uuid",), {"class_id": "class", "room_id": "room?", "teacher_id": "user?"}),
    Table(Attendance, ("period_id", "user_id"),
          {"period_id": "period", "user_id": "user", "updated_by_id": "user?"}),
    Table(Attempt, ("uuid",), {"user_id": "user", "quiz_id": "quiz"}),
    Table(Response, ("uuid",), {"attempt_id": "attempt", "question_id": "question",
                                "marked_by_id": "user?"}),
    Table(ProgressEvent, ("uuid",), {"user_id": "user", "course_id": "course",
                                     "lesson_id": "lesson?", "quiz_id": "quiz?"}),
    Table(LearnerMonthActivity, ("month", "user_id", "course_id"),
          {"user_id": "user", "course_id": "course"}),
    Table(LessonProgress, ("user_id", "lesson_id"),
          {"user_id": "user", "lesson_id": "lesson", "course_id": "course"}),
    Table(QuizResult, ("user_id", "quiz_id"),
          {"user_id": "user", "quiz_id": "quiz", "course_id": "course"}),
    Table(CourseProgress, ("user_id", "course_id"),
          {"user_id": "user", "course_id": "course", "last_lesson_id": "lesson?"}),
    Table(Certificate, ("uuid",), {"user_id": "user", "course_id": "course",
                                   "replaced_by_id": "certificate?"},
          local=("pdf_sha256", "pdf_link_base")),
)  # fmt: skip
BY_NAME = {t.name: t for t in TABLES}
UUID_MODELS = {"user": User, "class": Class, "attempt": Attempt, "certificate": Certificate,
               "period": Period}  # fmt: skip
# Rows that ride along with a row that points at them, so every batch stands alone.
OWNED_KINDS = {"user": "users", "class": "classes", "attempt": "attempts",
               "certificate": "certificates", "period": "periods"}  # fmt: skip


def _datetime_columns(model: Any) -> set[str]:
    return {c.key for c in sa_inspect(model).columns if isinstance(c.type, UTCDateTime)}


# --- local key <-> name ----------------------------------------------------------------------


class Names:
    """Turns local ids into names and back for one batch, a query per kind and direction."""

    def __init__(self) -> None:
        self._out: dict[str, dict[int, Any]] = {}
        self._in: dict[str, dict[Any, int]] = {}

    # Names of course items: "slug", "slug/key", "slug/quiz-key/position".
    def _name_query(self, kind: str, ids: list[int]) -> Any:
        if kind in UUID_MODELS:
            model = UUID_MODELS[kind]
            return select(model.id, model.uuid).where(model.id.in_(ids))
        if kind == "room":
            return select(Room.id, Room.name).where(Room.id.in_(ids))
        if kind == "course":
            return select(Course.id, Course.slug).where(Course.id.in_(ids))
        if kind == "lesson":
            return (
                select(Lesson.id, Course.slug + "/" + Lesson.key)
                .join(Course, Course.id == Lesson.course_id)
                .where(Lesson.id.in_(ids))
            )
        if kind == "quiz":
            return (
                select(Quiz.id, Course.slug + "/" + Quiz.key)
                .join(Course, Course.id == Quiz.course_id)
                .where(Quiz.id.in_(ids))
            )
        if kind == "question":
            return (
                select(Question.id, Course.slug, Quiz.key, Question.position)
                .join(Quiz, Quiz.id == Question.quiz_id)
                .join(Course, Course.id == Quiz.course_id)
                .where(Question.id.in_(ids))
            )
        raise ValueError(kind)

    def names(self, kind: str, ids: set[int]) -> dict[int, Any]:
        known = self._out.setdefault(kind, {})
        missing = [i for i in ids if i is not None and i not in known]
        for start in range(0, len(missing), 500):
            for row in db.session.execute(self._name_query(kind, missing[start : start + 500])):
                known[row[0]] = f"{row[1]}/{row[2]}/{row[3]}" if kind == "question" else row[1]
        return known

    def ids(self, kind: str, names: set[Any], school_id: int | None = None) -> dict[Any, int]:
        known = self._in.setdefault(kind, {})
        missing = [n for n in names if n is not None and n not in known]
        if not missing:
            return known
        if kind in UUID_MODELS:
            model = UUID_MODELS[kind]
            for start in range(0, len(missing), 500):
                chunk = missing[start : start + 500]
                for row in db.session.execute(
                    select(model.uuid, model.id).where(model.uuid.in_(chunk))
                ):
                    known[row[0]] = row[1]
        elif kind == "room":
            for row in db.session.execute(
                select(Room.name, Room.id).where(Room.school_id == school_id)
            ):
                known[row[0]] = row[1]
        elif kind == "course":
            for row in db.session.execute(select(Course.slug, Course.id)):
                known[row[0]] = row[1]
        elif kind in ("lesson", "quiz"):
            model = Lesson if kind == "lesson" else Quiz
            for row in db.session.execute(
                select(Course.slug, model.key, model.id).join(Course, Course.id == model.course_id)
            ):
                known[f"{row[0]}/{row[1]}"] = row[2]
        elif kind == "question":
            for row in db.session.execute(
                select(Course.slug, Quiz.key, Question.position, Question.id)
                .join(Quiz, Quiz.id == Question.quiz_id)
                .join(Course, Course.id == Quiz.course_id)
            ):
                known[f"{row[0]}/{row[1]}/{row[2]}"] = row[3]
        return known

    def remember(self, kind: str, name: Any, local_id: int) -> None:
        self._in.setdefault(kind, {})[name] = local_id


# --- reading rows (the sender) -----------------------------------------------------------------


def read(table: Table, objects: list[Any], names: Names) -> list[dict[str, Any]]:
    """The rows as they travel: their columns, and their references as names."""
    dates = _datetime_columns(table.model)
    by_kind: dict[str, set[int]] = {}
    for column, kind in table.refs.items():
        by_kind.setdefault(kind.rstrip("?"), set()).update(
            getattr(o, column) for o in objects if getattr(o, column) is not None
        )
    if table.model is Attempt:
        by_kind.setdefault("question", set()).update(
            int(item["question_id"]) for o in objects for item in o.layout or []
        )
    resolved = {kind: names.names(kind, ids) for kind, ids in by_kind.items()}
    out = []
    for o in objects:
        row: dict[str, Any] = {}
        for column in table.columns():
            value = getattr(o, column)
            row[column] = value.isoformat() if column in dates and value is not None else value
        for column, kind in table.refs.items():
            local_id = getattr(o, column)
            row[column] = None if local_id is None else resolved[kind.rstrip("?")].get(local_id)
        if table.model is Attempt:
            row["layout"] = [
                dict(item, question_id=resolved["question"].get(int(item["question_id"])))
                for item in o.layout or []
            ]
        out.append(row)
    return out


# --- applying rows (the receiver) ---------------------------------------------------------------


@dataclass
class Receiver:
    """Applies one batch's rows for the school server of `school_id`, refusing (Refused) any
    row that school does not own. Nothing commits here: the batch is one transaction."""

    school_id: int
    peer_id: int | None = None
    names: Names = field(default_factory=Names)
    school_users: set[int] = field(default_factory=set)
    new_users: list[Any] = field(default_factory=list)
    applied: int = 0

    def __post_init__(self) -> None:
        self.school_users = set(
            db.session.scalars(select(User.id).where(User.school_id == self.school_id))
        )

    def apply(self, rows: dict[str, list[dict[str, Any]]]) -> int:
        unknown = set(rows) - set(BY_NAME)
        if unknown:
            raise Refused(
                N_("the batch holds a table the city does not take: %(table)s"),
                table=sorted(unknown)[0],
            )
        for table in TABLES:
            if rows.get(table.name):
                self._apply_table(table, rows[table.name])
        return self.applied

    def delete(self, deleted: dict[str, list[dict[str, Any]]]) -> int:
        """Remove the rows the school removed (children first); a row the city never had, or
        whose parent is already gone, is nothing to remove."""
        unknown = set(deleted) - set(BY_NAME)
        if unknown:
            raise Refused(
                N_("the batch removes from a table the city does not take: %(table)s"),
                table=sorted(unknown)[0],
            )
        count = 0
        for table in reversed(TABLES):
            for key in deleted.get(table.name) or []:
                obj = self._find(table, key)
                if obj is None:
                    continue
                self._check_owned(table, obj, {})
                if (
                    table.key != ("uuid",)
                    and "user_id" in table.key
                    and obj.user_id not in self.school_users
                ):
                    raise Refused(
                        N_("%(table)s: a removal of another school's row"), table=table.name
                    )
                db.session.delete(obj)
                count += 1
        db.session.flush()
        return count

    def _find(self, table: Table, key: Any) -> Any:
        if not isinstance(key, dict) or set(key) != set(table.key):
            raise Refused(N_("%(table)s: a removal without its key"), table=table.name)
        model, where = table.model, []
        for column in table.key:
            kind = table.refs.get(column, "").rstrip("?")
            value = key[column]
            if kind:
                value = self.names.ids(kind, {value}, self.school_id).get(value)
                if value is None:
                    return None
                if kind in OWNED_KINDS and not self._owned(kind, value):
                    raise Refused(
                        N_("%(table)s: a removal of another school's row"), table=table.name
                    )
            where.append(getattr(model, column) == value)
        return db.session.scalar(select(model).where(*where))

    def _local(self, table: Table, row: dict[str, Any]) -> dict[str, Any]:
        """The row's references as this server's ids; refused when one is unknown here."""
        values: dict[str, Any] = {}
        for column, kind in table.refs.items():
            name = row.get(column)
            optional = kind.endswith("?")
            kind = kind.rstrip("?")
            if name is None:
                if not optional:
                    raise Refused(
                        N_("%(table)s: a row without its %(column)s"),
                        table=table.name,
                        column=column,
                    )
                values[column] = None
                continue
            if kind == "room":
                values[column] = self._room(name)
                continue
            local_id = self.names.ids(kind, {name}, self.school_id).get(name)
            if local_id is None:
                if kind in ("course", "lesson", "quiz", "question"):
                    raise Refused(
                        N_(
                            "%(table)s: the %(kind)s '%(name)s' is not at the city (deleted or "
                            "never published here); the school keeps its rows"
                        ),
                        table=table.name,
                        kind=kind,
                        name=str(name),
                    )
                if optional:
                    values[column] = None
                    continue
                raise Refused(
                    N_("%(table)s: the %(kind)s '%(name)s' is not in this batch"),
                    table=table.name,
                    kind=kind,
                    name=str(name),
                )
            if kind in OWNED_KINDS and not self._owned(kind, local_id):
                raise Refused(
                    N_("%(table)s: the %(kind)s %(name)s belongs to another school or the city"),
                    table=table.name,
                    kind=kind,
                    name=str(name),
                )
            values[column] = local_id
        return values

    def _owned(self, kind: str, local_id: int) -> bool:
        if kind == "user":
            return local_id in self.school_users
        if kind == "period":
            period = db.session.get(Period, local_id)
            return period is not None and self._owned("class", period.class_id)
        if kind == "class":
            klass = db.session.get(Class, local_id)
            room = db.session.get(Room, klass.room_id) if klass and klass.room_id else None
            return room is not None and room.school_id == self.school_id
        model = Attempt if kind == "attempt" else Certificate
        return db.session.scalar(select(model.user_id).where(model.id == local_id)) in (
            self.school_users
        )

    def _room(self, name: str) -> int:
        room_id = self.names.ids("room", {name}, self.school_id).get(name)
        if room_id is None:  # a room the school named: it is the school's room
            room = Room(school_id=self.school_id, name=str(name)[:100])
            db.session.add(room)
            db.session.flush()
            room_id = room.id
            self.names.remember("room", name, room_id)
        return room_id

    def _plain(self, table: Table, row: dict[str, Any]) -> dict[str, Any]:
        dates = _datetime_columns(table.model)
        values = {}
        for column in table.columns():
            if column not in row:
                raise Refused(
                    N_("%(table)s: a row without its %(column)s"), table=table.name, column=column
                )
            value = row[column]
            if column in dates and value is not None:
                try:
                    value = datetime.fromisoformat(value)
                except (TypeError, ValueError):
                    raise Refused(
                        N_("%(table)s: %(column)s is not a date: %(value)s"),
                        table=table.name,
                        column=column,
                        value=repr(value),
                    ) from None
            values[column] = value
        return values

    def _apply_table(self, table: Table, rows: list[dict[str, Any]]) -> None:
        prepared = []
        for row in rows:
            if not isinstance(row, dict):
                raise Refused(N_("%(table)s: a row that is not an object"), table=table.name)
            values = self._plain(table, row) | self._local(table, row)
            if table.model is Attempt:
                values["layout"] = self._layout(row.get("layout"))
            prepared.append(values)
        existing = self._existing(table, prepared)
        for values in prepared:
            key = tuple(values[k] for k in table.key)
            obj = existing.get(key)
            if obj is None:
                self._check_new(table, values)
                obj = table.model(**values)
                if table.model is User:
                    obj.school_id = self.school_id
                    self.new_users.append(obj)
                db.session.add(obj)
                existing[key] = obj
            else:
                self._check_owned(table, obj, values)
                for column, value in values.items():
                    setattr(obj, column, value)
            self.applied += 1
        db.session.flush()
        if table.model is User:
            for obj in existing.values():
                self.school_users.add(obj.id)
        if table.key == ("uuid",):
            kind = {v: k for k, v in OWNED_KINDS.items()}.get(table.name)
            if kind:
                for obj in existing.values():
                    self.names.remember(kind, obj.uuid, obj.id)

    def _layout(self, layout: Any) -> list[dict[str, Any]]:
        if not isinstance(layout, list):
            raise Refused(N_("attempts: the layout is not a list"))
        names = {item.get("question_id") for item in layout if isinstance(item, dict)}
        ids = self.names.ids("question", names)
        out = []
        for item in layout:
            local_id = ids.get(item.get("question_id")) if isinstance(item, dict) else None
            if local_id is None:
                raise Refused(
                    N_("attempts: the question '%(name)s' is not at the city"), name=str(item)
                )
            out.append(dict(item, question_id=local_id))
        return out

    def _existing(self, table: Table, prepared: list[dict[str, Any]]) -> dict[tuple, Any]:
        model = table.model
        # A UUID names the row; a natural key starts with a user or a class: fetch by that.
        first = "user_id" if table.key[0] == "month" else table.key[0]
        column = getattr(model, first)
        values = list({v[first] for v in prepared})
        found: dict[tuple, Any] = {}
        for start in range(0, len(values), 500):
            query = select(model).where(column.in_(values[start : start + 500]))
            for obj in db.session.scalars(query):
                found[tuple(getattr(obj, k) for k in table.key)] = obj
        return found

    def _check_new(self, table: Table, values: dict[str, Any]) -> None:
        if table.model is User:
            taken = db.session.scalar(select(User.uuid).where(User.username == values["username"]))
            if taken is not None:
                raise Refused(
                    N_(
                        "users: the username '%(username)s' belongs to another account at the "
                        "city; rename one of them"
                    ),
                    username=values["username"],
                )
        if table.model is Certificate:
            taken = db.session.scalar(
                select(Certificate.id).where(Certificate.code == values["code"])
            )
            if taken is not None:
                raise Refused(
                    N_("certificates: the code %(code)s is already used at the city"),
                    code=values["code"],
                )

    def _check_owned(self, table: Table, obj: Any, values: dict[str, Any]) -> None:
        if table.model is User and obj.school_id != self.school_id:
            raise Refused(
                N_("users: the account %(uuid)s belongs to another school or the city"),
                uuid=obj.uuid,
            )
        if table.model is Period and not self._owned("period", obj.id):
            raise Refused(
                N_("periods: the period %(uuid)s belongs to another school"), uuid=obj.uuid
            )
        if table.model is Class:
            room = db.session.get(Room, obj.room_id) if obj.room_id else None
            if room is None or room.school_id != self.school_id:
                raise Refused(
                    N_("classes: the class %(uuid)s belongs to another school"), uuid=obj.uuid
                )
        owner = getattr(obj, "user_id", None)
        if table.key == ("uuid",) and owner is not None and owner != values.get("user_id", owner):
            raise Refused(
                N_("%(table)s: the row %(uuid)s belongs to another learner"),
                table=table.name,
                uuid=obj.uuid,
            )
        if table.key == ("uuid",) and owner is not None and owner not in self.school_users:
            raise Refused(
                N_("%(table)s: the row %(uuid)s belongs to another school"),
                table=table.name,
                uuid=obj.uuid,
            )
        if table.model is Response and not self._owned("attempt", obj.attempt_id):
            raise Refused(
                N_("responses: the row %(uuid)s belongs to another school"), uuid=obj.uuid
            )
