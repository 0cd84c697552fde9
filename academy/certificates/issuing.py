"""Issuing certificates: once on course completion (idempotent), by hand, revoked, re-issued
with a corrected name; their codes (typed on any keyboard); the lists of them. Functions never
commit (core/transaction.py)."""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask import (
    g,
    has_request_context,
)
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from academy.auth.models import User
from academy.certificates.design import design_snapshot, issuers_for
from academy.certificates.models import (
    REPLACED,
    REVOKED,
    VALID,
    Certificate,
)
from academy.classes.models import ClassCourse, ClassMember
from academy.core.db import utcnow
from academy.core.errors import ServiceError
from academy.courses.models import Course
from academy.extensions import db

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10  # 31^10 ~ 8e14: unguessable, and guessing is throttled on top
REASON_MAX = 500


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


# Thai Kedmanee keyboard: the character each key types when the layout was left on Thai,
# mapped back to the Latin key (unshifted and shifted), so "K7M4..." typed in Thai still works.
_KEDMANEE = {
    "ๅ": "1", "/": "2", "-": "3", "ภ": "4", "ถ": "5", "ุ": "6", "ึ": "7", "ค": "8", "ต": "9",
    "จ": "0", "ๆ": "Q", "ไ": "W", "ำ": "E", "พ": "R", "ะ": "T", "ั": "Y", "ี": "U", "ร": "I",
    "น": "O", "ย": "P", "ฟ": "A", "ห": "S", "ก": "D", "ด": "F", "เ": "G", "้": "H", "่": "J",
    "า": "K", "ส": "L", "ผ": "Z", "ป": "X", "แ": "C", "อ": "V", "ิ": "B", "ื": "N", "ท": "M",
    "๐": "Q", "ฎ": "E", "ฑ": "R", "ธ": "T", "ํ": "Y", "๊": "U", "ณ": "I", "ฯ": "O", "ญ": "P",
    "ฤ": "A", "ฆ": "S", "ฏ": "D", "โ": "F", "ฌ": "G", "็": "H", "๋": "J", "ษ": "K", "ศ": "L",
    "ฉ": "X", "ฮ": "C", "ฺ": "V", "์": "B", "ฒ": "M", "๑": "2", "๒": "3", "๓": "4", "๔": "5",
    "ู": "6", "฿": "7", "๕": "8", "๖": "9", "๗": "0",
}  # fmt: skip
_THAI = re.compile(r"[\u0e00-\u0e7f]")


def normalize_code(raw: str) -> str:
    """What a person typed -> the stored code: any case, spaces, dashes, a Thai layout slip."""
    text = (raw or "").strip()[:64]
    if _THAI.search(text):
        # On the Thai layout the dash key types "ข" and the "3" key types "-".
        text = "".join(_KEDMANEE.get(ch, "" if ch in "ข " else ch) for ch in text)
    else:
        text = re.sub(r"[\s\-–—_.]", "", text)
    return text.upper()


def valid_certificate(user_id: int, course_id: int) -> Certificate | None:
    return db.session.scalar(
        select(Certificate).where(
            Certificate.user_id == user_id,
            Certificate.course_id == course_id,
            Certificate.status == VALID,
        )
    )


def _new_certificate(
    user: User,
    course_id: int,
    titles: tuple[str, str | None],
    issuers: list[dict[str, str]],
    design: dict[str, Any],
    score: float | None,
    badge: tuple[str | None, str | None] = (None, None),
) -> Certificate:
    """A new valid certificate in the learner's current name (issue and re-issue); `badge` is
    the (type, address) the learner claims its Open Badge with."""
    name = (user.full_name or "").strip() or user.username
    return Certificate(
        code=new_code(),
        user_id=user.id,
        course_id=course_id,
        learner_name=name[:300],
        course_title_th=titles[0],
        course_title_en=titles[1],
        issuers=issuers,
        score=score,
        issued_at=utcnow(),
        status=VALID,
        design=design,
        badge_recipient_type=badge[0],
        badge_recipient=badge[1],
    )


def issue(user: User, course: Course, score: float | None = None) -> Certificate:
    """The learner's valid certificate for the course, created if there is none yet.

    Runs inside the caller's transaction and never commits. Two requests completing at once:
    the partial unique index refuses the second INSERT; it is undone in its own SAVEPOINT, so
    the caller's transaction carries on, and the first certificate is returned."""
    existing = valid_certificate(user.id, course.id)
    if existing is not None:
        return existing
    certificate = _new_certificate(
        user,
        course.id,
        (course.title_th, course.title_en),
        issuers_for(course),
        design_snapshot(course),
        score,
    )
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
    except IntegrityError:
        existing = valid_certificate(user.id, course.id)
        if existing is None:  # a (vanishingly rare) code collision: try once more
            return issue(user, course, score)
        return existing
    return certificate


