"""Generate a city's worth of Academy data for benchmarks: schools, computer rooms, classes of
40, learners, class enrolments, course progress and progress-event history.

    python -m bench.gen_city small  [DATABASE_URL]     # ~2,000 learners, seconds
    python -m bench.gen_city district [DATABASE_URL]   # ~20,000 learners
    python -m bench.gen_city city [DATABASE_URL]       # ~200,000 learners, ~10 M events

or from Python: `from bench.gen_city import generate; generate("small", url)`.

Rows go in with Core `insert()` executemany in batches (ids assigned here, so nothing is read
back); the schema is created if missing. Every learner shares one precomputed password hash
(password "bench-password"), which is fine for a benchmark database and nothing else.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text


@dataclass(frozen=True)
class Preset:
    schools: int
    rooms_per_school: int
    classes_per_room: int = 5
    learners_per_class: int = 40
    courses_per_class: int = 2
    events_per_start: int = 25  # ~50 events per learner with 2 courses


PRESETS = {
    "small": Preset(schools=5, rooms_per_school=2),  # 2,000 learners
    "district": Preset(schools=50, rooms_per_school=2),  # 20,000 learners
    "city": Preset(schools=109, rooms_per_school=9),  # 196,200 learners, ~10 M events
}
BATCH = 5000
# Every generated account (learners and teachers) signs in with this password.
PASSWORD = "bench-password"  # noqa: S105 (throwaway bench accounts)
DISTRICTS = ("ปทุมวัน", "บางรัก", "สาทร", "ดินแดง", "จตุจักร", "บางกะปิ", "ลาดพร้าว", "คลองเตย")
FIRST = ("สมชาย", "สุดา", "วิชัย", "มาลี", "ประเสริฐ", "กานดา", "ธนพล", "ปิยะนุช", "อนุชา", "ศิริพร")
LAST = ("ใจดี", "พรหมมา", "สุขสันต์", "ทองดี", "ศรีสุข", "บุญมา", "แก้วมณี", "วงศ์ไทย")


def generate(preset: str, database_url: str, seed: int = 2026, echo=print) -> dict[str, int]:
    """Fill the database at database_url; returns the number of rows inserted per table."""
    from academy import create_app
    from academy.auth.services import hash_password
    from academy.extensions import db

    spec = PRESETS[preset]
    rnd = random.Random(seed)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"})
    counts: dict[str, int] = {}
    started_clock = time.perf_counter()
    with app.app_context():
        db.create_all()
        tables = db.metadata.tables
        conn = db.session.connection()

        def next_id(table: str) -> int:
            return (conn.execute(select(func.max(tables[table].c.id))).scalar() or 0) + 1

        def put(table: str, rows: list[dict]) -> None:
            if rows:
                conn.execute(insert(tables[table]), rows)
                counts[table] = counts.get(table, 0) + len(rows)

        now = datetime.now(UTC).replace(microsecond=0)
        year_ago = now - timedelta(days=365)
        stamp = int(time.time())

        # Courses: the ones in the database, else six made here (two tracks).
        course_ids = list(
            conn.execute(
                select(tables["courses"].c.id).where(tables["courses"].c.status == "published")
            ).scalars()
        )
        if not course_ids:
            track_id = next_id("tracks")
            put("tracks", [
                {"id": track_id, "slug": f"bench-digital-{stamp}", "name_th": "ทักษะดิจิทัล",
                 "position": 1},
                {"id": track_id + 1, "slug": f"bench-seller-{stamp}", "name_th": "ผู้ค้าออนไลน์",
                 "position": 2},
            ])  # fmt: skip
            first = next_id("courses")
            course_ids = list(range(first, first + 6))
            put("courses", [
                {"id": cid, "slug": f"bench-{stamp}-{cid}", "title_th": f"วิชาทดสอบ {i + 1}",
                 "status": "published", "track_id": track_id + i % 2, "sequential": False,
                 "language": "th", "created_at": now, "updated_at": now}
                for i, cid in enumerate(course_ids)
            ])  # fmt: skip

        password_hash = hash_password(PASSWORD)
        school_id, room_id, class_id, user_id = (
            next_id("schools"), next_id("rooms"), next_id("classes"), next_id("users"),
        )  # fmt: skip
        schools, rooms, classes, instructors = [], [], [], []
        users, members, class_courses, enrolments = [], [], [], []
        progress, events = [], []
        event_id = next_id("progress_events")
        enrolment_id = next_id("enrolments")

        def flush(force: bool = False) -> None:
            # Parents before children, so foreign keys hold at every batch: when one list is
            # full, every list goes out, in this order.
            lists = (
                ("schools", schools), ("rooms", rooms), ("users", users), ("classes", classes),
                ("class_instructors", instructors), ("class_members", members),
                ("class_courses", class_courses), ("enrolments", enrolments),
                ("course_progress", progress), ("progress_events", events),
            )  # fmt: skip
            if not force and all(len(rows) < BATCH for _name, rows in lists):
                return
            for name, rows in lists:
                for start in range(0, len(rows), BATCH):
                    put(name, rows[start : start + BATCH])
                rows.clear()

        for s in range(spec.schools):
            schools.append({"id": school_id, "name": f"โรงเรียนทดสอบ {stamp}-{s + 1}",
                            "district": DISTRICTS[s % len(DISTRICTS)]})  # fmt: skip
            teacher = user_id
            users.append({"id": teacher, "username": f"t{stamp % 100000}-{s}", "full_name":
                          f"ครู {FIRST[s % 10]}", "password_hash": password_hash,
                          "role": "instructor", "learner_kind": None, "school_id": None,
                          "active": True, "must_change_password": False,
                          "session_version": 1, "created_at": now})  # fmt: skip
            user_id += 1
            for r in range(spec.rooms_per_school):
                rooms.append({"id": room_id, "school_id": school_id,
                              "name": f"ห้องคอม {r + 1}", "seats": 40})  # fmt: skip
                for c in range(spec.classes_per_room):
                    classes.append({"id": class_id, "name": f"ม.{c + 1}/{r + 1}",
                                    "room_id": room_id, "archived": False,
                                    "created_at": now, "join_code": None})  # fmt: skip
                    instructors.append({"class_id": class_id, "user_id": teacher})
                    chosen = rnd.sample(course_ids, min(spec.courses_per_class, len(course_ids)))
                    class_courses += [{"class_id": class_id, "course_id": k} for k in chosen]
                    for _n in range(spec.learners_per_class):
                        users.append({
                            "id": user_id, "username": f"s{stamp % 100000}-{user_id}",
                            "full_name": f"{rnd.choice(FIRST)} {rnd.choice(LAST)}",
                            "password_hash": password_hash, "role": "learner",
                            "learner_kind": "student", "school_id": school_id, "active": True,
                            "must_change_password": False, "session_version": 1,
                            "created_at": now,
                        })  # fmt: skip
                        members.append({"class_id": class_id, "user_id": user_id,
                                        "joined_at": year_ago})  # fmt: skip
                        for k in chosen:
                            enrolments.append({"id": enrolment_id, "user_id": user_id,
                                               "course_id": k, "source": "class",
                                               "created_at": year_ago})  # fmt: skip
                            enrolment_id += 1
                            if rnd.random() < 0.75:
                                start = year_ago + timedelta(seconds=rnd.randrange(360 * 86400))
                                last = min(now, start + timedelta(days=rnd.randrange(1, 90)))
                                done = last if rnd.random() < 0.45 else None
                                progress.append({
                                    "user_id": user_id, "course_id": k,
                                    "items_done": 10 if done else rnd.randrange(1, 10),
                                    "items_total": 10,
                                    "percent": 100.0 if done else rnd.randrange(5, 95),
                                    "started_at": start, "last_activity_at": last,
                                    "completed_at": done,
                                })  # fmt: skip
                                span = max(1, int((last - start).total_seconds()))
                                for _ in range(spec.events_per_start):
                                    events.append({
                                        "id": event_id, "user_id": user_id, "course_id": k,
                                        "kind": "lesson_viewed",
                                        "at": start + timedelta(seconds=rnd.randrange(span)),
                                    })  # fmt: skip
                                    event_id += 1
                        user_id += 1
                    class_id += 1
                    flush()
                room_id += 1
            school_id += 1
            flush()
        flush(force=True)
        # The "active learners per month" rollup progress keeps as events arrive, rebuilt from
        # the events inserted above (one INSERT ... SELECT DISTINCT).
        from academy.progress.services import rebuild_month_activity

        rollup_clock = time.perf_counter()
        counts["learner_month_activity"] = rebuild_month_activity()
        echo(f"learner_month_activity rebuilt in {time.perf_counter() - rollup_clock:.1f} s")
        if conn.dialect.name == "postgresql":
            for name in ("schools", "rooms", "classes", "users", "enrolments", "progress_events",
                         "courses", "tracks"):  # fmt: skip
                sql = "SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT COALESCE(MAX(id), 1) FROM %s))"  # noqa: E501
                conn.execute(text(sql % (name, name)))
        conn.execute(text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()
    seconds = time.perf_counter() - started_clock
    for name, n in counts.items():
        echo(f"{name:>18}: {n:>10,}")
    echo(f"{preset}: {sum(counts.values()):,} rows in {seconds:.1f} s")
    counts["seconds"] = round(seconds, 1)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset", choices=sorted(PRESETS))
    parser.add_argument("database_url", nargs="?", default="sqlite:///instance/bench.db")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    generate(args.preset, args.database_url, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
