"""School -> city: what the school owns, as batches in sequence order (docs/sync.md).

The sender reads the rows stamped after the city's mark; the receiver applies a batch in one
transaction and moves the mark in it. Nothing here commits: the caller's unit of work does."""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update

from academy.auth.models import User
from academy.classes.models import Class, Room
from academy.core import __version__
from academy.core.access import ADMIN
from academy.courses.models import Course
from academy.extensions import db
from academy.periods.models import Period
from academy.quizzes.models import Attempt, Quiz
from academy.sync.models import SyncAccount, SyncCounter, SyncCourse, SyncPeer, SyncTombstone
from academy.sync.problems import N_
from academy.sync.rows import (
    BY_NAME,
    OWNED_KINDS,
    TABLES,
    Names,
    Receiver,
    Refused,
    Table,
    pointers,
    read,
)

FORMAT = 1


def current_seq() -> int:
    counter = db.session.get(SyncCounter, 1)
    return counter.value if counter else 0


def start_stamping() -> None:
    """Number every change from now on, and every row already there (a school server that
    joins with learners already in it sends them all in its first round)."""
    from academy.sync.stamps import STAMPED_TABLES

    counter = db.session.get(SyncCounter, 1) or SyncCounter(id=1, value=0)
    counter.stamping = True
    db.session.add(counter)
    db.session.flush()
    for table in STAMPED_TABLES:
        # A constant table name, no input: an update that changes nothing fires the stamp.
        db.session.execute(db.text(f"UPDATE {table} SET sync_seq = sync_seq"))  # noqa: S608


def restamp_course(course_id: int) -> None:
    """Stamp again every owned record of a course (it came back after being withdrawn), so
    the records held back meanwhile are sent."""
    quizzes = select(Quiz.id).where(Quiz.course_id == course_id)
    for table in TABLES:
        model = table.model
        if "course_id" in table.refs:
            where = model.course_id == course_id
        elif model is Attempt:
            where = model.quiz_id.in_(quizzes)
        elif table.name == "responses":
            where = model.attempt_id.in_(select(Attempt.id).where(Attempt.quiz_id.in_(quizzes)))
        else:
            continue
        db.session.execute(update(model).where(where).values(sync_seq=model.sync_seq))


# --- the sender ---------------------------------------------------------------------------------


def _school_account(school_id: int) -> Any:
    """The school's accounts on its server: those of its school, and every other account made
    there that names no school (a class import, a join code, the people page), except the
    server's own admins, who look after the PC and are nobody's learners at the city."""
    return (User.school_id == school_id) | (User.school_id.is_(None) & (User.role != ADMIN))


def _owned(table: Table, school_id: int) -> Any:
    """The rows of `table` this school server owns: its school's accounts and classes, and
    their records in the city's courses (a course made only here stays here)."""
    model = table.model
    users = select(User.id).where(_school_account(school_id))
    classes = select(Class.id).where(
        Class.room_id.in_(select(Room.id).where(Room.school_id == school_id))
    )
    courses = select(Course.id).where(
        Course.slug.in_(select(SyncCourse.slug).where(SyncCourse.withdrawn_at.is_(None)))
    )
    if model is User:
        return _school_account(school_id)
    if model is Class:
        return model.id.in_(classes)
    conditions = []
    if "class_id" in table.refs:
        conditions.append(model.class_id.in_(classes))
    if "user_id" in table.refs:
        conditions.append(model.user_id.in_(users))
    if "course_id" in table.refs:
        conditions.append(model.course_id.in_(courses))
    if model is Attempt:
        conditions.append(model.quiz_id.in_(select(Quiz.id).where(Quiz.course_id.in_(courses))))
    if table.name == "period_attendance":
        conditions.append(
            model.period_id.in_(select(Period.id).where(Period.class_id.in_(classes)))
        )
    if table.name == "responses":
        conditions.append(
            model.attempt_id.in_(
                select(Attempt.id).where(
                    Attempt.user_id.in_(users),
                    Attempt.quiz_id.in_(select(Quiz.id).where(Quiz.course_id.in_(courses))),
                )
            )
        )
    return db.and_(*conditions)


@dataclass
class Batch:
    from_seq: int
    to_seq: int
    rows: dict[str, list[dict[str, Any]]]
    deleted: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.rows.values()) + sum(map(len, self.deleted.values()))

    def envelope(self, peer: str) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "academy": __version__,
            "peer": peer,
            "from_seq": self.from_seq,
            "to_seq": self.to_seq,
            "rows": self.rows,
            "deleted": self.deleted,
        }


