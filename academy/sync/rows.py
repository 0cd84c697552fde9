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

from academy.assignments import photos as photo_files
from academy.assignments.models import Assignment, Review, Submission, SubmissionPhoto
from academy.auth.models import User
from academy.certificates.models import Certificate
from academy.classes.models import Class, ClassCourse, ClassInstructor, ClassMember, Room
from academy.core.clock import utcnow
from academy.core.db import UTCDateTime
from academy.courses.models import Course, Enrolment, Lesson
from academy.extensions import db
from academy.periods.models import Attendance, Period, PeriodItem
from academy.progress.models import (
    CourseProgress,
    LearnerMonthActivity,
    LessonProgress,
    ProgressEvent,
    QuizResult,
)
from academy.quizzes.models import Attempt, Question, Quiz, Response
from academy.sync.models import SyncSetAside
from academy.sync.problems import N_, SyncProblem


class Refused(SyncProblem):
    """A batch the receiver will not apply; the message names the row and the reason."""


class _Deleted(Exception):
    """A row names a quiz question the city no longer has."""

    def __init__(self, name: Any) -> None:
        super().__init__(name)
        self.name = name


# Kinds of reference: rows the school owns travel with the batch ("user", "class", "attempt",
# "certificate"); course items are the city's and must already be there.
@dataclass(frozen=True)
class Table:
    model: Any
    key: tuple[str, ...]  # "uuid", or reference columns naming the row
    refs: dict[str, str] = field(default_factory=dict)  # column -> kind
    # Columns that stay on their server (local state, or unique per server).
    local: tuple[str, ...] = ()
    # What travels inside each row: an attempt's layout, a hand-in's photos and review, a
    # period's plan (the parent's stamp covers them: they change with it).
    inner: tuple[Inner, ...] = ()

    @property
    def name(self) -> str:
        return self.model.__tablename__

    def columns(self) -> list[str]:
        skip = {"id", "sync_seq", *self.refs, *self.local, *(i.name for i in self.inner)}
        return [c.key for c in sa_inspect(self.model).columns if c.key not in skip]


# --- what travels inside a row ---------------------------------------------------------------


class Inner:
    """Part of a row kept in another column or table, that travels inside the row: it names
    the rows it points at like the row's own references, and is applied with it."""

    name: str

    def pointers(self, objects: list[Any]) -> dict[str, set[int]]:
        """The local ids it points at, by kind (to name them, and to send the owned ones)."""
        return {}

    def read(self, objects: list[Any], named: dict[str, dict[int, Any]]) -> list[Any]:
        """Its value for each object, references as names."""
        raise NotImplementedError

    def values(self, receiver: Receiver, row: dict[str, Any], value: Any) -> dict[str, Any]:
        """Columns of the row itself it sets (before the row is written)."""
        return {}

    def apply(self, receiver: Receiver, obj: Any, value: Any) -> None:
        """The rows of its own it writes (after the row is written)."""


def _by_parent(model: Any, column: str, ids: list[int], order: Any) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        query = select(model).where(getattr(model, column).in_(ids[start : start + 500]))
        for child in db.session.scalars(query.order_by(order)):
            found[getattr(child, column)].append(child)
    return found


