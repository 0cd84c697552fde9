"""Joining, authentication and rounds (docs/sync.md). The city registers school servers and
answers them; a school server joins once and then runs rounds, one at a time: the changes the
city asked of its accounts, push, then pull."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from academy.classes.models import Room, School
from academy.core import __version__, transaction
from academy.core.clock import utcnow
from academy.core.errors import ConfigError, ServiceError
from academy.extensions import db
from academy.studio.loader import CourseFormatError
from academy.sync import client, files, pull, push, relay
from academy.sync.models import SyncLink, SyncPeer, SyncTombstone
from academy.sync.problems import N_, Problem, keep
from academy.sync.rows import Refused

CITY = "city"
SCHOOL = "school"
TOKEN_DAYS = 7


def role() -> str:
    return SCHOOL if current_app.config.get("SYNC_ROLE") == SCHOOL else CITY


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- the city -----------------------------------------------------------------------------------


def enrolment_token() -> str:
    """A one-time enrolment token (192 random bits) that never starts with "-": the admin
    types it after `sync join CITY_URL`, where a leading dash would read as an option (one
    token in 64 did: "No such option '-e'")."""
    while (token := secrets.token_urlsafe(24)).startswith("-"):
        pass
    return token


def register(school_name: str, now: datetime | None = None) -> tuple[SyncPeer, str]:
    """Register a school server for the school of that name (added if the city has none) and
    return it with its one-time enrolment token (shown once; only its hash is kept)."""
    if role() != CITY:
        raise ServiceError(_("Only the city server registers school servers."))
    name = (school_name or "").strip()
    if not name:
        raise ServiceError(_("Name the school."), field="school")
    school = db.session.scalar(select(School).where(School.name == name))
    if school is None:
        school = School(name=name[:200])
        db.session.add(school)
        db.session.flush()
    token = enrolment_token()
    peer = SyncPeer(
        uuid=str(uuid.uuid4()),
        school_id=school.id,
        token_hash=_hash(token),
        token_expires_at=(now or utcnow()) + timedelta(days=TOKEN_DAYS),
    )
    db.session.add(peer)
    db.session.flush()
    return peer, token


def redeem(token: str, now: datetime | None = None) -> tuple[SyncPeer, str]:
    """Spend an enrolment token: the peer and its new secret (the city keeps the hash)."""
    now = now or utcnow()
    peer = db.session.scalar(
        select(SyncPeer).where(SyncPeer.token_hash == _hash(token or "")).with_for_update()
    )
    if peer is None or peer.revoked_at is not None or peer.token_expires_at < now:
        raise Refused(N_("the enrolment token is not valid (wrong, already used or expired)"))
    secret = secrets.token_urlsafe(32)
    peer.secret_hash, peer.token_hash, peer.joined_at = _hash(secret), None, now
    return peer, secret


def authenticate(header: str | None) -> SyncPeer:
    """The school server a request's `Authorization: Bearer <peer>.<secret>` names."""
    scheme, _sep, credential = (header or "").partition(" ")
    peer_id, _dot, secret = credential.partition(".")
    peer = db.session.scalar(select(SyncPeer).where(SyncPeer.uuid == peer_id))
    if scheme != "Bearer" or peer is None or peer.secret_hash is None:
        raise Refused(N_("not a registered school server"))
    if not hmac.compare_digest(peer.secret_hash, _hash(secret)):
        raise Refused(N_("not a registered school server"))
    if peer.revoked_at is not None:
        raise Refused(N_("this school server was revoked at the city; register it again"))
    return peer


def revoke(peer: SyncPeer, now: datetime | None = None) -> None:
    peer.revoked_at = now or utcnow()
    peer.token_hash = None


def peers() -> list[SyncPeer]:
    return list(db.session.scalars(select(SyncPeer).order_by(SyncPeer.created_at)))


def peer_by_uuid(peer_uuid: str) -> SyncPeer | None:
    return db.session.scalar(select(SyncPeer).where(SyncPeer.uuid == peer_uuid))


def join_answer(peer: SyncPeer, secret: str) -> dict:
    school = peer.school
    return {
        "peer": peer.uuid,
        "secret": secret,
        "academy": __version__,
        "school": {"uuid": school.uuid, "name": school.name, "district": school.district,
                   "rooms": [{"name": r.name, "seats": r.seats} for r in school.rooms]},
    }  # fmt: skip