def on_course_completed(user: User, course: Course, score: float | None = None, **_: Any) -> None:
    certificate = issue(user, course, score)
    if has_request_context():
        # Rendered once the response has gone (see render_after_response), so the learner's
        # click is not slowed and the first download, and a class ZIP, find the PDF stored.
        g.setdefault("certificates_to_render", []).append(certificate.code)


def find(code: str) -> Certificate | None:
    code = normalize_code(code)
    if not code or len(code) > 32:
        return None
    return db.session.scalar(
        select(Certificate)
        .options(joinedload(Certificate.course), joinedload(Certificate.replaced_by))
        .where(Certificate.code == code)
    )


def revoke(certificate: Certificate, reason: str) -> Certificate:
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Please give the reason for revoking."), "reason")
    if len(reason) > REASON_MAX:
        raise ServiceError(_("At most %(max)d characters, please.", max=REASON_MAX), "reason")
    if certificate.status != VALID:
        raise ServiceError(_("Only a valid certificate can be revoked."))
    certificate.status = REVOKED
    certificate.revoked_at = utcnow()
    certificate.revoked_reason = reason
    return certificate


def reissue(certificate: Certificate) -> Certificate:
    """A new certificate with the learner's current name (after a correction); the old one
    becomes `replaced` and points to it. Same course titles, score, issuers and design."""
    if certificate.status != VALID:
        raise ServiceError(_("Only a valid certificate can be re-issued."))
    user = db.session.get(User, certificate.user_id)
    certificate.status = REPLACED
    certificate.revoked_at = utcnow()
    db.session.flush()  # free the one-valid slot before the new row takes it
    new = _new_certificate(
        user,
        certificate.course_id,
        (certificate.course_title_th, certificate.course_title_en),
        certificate.issuers,
        certificate.design,
        certificate.score,
        (certificate.badge_recipient_type, certificate.badge_recipient),
    )
    db.session.add(new)
    db.session.flush()
    certificate.replaced_by_id = new.id
    return new


def issue_manually(username: str, slug: str) -> tuple[Certificate, bool]:
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise ServiceError(_("No account with the username %(name)s.", name=username))
    course = db.session.scalar(select(Course).where(Course.slug == slug.strip()))
    if course is None:
        raise ServiceError(_("No course with the address %(slug)s.", slug=slug))
    before = valid_certificate(user.id, course.id)
    certificate = issue(user, course)
    return certificate, before is None


# --- Lists -----------------------------------------------------------------------------------


def set_name_hidden(certificate: Certificate, hidden: bool) -> None:
    """The learner's own choice (no one else's): the certificate still verifies by its code."""
    certificate.name_hidden = hidden


def for_learner(user: User) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .options(joinedload(Certificate.course))
            .where(Certificate.user_id == user.id)
            .order_by(Certificate.issued_at.desc())
        )
    )


def search_query(term: str):
    query = (
        select(Certificate)
        .join(User, User.id == Certificate.user_id)
        .options(joinedload(Certificate.course), joinedload(Certificate.user))
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    )
    term = (term or "").strip()
    if term:
        like = f"%{term}%"
        query = query.where(
            or_(
                Certificate.code == normalize_code(term),
                Certificate.learner_name.ilike(like),
                User.username.ilike(like),
                Certificate.course_title_th.ilike(like),
                Certificate.course_title_en.ilike(like),
            )
        )
    return query


def for_class(class_id: int) -> list[Certificate]:
    """Valid certificates of the class's learners in the class's courses."""
    return list(
        db.session.scalars(
            select(Certificate)
            .join(
                ClassMember,
                (ClassMember.user_id == Certificate.user_id) & (ClassMember.class_id == class_id),
            )
            .join(
                ClassCourse,
                (ClassCourse.course_id == Certificate.course_id)
                & (ClassCourse.class_id == class_id),
            )
            .options(joinedload(Certificate.course), joinedload(Certificate.user))
            .where(Certificate.status == VALID)
            .order_by(Certificate.course_id, Certificate.learner_name)
        )
    )
