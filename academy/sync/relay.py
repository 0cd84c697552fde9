"""Changes asked at the city of an account a school server owns (docs/sync.md, "A change asked
of the owner"). The city never writes the school's row: it queues the change for that school
(`sync_requests`), the school's next round fetches it, makes it in one transaction with its own
rules (audited as asked at the city, sessions ended as a local reset ends them) and answers;
its push then carries the account's new state to the city as any change does. The school
remembers every request it answered (`sync_requests_done`), so one delivered twice (the answer
was lost on the way) is made once and answered again the same way."""

from __future__ import annotations

import uuid as uuid_module
from datetime import datetime
from typing import Any

from flask_babel import force_locale
from sqlalchemy import JSON, ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.auth import services as auth
from academy.auth.models import User
from academy.classes.models import School
from academy.core import audit, transaction
from academy.core.access import ADMIN
from academy.core.db import TimestampMixin, UTCDateTime, utcnow
from academy.core.errors import ServiceError
from academy.extensions import db
from academy.sync.models import SyncAccount, SyncPeer
from academy.sync.problems import N_, Problem, SyncProblem

APPLIED, REFUSED = "applied", "refused"
CHANGES = (auth.CHANGE_PASSWORD, auth.CHANGE_ACTIVE, auth.CHANGE_ROLE)


class SyncRequest(TimestampMixin, db.Model):
    """At the city: a change asked of the school server that owns the account."""

    __tablename__ = "sync_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    peer_id: Mapped[int] = mapped_column(
        ForeignKey("sync_peers.id", ondelete="CASCADE"), index=True
    )
    # Kept (None) when the account goes at the city: a refusal for an account the school removed
    # meanwhile still shows, named by `account`.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    account: Mapped[str] = mapped_column(String(250))  # "Full name (username)" when asked
    change: Mapped[str] = mapped_column(String(16))  # auth.CHANGE_*
    # {"active": bool} / {"role": str} / {"password_hash": the temporary password's Argon2
    # hash}; emptied of the hash once answered.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    asked_by: Mapped[str | None] = mapped_column(String(100))  # the admin's username
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the city's clock
    outcome: Mapped[str | None] = mapped_column(String(16))  # APPLIED / REFUSED
    reason: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # a Problem, when refused

    peer: Mapped[SyncPeer] = relationship()
    user: Mapped[User | None] = relationship()

    @property
    def refusal(self) -> str | None:
        problem = Problem.from_json(self.reason)
        return problem.shown() if problem else None


class SyncRequestDone(db.Model):
    """At a school server: a request of the city it answered, and how."""

    __tablename__ = "sync_requests_done"

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- the city ----------------------------------------------------------------------------------


def owning_peer(user: User) -> tuple[SyncPeer, str] | None:
    """The school server that owns this account here, and its school's name."""
    found = db.session.execute(
        select(SyncPeer, School.name)
        .join(School, School.id == SyncPeer.school_id)
        .join(SyncAccount, SyncAccount.peer_id == SyncPeer.id)
        .where(SyncAccount.user_id == user.id)
    ).first()
    return (found[0], found[1]) if found else None


def ask(user: User, change: str, values: dict[str, Any], by: User | None) -> SyncRequest | None:
    """Queue `change` for the school server that owns `user` (None: no server owns it)."""
    owner = owning_peer(user)
    if owner is None:
        return None
    if change not in CHANGES:
        raise ValueError(change)
    request = SyncRequest(
        uuid=str(uuid_module.uuid4()), peer_id=owner[0].id, user_id=user.id, change=change,
        account=f"{user.full_name} ({user.username})"[:250], payload=dict(values),
        asked_by=getattr(by, "username", None),
    )  # fmt: skip
    db.session.add(request)
    db.session.flush()
    return request


def recent(limit: int = 50) -> list[SyncRequest]:
    """The latest requests, waiting ones first, for the city's School servers page."""
    return list(
        db.session.scalars(
            select(SyncRequest)
            .order_by(SyncRequest.answered_at.is_not(None), SyncRequest.id.desc())
            .limit(limit)
        )
    )