def receive(peer: SyncPeer, body: bytes, digest: str | None) -> dict:
    """Apply one pushed batch in this request's transaction; the error is kept on the peer."""
    envelope = push.unpack(body, digest)
    count, new = push.apply_batch(peer, envelope)
    peer.school_version = str(envelope.get("academy"))[:32]
    keep(peer, None)
    return {"applied": count, "new": new, "mark": peer.pushed_seq}


def round_finished(peer: SyncPeer) -> None:
    peer.last_round_at = utcnow()
    keep(peer, None)


def note_refusal(peer_uuid: str | None, problem: Problem) -> None:
    """Keep the last refusal on the peer's row (its own small unit: the batch rolled back)."""
    if not peer_uuid:
        return
    with transaction.unit_of_work():
        peer = peer_by_uuid(peer_uuid)
        if peer is not None:
            keep(peer, problem)


# --- the school server --------------------------------------------------------------------------


def link() -> SyncLink | None:
    return db.session.scalar(select(SyncLink))


def join(city_url: str, token: str) -> SyncLink:
    """Join the city with an enrolment token: store the identity, secret, school and rooms,
    and start numbering changes."""
    if role() != SCHOOL:
        raise ServiceError(_('This server is the city server; set SYNC_ROLE = "school" first.'))
    if link() is not None:
        raise ServiceError(_("This school server has already joined a city server."))
    try:
        answer = client.call(city_url, "/sync/api/join", payload={"token": token})
    except client.Unreachable as exc:
        raise ServiceError(str(exc)) from None
    if answer.get("academy") != __version__:
        raise ServiceError(
            _("The city runs Academy %(city)s and this server Academy %(here)s; upgrade the "
              "older one.", city=answer.get("academy"), here=__version__)
        )  # fmt: skip
    given = answer["school"]
    school = db.session.scalar(select(School).where(School.name == given["name"]))
    school = school or School(name=given["name"])
    school.uuid, school.district = given["uuid"], given.get("district")
    db.session.add(school)
    db.session.flush()
    have = {r.name for r in school.rooms}
    for room in given.get("rooms", []):
        if room["name"] not in have:
            db.session.add(Room(school_id=school.id, name=room["name"], seats=room["seats"]))
    joined = SyncLink(
        city_url=city_url.rstrip("/"), peer_uuid=answer["peer"], secret=answer["secret"],
        school_id=school.id, city_version=answer["academy"],
    )  # fmt: skip
    db.session.add(joined)
    push.start_stamping()
    db.session.flush()
    return joined


@dataclass
class Round:
    pushed_rows: int = 0
    batches: int = 0
    courses: int = 0
    fetched_files: int = 0
    sent_files: int = 0
    mark: int = 0
    asked: int = 0  # changes the city asked of the school's accounts, answered
    withdrawn: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # courses that did not load, and why


def _token(joined: SyncLink) -> str:
    return f"{joined.peer_uuid}.{joined.secret}"


def round_minutes() -> float:
    """SYNC_ROUND_MINUTES: a school server runs a round by itself this often (0: never)."""
    try:
        minutes = float(current_app.config.get("SYNC_ROUND_MINUTES") or 0)
    except (TypeError, ValueError):
        raise ConfigError("SYNC_ROUND_MINUTES must be a number of minutes (0: off)") from None
    return max(minutes, 0.0) if role() == SCHOOL else 0.0


class RoundBusy(Exception):
    """Another round is running on this server (the background one, or a `sync run`)."""


@contextmanager
def round_lock() -> Iterator[None]:
    """This server's one round at a time: an exclusive lock on a file of the instance folder,
    held by the process running the round, so the background round, `sync run` from cron and
    a second `sync run` never overlap; the operating system lets go when the process ends,
    even killed. Raises RoundBusy at once rather than waiting."""
    path = Path(current_app.instance_path) / "sync-round.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RoundBusy("another round is running on this server") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_round() -> Round:
    """The changes the city asked, then push, then pull; each request, batch and course is its
    own unit of work, so a round cut anywhere resumes where the city's mark (and the school's
    courses) stand. Raises client.Unreachable with the plain reason, which is also kept for the
    status page, and RoundBusy when this server is already running one."""
    done = Round()
    with round_lock():
        try:
            offered = _offered(done)
            _carry_out_requests(done)
            _push_all(done)
            _pull_all(done, offered)
            _finish(done)
        except client.Unreachable as exc:
            _note(None, exc.problem)
            raise
        failed = "; ".join(done.failed)
        _note(done, Problem(N_("not loaded: %(courses)s"), {"courses": failed}) if failed else None)
    return done