def next_batch(school_id: int, mark: int, limit: int) -> Batch | None:
    """The owned rows stamped after `mark`, lowest first, at most `limit` of them (and the
    rows they point at); None when nothing is waiting."""
    top = current_seq()
    if top <= mark:
        return None
    picked: list[tuple[int, Table, Any]] = []
    for table in TABLES:
        model = table.model
        # Up to `top` only: every change numbered up to it has committed (the counter's lock
        # orders the writers), so each table's query sees the same changes even where every
        # statement reads afresh (PostgreSQL's READ COMMITTED).
        query = (
            select(model)
            .where(model.sync_seq > mark, model.sync_seq <= top, _owned(table, school_id))
            .order_by(model.sync_seq)
            .limit(limit)
        )
        picked.extend((o.sync_seq, table, o) for o in db.session.scalars(query))
    tombstones = (
        select(SyncTombstone)
        .where(SyncTombstone.seq > mark, SyncTombstone.seq <= top)
        .order_by(SyncTombstone.seq)
        .limit(limit)
    )
    picked.extend((t.seq, None, t) for t in db.session.scalars(tombstones))
    picked.sort(key=lambda item: item[0])
    full = len(picked) >= limit
    picked = picked[:limit]
    # Every owned row stamped up to to_seq is in the batch: the `limit` lowest of all tables.
    to_seq = picked[-1][0] if full else top
    chosen: dict[str, dict[int, Any]] = {t.name: {} for t in TABLES}
    for _seq, table, obj in picked:
        if table is not None:
            chosen[table.name][id(obj)] = obj
    _ride_along(chosen, school_id, to_seq)
    names = Names()
    rows = {}
    for table in TABLES:
        objects = list(chosen[table.name].values())
        if objects:
            rows[table.name] = read(table, objects, names)
            _drop_foreign_refs(table, objects, rows[table.name], school_id)
    deleted = _deleted([obj for _seq, table, obj in picked if table is None], school_id, names)
    return Batch(mark, to_seq, rows, deleted)


def _is_owned(kind: str, local_id: int, school_id: int) -> bool:
    target = BY_NAME[OWNED_KINDS[kind]]
    query = select(target.model.id).where(target.model.id == local_id, _owned(target, school_id))
    return db.session.scalar(query) is not None


def _deleted(tombstones: list[Any], school_id: int, names: Names) -> dict[str, list[dict]]:
    """The removals to send, by the rows' names. Left out: a key that lives again (a member
    removed and added back: the new row is sent), and a key whose parent is gone too (the
    parent's removal removes it at the city) or is not the school's."""
    out: dict[str, list[dict]] = {}
    for tombstone in tombstones:
        table = BY_NAME.get(tombstone.table_name)
        if table is None:
            continue
        model, key = table.model, tombstone.key
        live = select(func.count()).select_from(model)
        live = live.where(*(getattr(model, c) == key[c] for c in table.key))
        if db.session.scalar(live):
            continue
        named: dict[str, Any] = {}
        for column in table.key:
            kind = table.refs.get(column, "").rstrip("?")
            if not kind:
                named[column] = key[column]
                continue
            name = names.names(kind, {key[column]}).get(key[column])
            if name is None or (
                kind in OWNED_KINDS and not _is_owned(kind, key[column], school_id)
            ):
                break
            named[column] = name
        else:
            out.setdefault(table.name, []).append(named)
    return out


def _ride_along(chosen: dict[str, dict[int, Any]], school_id: int, to_seq: int) -> None:
    """Add the owned rows that chosen rows point at and that are stamped after this batch (a
    learner's account changed after their event), so the city can apply each batch alone. A
    row stamped up to `to_seq` is at the city already or in this batch."""
    for table in reversed(TABLES):  # responses -> attempts -> users: children first
        for kind, ids in pointers(table, list(chosen[table.name].values())).items():
            target_name = OWNED_KINDS.get(kind)
            if target_name is None:
                continue
            target = BY_NAME[target_name]
            have = {o.id for o in chosen[target_name].values()}
            wanted = ids - have - {None}
            if not wanted:
                continue
            model = target.model
            for start in range(0, len(wanted), 500):
                chunk = list(wanted)[start : start + 500]
                query = select(model).where(
                    model.id.in_(chunk),
                    _owned(target, school_id),
                    (model.sync_seq > to_seq) | model.sync_seq.is_(None),
                )
                for obj in db.session.scalars(query):
                    chosen[target_name][id(obj)] = obj