def _list_of_objects(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise Refused(N_("%(where)s is not a list of objects"), where=where)
    return value


class _Layout(Inner):
    """An attempt's questions in the order the learner saw them, each question by its name.
    One the city has deleted since is set aside (SyncSetAside), never paired with another."""

    name = "layout"

    def pointers(self, objects: list[Any]) -> dict[str, set[int]]:
        return {"question": {int(i["question_id"]) for o in objects for i in o.layout or []}}

    def read(self, objects: list[Any], named: dict[str, dict[int, Any]]) -> list[Any]:
        # A question gone here too (a course update removed it) has no name: it is left out.
        return [
            [
                dict(item, question_id=named["question"][int(item["question_id"])])
                for item in o.layout or []
                if int(item["question_id"]) in named["question"]
            ]
            for o in objects
        ]

    def values(self, receiver: Receiver, row: dict[str, Any], value: Any) -> dict[str, Any]:
        items = _list_of_objects(value, "attempts: the layout")
        ids = receiver.names.ids("question", {i.get("question_id") for i in items})
        layout = []
        for item in items:
            local_id = ids.get(item.get("question_id"))
            if local_id is None:
                receiver.set_aside("attempts", row, item.get("question_id"), item)
            else:
                layout.append(dict(item, question_id=local_id))
        return {"layout": layout}


class _Photos(Inner):
    """A hand-in's photos by content hash; the files themselves arrive before the batch."""

    name = "photos"
    fields = ("position", "sha256", "size", "width", "height")

    def read(self, objects: list[Any], named: dict[str, dict[int, Any]]) -> list[Any]:
        found = _by_parent(SubmissionPhoto, "submission_id", [o.id for o in objects],
                           SubmissionPhoto.position)  # fmt: skip
        return [[{f: getattr(p, f) for f in self.fields} for p in found[o.id]] for o in objects]

    def apply(self, receiver: Receiver, obj: Any, value: Any) -> None:
        given = _list_of_objects(value, "submissions: the photos")
        have = {p.position: p for p in _by_parent(SubmissionPhoto, "submission_id", [obj.id],
                                                  SubmissionPhoto.position)[obj.id]}  # fmt: skip
        for photo in given:
            if set(photo) != set(self.fields):
                raise Refused(N_("submissions: a photo without its fields"))
            try:
                arrived = photo_files.photo_path(str(photo["sha256"])).is_file()
            except ValueError:
                raise Refused(
                    N_("submissions: %(value)s is not a SHA-256"), value=repr(photo["sha256"])
                ) from None
            if not arrived:
                raise Refused(
                    f"submissions: the photo {photo['sha256']} has not arrived at the city; "
                    "sync again"
                )
            row = have.pop(photo["position"], None) or SubmissionPhoto(submission_id=obj.id)
            for name in self.fields:
                setattr(row, name, photo[name])
            db.session.add(row)
        for gone in have.values():
            db.session.delete(gone)


class _Review(Inner):
    """The one review of a hand-in. Its reviewer is one of the school's accounts, or nobody
    the city knows (the server's own admin): then the city keeps the review without one."""

    name = "review"
    fields = ("results", "comment", "passed", "points", "max_points", "reviewed_at")

    def _reviews(self, objects: list[Any]) -> dict[int, Any]:
        found = _by_parent(Review, "submission_id", [o.id for o in objects], Review.id)
        return {i: rows[0] if rows else None for i, rows in found.items()}

    def pointers(self, objects: list[Any]) -> dict[str, set[int]]:
        reviews = self._reviews(objects).values()
        return {"user": {r.reviewer_id for r in reviews if r and r.reviewer_id is not None}}

    def read(self, objects: list[Any], named: dict[str, dict[int, Any]]) -> list[Any]:
        reviews = self._reviews(objects)
        out = []
        for obj in objects:
            review = reviews[obj.id]
            if review is None:
                out.append(None)
                continue
            value = {f: getattr(review, f) for f in self.fields}
            value["reviewed_at"] = review.reviewed_at.isoformat()
            value["reviewer_id"] = named["user"].get(review.reviewer_id)
            out.append(value)
        return out

    def apply(self, receiver: Receiver, obj: Any, value: Any) -> None:
        review = self._reviews([obj])[obj.id]
        if value is None:
            if review is not None:
                db.session.delete(review)
            return
        if not isinstance(value, dict) or set(value) != {*self.fields, "reviewer_id"}:
            raise Refused(N_("submissions: a review without its fields"))
        review = review or Review(submission_id=obj.id)
        for name in self.fields:
            setattr(review, name, value[name])
        review.reviewed_at = _date("submissions", "reviewed_at", value["reviewed_at"])
        reviewer = receiver.names.ids("user", {value["reviewer_id"]}).get(value["reviewer_id"])
        review.reviewer_id = reviewer if reviewer in receiver.school_users else None
        db.session.add(review)


class _Plan(Inner):
    """A period's items (lessons and quizzes, in the teacher's order) and when each quiz was
    opened and closed there; the start code stays in the room. An item whose lesson or quiz
    the city no longer has is left out, as the course's deletion removed it at the city."""

    name = "items"
    fields = ("position", "kind", "opened_at", "closed_at")

    def pointers(self, objects: list[Any]) -> dict[str, set[int]]:
        items = [i for o in objects for i in o.items]
        return {"lesson": {i.lesson_id for i in items if i.lesson_id is not None},
                "quiz": {i.quiz_id for i in items if i.quiz_id is not None}}  # fmt: skip

    def read(self, objects: list[Any], named: dict[str, dict[int, Any]]) -> list[Any]:
        out = []
        for obj in objects:
            items = []
            for item in sorted(obj.items, key=lambda i: i.position):
                value = {f: getattr(item, f) for f in self.fields}
                for column in ("opened_at", "closed_at"):
                    value[column] = value[column] and value[column].isoformat()
                value["lesson_id"] = named["lesson"].get(item.lesson_id)
                value["quiz_id"] = named["quiz"].get(item.quiz_id)
                items.append(value)
            out.append(items)
        return out

    def apply(self, receiver: Receiver, obj: Any, value: Any) -> None:
        given = _list_of_objects(value, "periods: the plan")
        have = {i.position: i for i in _by_parent(PeriodItem, "period_id", [obj.id],
                                                  PeriodItem.position)[obj.id]}  # fmt: skip
        for item in given:
            if set(item) != {*self.fields, "lesson_id", "quiz_id"}:
                raise Refused("periods: a plan item without its fields")
            lesson = receiver.names.ids("lesson", {item["lesson_id"]}).get(item["lesson_id"])
            quiz = receiver.names.ids("quiz", {item["quiz_id"]}).get(item["quiz_id"])
            if lesson is None and quiz is None:
                continue
            row = have.pop(item["position"], None) or PeriodItem(period_id=obj.id)
            row.position, row.kind = item["position"], item["kind"]
            row.lesson_id, row.quiz_id = lesson, quiz
            row.opened_at = _date("periods", "opened_at", item["opened_at"])
            row.closed_at = _date("periods", "closed_at", item["closed_at"])
            db.session.add(row)
        for gone in have.values():
            db.session.delete(gone)


LAYOUT, PHOTOS, REVIEW, PLAN = _Layout(), _Photos(), _Review(), _Plan()


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
    # A period with its plan, and the teacher's attendance corrections (the rest of attendance
    # is read from the progress events during the period).
    Table(Period, ("uuid",), {"class_id": "class", "room_id": "room?", "teacher_id": "user?"},
          inner=(PLAN,)),
    Table(Attendance, ("period_id", "user_id"),
          {"period_id": "period", "user_id": "user", "updated_by_id": "user?"}),
    Table(Attempt, ("uuid",), {"user_id": "user", "quiz_id": "quiz"}, inner=(LAYOUT,)),
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
    # A hand-in (one version), named by its learner, assignment and version; its photos go
    # by hash before the batch (academy/sync/files.py), its review inside it.
    Table(Submission, ("user_id", "assignment_id", "version"),
          {"user_id": "user", "assignment_id": "assignment", "course_id": "course"},
          inner=(PHOTOS, REVIEW)),
)  # fmt: skip
BY_NAME = {t.name: t for t in TABLES}
UUID_MODELS = {"user": User, "class": Class, "attempt": Attempt, "certificate": Certificate,
               "period": Period}  # fmt: skip