def note_failure(problem: Problem) -> None:
    """Keep a round's unforeseen failure for the status page (the background round's)."""
    _note(None, problem)


def _carry_out_requests(done: Round) -> None:
    """Before the push: the changes the city asked of this school's accounts, each made in its
    own unit of work, so this very round's push carries their result to the city."""
    with transaction.unit_of_work():
        joined = link()
        base, token = joined.city_url, _token(joined)
    asked = client.call(base, "/sync/api/requests", token=token)["requests"]
    answers = []
    for request in asked:
        with transaction.unit_of_work():
            answer = relay.carry_out(request)
        if answer is not None:
            answers.append(answer)
    if answers:
        client.call(base, "/sync/api/answers", token=token, payload={"answers": answers})
    done.asked = len(answers)


def _push_all(done: Round) -> None:
    limit = int(current_app.config.get("SYNC_BATCH_ROWS", 2000))
    with transaction.unit_of_work():
        joined = link()
        base, token, school_id = joined.city_url, _token(joined), joined.school_id
    while True:
        mark = done.mark = client.call(base, "/sync/api/mark", token=token)["mark"]
        with transaction.unit_of_work():
            batch = push.next_batch(school_id, mark, limit)
            envelope = batch.envelope(joined.peer_uuid) if batch else None
        if envelope is None:
            return
        done.sent_files += files.send(base, token, envelope)  # the photos it names, first
        body, digest = push.pack(envelope)
        answer = client.call(
            base, "/sync/api/push", token=token, body=body,
            headers={"X-Sync-SHA256": digest},
        )  # fmt: skip
        done.batches += 1
        done.pushed_rows += answer["applied"]
        done.mark = answer["mark"]


def _offered(done: Round) -> list[dict]:
    """The city's courses, asked first: a course it withdrew is no longer pushed in this very
    round (the city would refuse its rows); the school keeps it and its progress."""
    with transaction.unit_of_work():
        joined = link()
        if joined is None:
            raise client.Unreachable(N_("this school server has not joined a city server"))
        base, token = joined.city_url, _token(joined)
    offered = client.call(base, "/sync/api/courses", token=token)["courses"]
    with transaction.unit_of_work():
        done.withdrawn = pull.note_offered({c["slug"] for c in offered})
    return offered


def _pull_all(done: Round, offered: list[dict]) -> None:
    with transaction.unit_of_work():
        joined = link()
        base, token = joined.city_url, _token(joined)
    for course in offered:
        with transaction.unit_of_work():
            plan = pull.wanted(course)
        if plan is None:
            continue
        have, fetch = plan
        if fetch:
            got = client.call(
                base, "/sync/api/course-files", token=token,
                payload={"slug": course["slug"], "paths": fetch},
            )["files"]  # fmt: skip
            have.update({p: base64.b64decode(b) for p, b in got.items()})
            done.fetched_files += len(got)
        try:
            with transaction.unit_of_work():
                pull.store(course, have)
        except CourseFormatError as exc:  # one course the school cannot load stops no other
            done.failed.append(f"{course['slug']}: {exc}")
            continue
        done.courses += 1


def _finish(done: Round) -> None:
    with transaction.unit_of_work():
        joined = link()
        base, token = joined.city_url, _token(joined)
    done.mark = client.call(base, "/sync/api/round", token=token, payload={})["mark"]
    with transaction.unit_of_work():  # removals the city has applied need no tombstone here
        db.session.execute(delete(SyncTombstone).where(SyncTombstone.seq <= done.mark))


def _note(done: Round | None, problem: Problem | None) -> None:
    with transaction.unit_of_work():
        joined = link()
        if joined is None:
            return
        keep(joined, problem)
        if done is not None:
            joined.last_round_at = utcnow()
            joined.last_pushed, joined.last_pulled = done.pushed_rows, done.courses
            joined.city_mark = done.mark


def waiting(school_id: int, mark: int) -> int:
    """How many owned changes the city has not applied (from the last mark seen)."""
    from academy.sync.rows import TABLES

    return sum(
        db.session.scalar(
            select(func.count())
            .select_from(t.model)
            .where(t.model.sync_seq > mark, push._owned(t, school_id))
        )
        for t in TABLES
    )