def _drop_foreign_refs(
    table: Table, objects: list[Any], rows: list[dict[str, Any]], school_id: int
) -> None:
    """An optional pointer at a row this school does not own (the local admin who created a
    class) travels as None rather than as a name the city cannot place."""
    for column, kind in table.refs.items():
        target = OWNED_KINDS.get(kind.rstrip("?"))
        if target is None or not kind.endswith("?"):
            continue
        ids = list({getattr(o, column) for o in objects} - {None})
        model = BY_NAME[target].model
        owned = set()
        for start in range(0, len(ids), 500):
            owned.update(
                db.session.scalars(
                    select(model.id).where(
                        model.id.in_(ids[start : start + 500]), _owned(BY_NAME[target], school_id)
                    )
                )
            )
        for obj, row in zip(objects, rows, strict=True):
            if getattr(obj, column) is not None and getattr(obj, column) not in owned:
                row[column] = None


def pack(envelope: dict[str, Any]) -> tuple[bytes, str]:
    """The batch as it travels: gzip of the JSON, and the JSON's SHA-256."""
    raw = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
    return gzip.compress(raw, compresslevel=6), hashlib.sha256(raw).hexdigest()


# --- the receiver ---------------------------------------------------------------------------------


class Behind(Refused):
    """The batch starts above the city's mark: applying it would leave a gap."""


# A batch of 2,000 rows is a few MB of JSON; anything far past that is not a batch of ours
# (and a small gzip can unpack to gigabytes).
MAX_UNPACKED_BYTES = 64 * 1024 * 1024


def _gunzip(body: bytes) -> bytes:
    unpacker = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        raw = unpacker.decompress(body, MAX_UNPACKED_BYTES)
    except zlib.error:
        raise Refused(N_("the batch is truncated or corrupted (it does not decompress)")) from None
    if unpacker.unconsumed_tail:
        raise Refused(
            N_("the batch unpacks to more than %(mb)d MB"), mb=MAX_UNPACKED_BYTES // 2**20
        )
    if not unpacker.eof or unpacker.unused_data:
        raise Refused(N_("the batch is truncated or corrupted (it does not decompress)"))
    return raw


def unpack(body: bytes, digest: str | None) -> dict[str, Any]:
    raw = _gunzip(body)
    if not digest or hashlib.sha256(raw).hexdigest() != digest:
        raise Refused(N_("the batch is truncated or corrupted (its SHA-256 does not match)"))
    try:
        envelope = json.loads(raw)
    except (ValueError, RecursionError):
        raise Refused(N_("the batch is truncated or corrupted (not JSON)")) from None
    if not isinstance(envelope, dict):
        raise Refused(N_("the batch is not a JSON object"))
    return envelope


def check_version(envelope: dict[str, Any]) -> None:
    theirs = envelope.get("academy")
    if theirs != __version__ or envelope.get("format") != FORMAT:
        raise Refused(
            N_(
                "the school server runs Academy %(school)s and the city runs Academy %(city)s; "
                "upgrade the older one, then sync again"
            ),
            school=str(theirs),
            city=__version__,
        )


def apply_batch(peer: SyncPeer, envelope: dict[str, Any]) -> tuple[int, bool]:
    """Apply one batch for `peer` and move its mark, in the caller's transaction. Returns
    (rows applied, whether it was new); a batch at or below the mark changes nothing."""
    check_version(envelope)
    if envelope.get("peer") != peer.uuid:
        raise Refused(N_("the batch names another school server"))
    from_seq, to_seq = envelope.get("from_seq"), envelope.get("to_seq")
    if not isinstance(from_seq, int) or not isinstance(to_seq, int) or to_seq < from_seq:
        raise Refused(N_("the batch has no valid sequence range"))
    # Locks the peer's row: two rounds of one school at once apply one after the other.
    peer = db.session.scalar(select(SyncPeer).where(SyncPeer.id == peer.id).with_for_update())
    if to_seq <= peer.pushed_seq:
        return 0, False
    if from_seq != peer.pushed_seq:
        raise Behind(
            N_("the batch starts after change %(start)d but the city has applied up to %(mark)d"),
            start=from_seq,
            mark=peer.pushed_seq,
        )
    rows = envelope.get("rows")
    if not isinstance(rows, dict):
        raise Refused(N_("the batch has no rows object"))
    deleted = envelope.get("deleted", {})
    if not isinstance(deleted, dict):
        raise Refused(N_("the batch's removals are not an object"))
    receiver = Receiver(peer.school_id, peer.id)
    count = receiver.apply(rows) + receiver.delete(deleted)
    for user in receiver.new_users:  # the school's from now on: auth refuses to change them
        db.session.add(SyncAccount(user_id=user.id, peer_id=peer.id))
    peer.pushed_seq = to_seq
    return count, True