# Course items named "slug/key" (the city's, from the course folder).
ITEM_MODELS = {"lesson": Lesson, "quiz": Quiz, "assignment": Assignment}
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

    # Names of course items: "slug", "slug/key", "slug/quiz-key/question-key".
    def _name_query(self, kind: str, ids: list[int]) -> Any:
        if kind in UUID_MODELS:
            model = UUID_MODELS[kind]
            return select(model.id, model.uuid).where(model.id.in_(ids))
        if kind == "room":
            return select(Room.id, Room.name).where(Room.id.in_(ids))
        if kind == "course":
            return select(Course.id, Course.slug).where(Course.id.in_(ids))
        if kind in ITEM_MODELS:
            model = ITEM_MODELS[kind]
            return (
                select(model.id, Course.slug + "/" + model.key)
                .join(Course, Course.id == model.course_id)
                .where(model.id.in_(ids))
            )
        if kind == "question":
            return (
                select(Question.id, Course.slug + "/" + Quiz.key + "/" + Question.key)
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
                known[row[0]] = row[1]
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
        elif kind in ITEM_MODELS:
            model = ITEM_MODELS[kind]
            for row in db.session.execute(
                select(Course.slug, model.key, model.id).join(Course, Course.id == model.course_id)
            ):
                known[f"{row[0]}/{row[1]}"] = row[2]
        elif kind == "question":
            for row in db.session.execute(
                select(Course.slug, Quiz.key, Question.key, Question.id)
                .join(Quiz, Quiz.id == Question.quiz_id)
                .join(Course, Course.id == Quiz.course_id)
            ):
                known[f"{row[0]}/{row[1]}/{row[2]}"] = row[3]
        return known

    def remember(self, kind: str, name: Any, local_id: int) -> None:
        self._in.setdefault(kind, {})[name] = local_id


# --- reading rows (the sender) -----------------------------------------------------------------


def pointers(table: Table, objects: list[Any]) -> dict[str, set[int]]:
    """The local ids the rows point at, by kind: their reference columns and what travels
    inside them."""
    by_kind: dict[str, set[int]] = {}
    for column, kind in table.refs.items():
        by_kind.setdefault(kind.rstrip("?"), set()).update(
            getattr(o, column) for o in objects if getattr(o, column) is not None
        )
    for inner in table.inner:
        for kind, ids in inner.pointers(objects).items():
            by_kind.setdefault(kind, set()).update(ids)
    return by_kind


def read(table: Table, objects: list[Any], names: Names) -> list[dict[str, Any]]:
    """The rows as they travel: their columns, and their references as names."""
    dates = _datetime_columns(table.model)
    resolved = {kind: names.names(kind, ids) for kind, ids in pointers(table, objects).items()}
    inner = {i.name: i.read(objects, resolved) for i in table.inner}
    out = []
    for index, o in enumerate(objects):
        row: dict[str, Any] = {}
        for column in table.columns():
            value = getattr(o, column)
            row[column] = value.isoformat() if column in dates and value is not None else value
        for column, kind in table.refs.items():
            local_id = getattr(o, column)
            row[column] = None if local_id is None else resolved[kind.rstrip("?")].get(local_id)
        for name, values in inner.items():
            row[name] = values[index]
        out.append(row)
    return out


def _date(table: str, column: str, value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise Refused(
            N_("%(table)s: %(column)s is not a date: %(value)s"),
            table=table,
            column=column,
            value=repr(value),
        ) from None


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
            if local_id is None and kind == "question":
                raise _Deleted(name)
            if local_id is None:
                if kind == "course" or kind in ITEM_MODELS:
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
        for column in (*table.columns(), *(i.name for i in table.inner)):
            if column not in row:
                raise Refused(
                    N_("%(table)s: a row without its %(column)s"), table=table.name, column=column
                )
        for column in table.columns():
            value = row[column]
            values[column] = _date(table.name, column, value) if column in dates else value
        return values

    def set_aside(self, table: str, row: dict[str, Any], question: Any, value: Any) -> None:
        """Keep what names a question the city deleted since the school received it (docs/
        sync.md, "Identity"), by the row and the question, the newest sending kept."""
        if self.peer_id is None:
            raise Refused(
                N_("%(table)s: the question '%(name)s' is not at the city"),
                table=table,
                name=str(question),
            )
        key = (str(row.get("uuid")), str(question))
        kept = db.session.scalar(
            select(SyncSetAside).where(
                SyncSetAside.table_name == table,
                SyncSetAside.row_uuid == key[0],
                SyncSetAside.question == key[1],
            )
        )
        kept = kept or SyncSetAside(table_name=table, row_uuid=key[0], question=key[1][:300])
        kept.peer_id, kept.row, kept.received_at = self.peer_id, value, utcnow()
        db.session.add(kept)

    def _apply_table(self, table: Table, rows: list[dict[str, Any]]) -> None:
        prepared, inners = [], []
        for row in rows:
            if not isinstance(row, dict):
                raise Refused(N_("%(table)s: a row that is not an object"), table=table.name)
            values = self._plain(table, row)
            try:
                values |= self._local(table, row)
            except _Deleted as deleted:  # an answer to a question the city has deleted
                self.set_aside(table.name, row, deleted.name, row)
                self.applied += 1
                continue
            for inner in table.inner:
                values |= inner.values(self, row, row[inner.name])
            prepared.append(values)
            inners.append(row)
        if not prepared:
            return
        existing = self._existing(table, prepared)
        applied = []
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
            applied.append(obj)
            self.applied += 1
        db.session.flush()
        for obj, row in zip(applied, inners, strict=True):
            for inner in table.inner:
                inner.apply(self, obj, row[inner.name])
        if table.inner:
            db.session.flush()
        if table.model is User:
            for obj in existing.values():
                self.school_users.add(obj.id)
        if table.key == ("uuid",):
            kind = {v: k for k, v in OWNED_KINDS.items()}.get(table.name)
            if kind:
                for obj in existing.values():
                    self.names.remember(kind, obj.uuid, obj.id)

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
