"""The completion rollup (report_completion, report_learners), kept by database triggers.

What the completion reports count are *pairs*: an enrolment (learner, course), and a class's
member times a class's course (learner, course, class). Every change that adds or removes pairs,
moves them between groups, or starts or completes one, is a row change in one of seven tables:
enrolments, class_members, class_courses, course_progress (first_activity_at, completed_at),
users (school_id), classes (room_id, programme_id) and courses (track_id); a deleted learner,
class or course removes its pairs first (a BEFORE DELETE trigger deletes its enrolments and
memberships, so the cascade finds the learner's school and the course's track still there).

Triggers, not service calls or ORM events, for the reason sync's stamps are triggers: these rows
are also written by bulk inserts, `UPDATE ... WHERE` statements the ORM never sees, foreign-key
cascades and a school's sync batch. Each trigger names the pairs its row touches (a SELECT of
class_id, user_id, course_id) and applies one template (`_apply`): the counts per class, school
and course, and each learner's pairs per group (so "learners" stays a distinct count). The
rebuild applies the same template to every pair. One template, one place.

The SQL is written once for both databases: NEW and OLD mean the same in a SQLite trigger body
and a PL/pgSQL function; only the wrapping and `IS DISTINCT FROM` differ. A migration that
rebuilds one of the seven tables on SQLite drops its triggers: call `install` again (as for
academy.sync.stamps).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection

PREFIX = "report_rollup"

# The pairs of a row, as `SELECT class_id, user_id, course_id` (class_id 0: an enrolment).
_ALL = (
    "SELECT 0 AS class_id, e.user_id AS user_id, e.course_id AS course_id FROM enrolments e"
    " UNION ALL SELECT cm.class_id, cm.user_id, cc.course_id FROM class_members cm"
    " JOIN class_courses cc ON cc.class_id = cm.class_id"
)


def _of_enrolment(row: str) -> str:
    return f"SELECT 0 AS class_id, {row}.user_id AS user_id, {row}.course_id AS course_id"


def _of_member(row: str) -> str:
    return (
        f"SELECT {row}.class_id AS class_id, {row}.user_id AS user_id, cc.course_id AS course_id"
        f" FROM class_courses cc WHERE cc.class_id = {row}.class_id"
    )


def _of_class_course(row: str) -> str:
    return (
        f"SELECT {row}.class_id AS class_id, cm.user_id AS user_id, {row}.course_id AS course_id"
        f" FROM class_members cm WHERE cm.class_id = {row}.class_id"
    )


def _of_learner(user: str, course: str | None = None) -> str:
    """Every pair of a learner (in one course, when `course` is given)."""
    in_e = f" AND e.course_id = {course}" if course else ""
    in_cc = f" AND cc.course_id = {course}" if course else ""
    return (
        "SELECT 0 AS class_id, e.user_id AS user_id, e.course_id AS course_id FROM enrolments e"
        f" WHERE e.user_id = {user}{in_e}"
        " UNION ALL SELECT cm.class_id, cm.user_id, cc.course_id FROM class_members cm"
        f" JOIN class_courses cc ON cc.class_id = cm.class_id WHERE cm.user_id = {user}{in_cc}"
    )


def _of_class(klass: str) -> str:
    return (
        "SELECT cm.class_id AS class_id, cm.user_id AS user_id, cc.course_id AS course_id"
        " FROM class_members cm JOIN class_courses cc ON cc.class_id = cm.class_id"
        f" WHERE cm.class_id = {klass}"
    )


def _of_course_enrolments(course: str) -> str:
    return (
        "SELECT 0 AS class_id, e.user_id AS user_id, e.course_id AS course_id FROM enrolments e"
        f" WHERE e.course_id = {course}"
    )


# Which group a pair counts in, per dimension: (the group, which pairs). Enrolments give the
# school, track and course reports; class pairs the room and programme reports (a class with no
# room or programme is in neither, as the reports' inner joins say).
_GROUPS = {
    "school": ("COALESCE({school}, 0)", "p.class_id = 0"),
    "track": ("COALESCE({track}, 0)", "p.class_id = 0"),
    "room": ("{room}", "p.class_id <> 0 AND {room} IS NOT NULL"),
    "programme": ("{programme}", "p.class_id <> 0 AND {programme} IS NOT NULL"),
}
_CURRENT = {"school": "u.school_id", "track": "c.track_id", "room": "k.room_id",
            "programme": "k.programme_id"}  # fmt: skip


def _flag(row: str, column: str) -> str:
    return f"(CASE WHEN {row}.{column} IS NULL THEN 0 ELSE 1 END)"


def _apply(
    pairs: str,
    sign: int,
    *,
    counts: bool = True,
    dimensions: tuple[str, ...] = tuple(_GROUPS),
    old: dict[str, str] | None = None,
    started: str | None = None,
    completed: str | None = None,
) -> list[str]:
    """Statements adding (sign 1) or removing (-1) `pairs` from the rollup. `old` names the
    values a pair was counted under before an update (the learner's old school, say);
    `started`/`completed` give a change of the learner's progress instead of pairs."""
    where = dict(_CURRENT, **(old or {}))
    source = (
        f"({pairs}) AS p JOIN users u ON u.id = p.user_id JOIN courses c ON c.id = p.course_id"
        " LEFT JOIN classes k ON k.id = p.class_id"
        " LEFT JOIN course_progress cp ON cp.user_id = p.user_id AND cp.course_id = p.course_id"
    )
    school = f"COALESCE({where['school']}, 0)"
    statements = []
    if counts:
        if started is None:
            enrolled, started, completed = (
                f"{sign} * COUNT(*)",
                f"{sign} * COUNT(cp.first_activity_at)",
                f"{sign} * COUNT(cp.completed_at)",
            )
        else:
            enrolled, started, completed = "0", f"{started} * COUNT(*)", f"{completed} * COUNT(*)"
        statements.append(
            "INSERT INTO report_completion (class_id, school_id, course_id, enrolled, started,"
            f" completed) SELECT p.class_id, {school}, p.course_id, {enrolled}, {started},"
            f" {completed} FROM {source} WHERE 1 = 1 GROUP BY 1, 2, 3"
            " ON CONFLICT (class_id, school_id, course_id) DO UPDATE SET"
            " enrolled = report_completion.enrolled + excluded.enrolled,"
            " started = report_completion.started + excluded.started,"
            " completed = report_completion.completed + excluded.completed"
        )
    for dimension in dimensions:
        group, condition = (s.format(**where) for s in _GROUPS[dimension])
        statements.append(
            "INSERT INTO report_learners (dimension, group_id, user_id, school_id, pairs)"
            f" SELECT '{dimension}', {group}, p.user_id, {school}, {sign} * COUNT(*)"
            f" FROM {source} WHERE {condition} GROUP BY 2, 3, 4"
            " ON CONFLICT (dimension, group_id, user_id) DO UPDATE SET"
            " pairs = report_learners.pairs + excluded.pairs, school_id = excluded.school_id"
        )
    if sign < 0:
        if counts:
            statements.append(
                "DELETE FROM report_completion WHERE enrolled = 0"
                f" AND course_id IN (SELECT p.course_id FROM ({pairs}) AS p)"
            )
        if dimensions:
            statements.append(
                "DELETE FROM report_learners WHERE pairs = 0"
                f" AND user_id IN (SELECT p.user_id FROM ({pairs}) AS p)"
            )
    return statements


def _moved(pairs: str, old: dict[str, str], **kwargs) -> list[str]:
    """The pairs leave the groups of their old values and join those of the new ones."""
    return _apply(pairs, -1, old=old, **kwargs) + _apply(pairs, 1, **kwargs)


def _progress_change(row_new: str | None, row_old: str | None) -> list[str]:
    def delta(column: str) -> str:
        new = _flag(row_new, column) if row_new else "0"
        old = _flag(row_old, column) if row_old else "0"
        return f"({new} - {old})"

    row = row_new or row_old
    return _apply(
        _of_learner(f"{row}.user_id", f"{row}.course_id"),
        1,
        dimensions=(),
        started=delta("first_activity_at"),
        completed=delta("completed_at"),
    )


@dataclass(frozen=True)
class Trigger:
    name: str
    timing: str  # "AFTER INSERT", "AFTER UPDATE OF x, y", "BEFORE DELETE", ...
    table: str
    when: str | None  # with {distinct} for "IS NOT" / "IS DISTINCT FROM"
    statements: tuple[str, ...]


def _either_changed(*columns: str) -> str:
    return " OR ".join(f"OLD.{c} {{distinct}} NEW.{c}" for c in columns)


_PROGRESS_FLAGS = ("first_activity_at", "completed_at")

TRIGGERS: tuple[Trigger, ...] = (
    Trigger("enrolment_added", "AFTER INSERT", "enrolments", None,
            tuple(_apply(_of_enrolment("NEW"), 1))),
    Trigger("enrolment_removed", "AFTER DELETE", "enrolments", None,
            tuple(_apply(_of_enrolment("OLD"), -1))),
    Trigger("member_added", "AFTER INSERT", "class_members", None,
            tuple(_apply(_of_member("NEW"), 1))),
    Trigger("member_removed", "AFTER DELETE", "class_members", None,
            tuple(_apply(_of_member("OLD"), -1))),
    Trigger("class_course_added", "AFTER INSERT", "class_courses", None,
            tuple(_apply(_of_class_course("NEW"), 1))),
    Trigger("class_course_removed", "AFTER DELETE", "class_courses", None,
            tuple(_apply(_of_class_course("OLD"), -1))),
    Trigger("progress_added", "AFTER INSERT", "course_progress",
            "NEW.first_activity_at IS NOT NULL OR NEW.completed_at IS NOT NULL",
            tuple(_progress_change("NEW", None))),
    Trigger("progress_changed", "AFTER UPDATE OF first_activity_at, completed_at",
            "course_progress",
            " OR ".join(f"(OLD.{c} IS NULL) <> (NEW.{c} IS NULL)" for c in _PROGRESS_FLAGS),
            tuple(_progress_change("NEW", "OLD"))),
    Trigger("progress_removed", "AFTER DELETE", "course_progress",
            "OLD.first_activity_at IS NOT NULL OR OLD.completed_at IS NOT NULL",
            tuple(_progress_change(None, "OLD"))),
    Trigger("learner_moved", "AFTER UPDATE OF school_id", "users", _either_changed("school_id"),
            tuple(_moved(_of_learner("NEW.id"), {"school": "OLD.school_id"}))),
    Trigger("class_moved", "AFTER UPDATE OF room_id, programme_id", "classes",
            _either_changed("room_id", "programme_id"),
            tuple(_moved(_of_class("NEW.id"),
                         {"room": "OLD.room_id", "programme": "OLD.programme_id"},
                         counts=False, dimensions=("room", "programme")))),
    Trigger("course_moved", "AFTER UPDATE OF track_id", "courses", _either_changed("track_id"),
            tuple(_moved(_of_course_enrolments("NEW.id"), {"track": "OLD.track_id"},
                         counts=False, dimensions=("track",)))),
    # Before the row goes, so its pairs leave the groups it names (a cascade would run after).
    Trigger("learner_deleted", "BEFORE DELETE", "users", None,
            ("DELETE FROM enrolments WHERE user_id = OLD.id",
             "DELETE FROM class_members WHERE user_id = OLD.id")),
    Trigger("course_deleted", "BEFORE DELETE", "courses", None,
            ("DELETE FROM enrolments WHERE course_id = OLD.id",
             "DELETE FROM class_courses WHERE course_id = OLD.id")),
    Trigger("class_deleted", "BEFORE DELETE", "classes", None,
            ("DELETE FROM class_members WHERE class_id = OLD.id",)),
)  # fmt: skip


def install(connection: Connection) -> None:
    """Create (or replace) the rollup's triggers."""
    uninstall(connection)
    postgres = connection.dialect.name == "postgresql"
    for trigger in TRIGGERS:
        name = f"{PREFIX}_{trigger.name}"
        body = ";\n  ".join(trigger.statements)
        when = trigger.when.format(distinct="IS DISTINCT FROM" if postgres else "IS NOT") if (
            trigger.when
        ) else None  # fmt: skip
        if postgres:
            result = "OLD" if trigger.timing.startswith("BEFORE") else "NULL"
            connection.exec_driver_sql(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                f"BEGIN\n  {body};\n  RETURN {result};\nEND $$"
            )
            condition = f" WHEN ({when})" if when else ""
            connection.exec_driver_sql(
                f"CREATE TRIGGER {name} {trigger.timing} ON {trigger.table} FOR EACH ROW"
                f"{condition} EXECUTE FUNCTION {name}()"
            )
        else:
            condition = f" WHEN {when}" if when else ""
            connection.exec_driver_sql(
                f"CREATE TRIGGER {name} {trigger.timing} ON {trigger.table} FOR EACH ROW"
                f"{condition} BEGIN\n  {body};\nEND"
            )


def uninstall(connection: Connection) -> None:
    postgres = connection.dialect.name == "postgresql"
    for trigger in TRIGGERS:
        name = f"{PREFIX}_{trigger.name}"
        if postgres:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {trigger.table}")
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


def rebuild(connection: Connection) -> tuple[int, int]:
    """Empty the rollup and count every pair again from the rows (after loading rows with the
    triggers off, or to check it); returns (count rows, learner rows). The caller commits."""
    connection.execute(text("DELETE FROM report_completion"))
    connection.execute(text("DELETE FROM report_learners"))
    for statement in _apply(_ALL, 1):
        connection.exec_driver_sql(statement)
    return (
        connection.execute(text("SELECT COUNT(*) FROM report_completion")).scalar_one(),
        connection.execute(text("SELECT COUNT(*) FROM report_learners")).scalar_one(),
    )
