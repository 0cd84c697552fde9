"""The change sequence (docs/sync.md, "Sequence and marks"): a trigger on every pushed table
stamps each inserted or updated row with the next value of one counter row. Triggers, not ORM
events, because rows are also written by bulk inserts and `UPDATE ... WHERE` statements that
the ORM never sees; one counter row, because its row lock (PostgreSQL) or the write lock
(SQLite) makes sequence order commit order. Stamping is off until the school server joins.
A delete leaves a tombstone (sync_tombstones) numbered from the same counter, holding the
row's key, so removals travel in the same order as everything else."""

from __future__ import annotations

from sqlalchemy.engine import Connection

# Every table whose rows a school server pushes (the models with core.db.Stamped). Spelled
# out rather than read from the models, so the migration installs exactly these.
STAMPED_TABLES = (
    "users",
    "classes",
    "class_instructors",
    "class_members",
    "class_courses",
    "enrolments",
    "progress_events",
    "learner_month_activity",
    "lesson_progress",
    "quiz_results",
    "course_progress",
    "attempts",
    "responses",
    "certificates",
    "periods",
    "period_attendance",
    "submissions",
)

# The columns that name a deleted row (its UUID, or its primary key of parents' ids).
KEY_COLUMNS = {
    "users": ("uuid",), "classes": ("uuid",), "progress_events": ("uuid",),
    "attempts": ("uuid",), "responses": ("uuid",), "certificates": ("uuid",),
    "periods": ("uuid",),
    "class_instructors": ("class_id", "user_id"), "class_members": ("class_id", "user_id"),
    "class_courses": ("class_id", "course_id"), "enrolments": ("user_id", "course_id"),
    "learner_month_activity": ("month", "user_id", "course_id"),
    "lesson_progress": ("user_id", "lesson_id"), "quiz_results": ("user_id", "quiz_id"),
    "course_progress": ("user_id", "course_id"), "period_attendance": ("period_id", "user_id"),
    "submissions": ("user_id", "assignment_id", "version"),
}  # fmt: skip

_PG_TOMBSTONE = """
CREATE OR REPLACE FUNCTION sync_tombstone() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  seq bigint;
BEGIN
  IF COALESCE((SELECT stamping FROM sync_counter WHERE id = 1), false) THEN
    UPDATE sync_counter SET value = value + 1 WHERE id = 1 RETURNING value INTO seq;
    INSERT INTO sync_tombstones (seq, table_name, key) VALUES (seq, TG_TABLE_NAME, to_json(OLD));
  END IF;
  RETURN OLD;
END $$
"""

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION sync_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.sync_seq IS DISTINCT FROM OLD.sync_seq THEN
    RETURN NEW;
  END IF;
  IF COALESCE((SELECT stamping FROM sync_counter WHERE id = 1), false) THEN
    UPDATE sync_counter SET value = value + 1 WHERE id = 1 RETURNING value INTO NEW.sync_seq;
  END IF;
  RETURN NEW;
END $$
"""

_SQLITE_BODY = """
BEGIN
  UPDATE sync_counter SET value = value + 1 WHERE id = 1;
  UPDATE {t} SET sync_seq = (SELECT value FROM sync_counter WHERE id = 1) WHERE rowid = NEW.rowid;
END
"""
_SQLITE_ON = "(SELECT stamping FROM sync_counter WHERE id = 1)"


def install(connection: Connection, tables: tuple[str, ...] = STAMPED_TABLES) -> None:
    """Create (or replace) the stamping triggers on `tables`."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(_PG_FUNCTION)
        connection.exec_driver_sql(_PG_TOMBSTONE)
        for t in tables:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS sync_stamp_{t} ON {t}")
            connection.exec_driver_sql(
                f"CREATE TRIGGER sync_stamp_{t} BEFORE INSERT OR UPDATE ON {t} "
                "FOR EACH ROW EXECUTE FUNCTION sync_stamp()"
            )
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS sync_tombstone_{t} ON {t}")
            connection.exec_driver_sql(
                f"CREATE TRIGGER sync_tombstone_{t} AFTER DELETE ON {t} "
                "FOR EACH ROW EXECUTE FUNCTION sync_tombstone()"
            )
        return
    for t in tables:
        body = _SQLITE_BODY.format(t=t)
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS sync_stamp_insert_{t}")
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS sync_stamp_update_{t}")
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS sync_tombstone_{t}")
        key = ", ".join(f"'{c}', OLD.{c}" for c in KEY_COLUMNS[t])
        # Constant table and column names, no input.
        tombstone = (
            f"CREATE TRIGGER sync_tombstone_{t} AFTER DELETE ON {t} WHEN {_SQLITE_ON} BEGIN "  # noqa: S608
            "UPDATE sync_counter SET value = value + 1 WHERE id = 1; "
            "INSERT INTO sync_tombstones (seq, table_name, key) VALUES "
            f"((SELECT value FROM sync_counter WHERE id = 1), '{t}', json_object({key})); END"
        )
        connection.exec_driver_sql(tombstone)
        connection.exec_driver_sql(
            f"CREATE TRIGGER sync_stamp_insert_{t} AFTER INSERT ON {t} WHEN {_SQLITE_ON} {body}"
        )
        # The trigger's own UPDATE changes sync_seq, so it does not stamp twice.
        connection.exec_driver_sql(
            f"CREATE TRIGGER sync_stamp_update_{t} AFTER UPDATE ON {t} "
            f"WHEN NEW.sync_seq IS OLD.sync_seq AND {_SQLITE_ON} {body}"
        )


def uninstall(
    connection: Connection, tables: tuple[str, ...] = STAMPED_TABLES, functions: bool = True
) -> None:
    """Drop the triggers on `tables`, and on PostgreSQL their functions unless `functions` is
    false (a migration taking a few tables out while the others keep stamping)."""
    if connection.dialect.name == "postgresql":
        for t in tables:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS sync_stamp_{t} ON {t}")
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS sync_tombstone_{t} ON {t}")
        if functions:
            connection.exec_driver_sql("DROP FUNCTION IF EXISTS sync_stamp()")
            connection.exec_driver_sql("DROP FUNCTION IF EXISTS sync_tombstone()")
        return
    for t in tables:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS sync_tombstone_{t}")
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS sync_stamp_insert_{t}")
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS sync_stamp_update_{t}")