def waiting_for(peer: SyncPeer) -> list[dict[str, Any]]:
    """The requests the school server has not answered, oldest first, as it receives them."""
    rows = db.session.execute(
        select(SyncRequest, User.uuid)
        .outerjoin(User, User.id == SyncRequest.user_id)  # gone here: the school says so
        .where(SyncRequest.peer_id == peer.id, SyncRequest.answered_at.is_(None))
        .order_by(SyncRequest.id)
    )
    return [
        {"uuid": r.uuid, "user": user_uuid, "change": r.change, "values": r.payload,
         "asked_by": r.asked_by}
        for r, user_uuid in rows
    ]  # fmt: skip


def record_answers(peer: SyncPeer, answers: Any) -> int:
    """Note the school server's answers to its requests (a request of another server, or one
    already answered, is passed over); how many were new."""
    if not isinstance(answers, list):
        raise SyncProblem(N_("the answers are not a list"))
    noted = 0
    for answer in answers:
        if not isinstance(answer, dict) or answer.get("outcome") not in (APPLIED, REFUSED):
            raise SyncProblem(N_("an answer without its outcome"))
        request = db.session.scalar(
            select(SyncRequest).where(
                SyncRequest.uuid == str(answer.get("uuid")),
                SyncRequest.peer_id == peer.id,
                SyncRequest.answered_at.is_(None),
            )
        )
        if request is None:
            continue
        reason = Problem.from_json(answer.get("reason"))
        request.outcome, request.answered_at = answer["outcome"], utcnow()
        request.reason = reason.as_json() if reason else None
        request.payload = {k: v for k, v in request.payload.items() if k != "password_hash"}
        noted += 1
    return noted


# --- the school server -------------------------------------------------------------------------


def carry_out(asked: Any) -> dict[str, Any] | None:
    """Make one change the city asked, in the caller's unit of work, and return the answer for
    the city. Asked again (its answer was lost), it is not made again: the same answer goes.
    A request without its id cannot be answered: None."""
    request_id = str(asked.get("uuid") or "")[:36] if isinstance(asked, dict) else ""
    if not request_id:
        return None
    done = db.session.get(SyncRequestDone, request_id)
    if done is None:
        outcome, reason = APPLIED, None
        try:
            # English message ids, so the city shows the school's refusal in its reader's
            # language (auth's messages are in the shared catalogue).
            with force_locale("en"):
                _make(asked)
        except ServiceError as exc:
            outcome, reason = REFUSED, Problem(str(exc))  # English: raised under force_locale
        except SyncProblem as exc:
            outcome, reason = REFUSED, exc.problem
        if outcome == REFUSED:
            transaction.abandon()  # nothing of the refused change stays
            transaction.keep_on_refusal()  # but the answer does
        done = SyncRequestDone(
            uuid=request_id, outcome=outcome, reason=reason.as_json() if reason else None
        )
        db.session.add(done)
        db.session.flush()
    return {"uuid": done.uuid, "outcome": done.outcome, "reason": done.reason}


def _make(asked: dict[str, Any]) -> None:
    user = db.session.scalar(select(User).where(User.uuid == str(asked.get("user"))))
    if user is None:
        raise SyncProblem(N_("the account is no longer on the school server"))
    values = asked.get("values") if isinstance(asked.get("values"), dict) else {}
    by = str(asked.get("asked_by") or "")[:100] or None
    change = asked.get("change")
    if change == auth.CHANGE_PASSWORD:
        hashed = values.get("password_hash")
        if not isinstance(hashed, str) or not hashed.startswith("$argon2"):
            raise SyncProblem(N_("the city sent a password reset without its password"))
        auth.set_password_hash(user, hashed, temporary=True)
        audit.record(audit.PASSWORD_RESET, user, asked_at_city_by=by)
    elif change == auth.CHANGE_ACTIVE:
        active = values.get("active")
        if not isinstance(active, bool):
            raise SyncProblem(N_("the city sent a switch-off without saying on or off"))
        auth.set_active(user, active)
        audit.record(audit.ACTIVE_CHANGE, user, active=active, asked_at_city_by=by)
    elif change == auth.CHANGE_ROLE:
        role = values.get("role")
        if role == ADMIN:  # the school's admins are its own (they are not sent to the city)
            raise SyncProblem(N_("a school server's admins are made on that server"))
        old = auth.set_role(user, str(role))
        if old != role:
            audit.record(audit.ROLE_CHANGE, user, old=old, new=role, asked_at_city_by=by)
    else:
        raise SyncProblem(N_("this school server does not know the change %(change)s"),
                          change=str(change))  # fmt: skip
