"""Assignment rules: who reviews whom, handing in (all or nothing, once per tap), reviewing (one
review per version, only the newest version), and the learner's state per assignment.

Nothing here commits: the request does, once, when the call succeeded (core/transaction.py).
The database holds the limits (one version number, one token, one review per version), so two
racing requests cannot both succeed; the code turns a violation into a clear message.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, selectinload

from academy.assignments import links as links_
from academy.assignments import photos as photos_
from academy.assignments import rubric, settings
from academy.assignments.access import is_enrolled, may_review
from academy.assignments.models import (
    LINKS,
    NEEDS_CHANGES,
    NOT_HANDED_IN,
    PASSED,
    PHOTOS,
    TEXT,
    WAITING,
    Assignment,
    Review,
    Submission,
    SubmissionPhoto,
)
from academy.auth.models import User
from academy.classes.models import ClassCourse, ClassInstructor, ClassMember
from academy.core import audit, signals
from academy.core.access import is_admin
from academy.core.db import utcnow
from academy.core.errors import ServiceError
from academy.courses.models import Course, CourseInstructor, Enrolment
from academy.extensions import db

MAX_PHOTOS = settings.MAX_PHOTOS
REVIEW_ACTION = "submission.review"
FEEDBACK_DAYS = 7  # a pass stays on the learner's dashboard this long; "needs changes" stays
MAX_LINKS = 5
TEXT_MAX = 10000


# --------------------------------------------------------------------------- reading


# Built once: they run on every course and lesson page (issue 15).
_OUTLINE_ASSIGNMENTS = (
    select(Assignment)
    .where(Assignment.course_id == bindparam("course_id"))
    .order_by(Assignment.position, Assignment.id)
)
# The learner's states return plain tuples: on the table, a Core select skips the ORM's
# per-statement work.
_submission = Submission.__table__


def _latest_states(*where: Any) -> Any:
    """(assignment_id, status) of the learner's newest hand-in of each assignment, narrowed by
    `where` (a course for the outline; nothing for the dashboard's every course)."""
    newest = (
        select(_submission.c.assignment_id, func.max(_submission.c.version).label("version"))
        .where(_submission.c.user_id == bindparam("user_id"), *where)
        .group_by(_submission.c.assignment_id)
        .subquery()
    )
    return (
        select(_submission.c.assignment_id, _submission.c.status)
        .join(
            newest,
            and_(
                _submission.c.assignment_id == newest.c.assignment_id,
                _submission.c.version == newest.c.version,
            ),
        )
        .where(_submission.c.user_id == bindparam("user_id"))
    )


# Of one course (bind user_id and course_id): also part of the learner-state query of progress.
COURSE_STATES = _latest_states(_submission.c.course_id == bindparam("course_id"))
_STATE_ANY = _latest_states().subquery()


def outline_items(course: Course) -> list[tuple[int | None, int, str, int, str, Assignment]]:
    """The course's assignments for its outline (the `outline_items` signal)."""
    rows = db.session.scalars(_OUTLINE_ASSIGNMENTS, {"course_id": course.id})
    return [(a.module_id, a.position, "assignment", a.id, a.key, a) for a in rows]


def criteria_of(assignment: Assignment) -> list[rubric.Criterion]:
    return rubric.parse_criteria(assignment.criteria)


def versions(assignment: Assignment, user_id: int) -> list[Submission]:
    """Every version the learner handed in, newest first, with their photos (two queries
    however many versions there are)."""
    return list(
        db.session.scalars(
            select(Submission)
            .where(Submission.assignment_id == assignment.id, Submission.user_id == user_id)
            .options(selectinload(Submission.photos))
            .order_by(Submission.version.desc())
        )
    )


def reviews_of(submissions: list[Submission]) -> dict[int, Review | None]:
    """submission id -> its review (or None), in one query."""
    found: dict[int, Review | None] = dict.fromkeys((s.id for s in submissions), None)
    if found:
        for record in db.session.scalars(
            select(Review).where(Review.submission_id.in_(list(found)))
        ):
            found[record.submission_id] = record
    return found


def latest(assignment: Assignment, user_id: int) -> Submission | None:
    return db.session.scalar(
        select(Submission)
        .where(Submission.assignment_id == assignment.id, Submission.user_id == user_id)
        .order_by(Submission.version.desc())
        .limit(1)
    )


def states(user_id: int, course_id: int) -> dict[int, str]:
    """assignment id -> the state of the learner's newest version (absent: not handed in), in
    one query."""
    rows = db.session.execute(COURSE_STATES, {"user_id": user_id, "course_id": course_id})
    return {assignment_id: status for assignment_id, status in rows}


def state_of(assignment: Assignment, user_id: int) -> str:
    submission = latest(assignment, user_id)
    return submission.status if submission else NOT_HANDED_IN


def review_of(submission: Submission) -> Review | None:
    return db.session.scalar(select(Review).where(Review.submission_id == submission.id))


def resubmissions_left(assignment: Assignment, handed_in: int) -> int | None:
    """How many more versions may follow (None: no limit)."""
    if assignment.resubmissions is None:
        return None
    return max(0, 1 + assignment.resubmissions - handed_in)


def new_token() -> str:
    """The one-time token a hand-in form carries (a double tap sends it twice)."""
    return secrets.token_urlsafe(24)


# --------------------------------------------------------------------------- handing in


@dataclass
class Upload:
    name: str
    data: bytes


def _by_token(assignment: Assignment, user: User, token: str) -> Submission | None:
    return db.session.scalar(
        select(Submission).where(
            Submission.assignment_id == assignment.id,
            Submission.user_id == user.id,
            Submission.token == token,
        )
    )


def hand_in(
    user: User,
    assignment: Assignment,
    *,
    token: str,
    text: str | None = None,
    links: list[str] | None = None,
    photos: list[Upload] | None = None,
    now: datetime | None = None,
) -> Submission:
    """Check everything, then store the new version in one go; the same token again returns
    the version it made (a double tap, a retried upload). Raises ServiceError."""
    now = now or utcnow()
    if not token or len(token) > 64:
        raise ServiceError(_("This form has expired; open the assignment again."))
    again = _by_token(assignment, user, token)
    if again is not None:
        return again
    if not is_enrolled(user.id, assignment.course_id):
        raise ServiceError(_("You are not enrolled in this course."))
    previous = latest(assignment, user.id)
    if previous is not None:
        if previous.status == WAITING:
            raise ServiceError(
                _(
                    "Version %(n)s is still waiting for review; you can hand in again after it.",
                    n=previous.version,
                )
            )
        if previous.status == PASSED:
            raise ServiceError(_("This assignment has passed already."))
        if resubmissions_left(assignment, previous.version) == 0:
            raise ServiceError(_("No more resubmissions are allowed for this assignment."))

    text = (text or "").strip() or None
    clean_links = [link for link in (x.strip() for x in (links or [])) if link]
    uploads = [p for p in (photos or []) if p.data]
    if not text and not clean_links and not uploads:
        raise ServiceError(_("Nothing was handed in: add what the assignment asks for."))
    kinds = set(assignment.kinds)
    if TEXT in kinds and not text:
        raise ServiceError(_("Write the text this assignment asks for."), "text")
    if text and TEXT not in kinds:
        raise ServiceError(_("This assignment does not take text."), "text")
    if text and len(text) > TEXT_MAX:
        raise ServiceError(_("The text may be at most %(max)s characters.", max=TEXT_MAX), "text")
    if LINKS in kinds and not clean_links:
        raise ServiceError(_("Give the link this assignment asks for."), "links")
    if clean_links and LINKS not in kinds:
        raise ServiceError(_("This assignment does not take links."), "links")
    if len(clean_links) > MAX_LINKS:
        raise ServiceError(_("At most %(max)s links.", max=MAX_LINKS), "links")
    checked_links = [links_.check_link(link) for link in clean_links]
    limit = min(assignment.max_photos or MAX_PHOTOS, MAX_PHOTOS)
    if PHOTOS in kinds and not uploads:
        raise ServiceError(_("Add the photo this assignment asks for."), "photos")
    if uploads and PHOTOS not in kinds:
        raise ServiceError(_("This assignment does not take photos."), "photos")
    if len(uploads) > limit:
        raise ServiceError(
            _(
                "%(count)s photos: this assignment takes at most %(max)s.",
                count=len(uploads),
                max=limit,
            ),
            "photos",
        )
    # Every photo is decoded and re-encoded before anything is written: a bad third photo
    # leaves nothing behind.
    processed = [photos_.process(upload.data, upload.name) for upload in uploads]

    version = (previous.version if previous else 0) + 1
    submission = Submission(
        assignment_id=assignment.id,
        course_id=assignment.course_id,
        user_id=user.id,
        version=version,
        token=token,
        status=WAITING,
        text=text,
        links=checked_links,
        submitted_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(submission)
            db.session.flush()
    except IntegrityError:
        # Another request with this token (or this version number) won the race.
        again = _by_token(assignment, user, token)
        if again is not None:
            return again
        raise ServiceError(
            _("Another version was just handed in; open the assignment again.")
        ) from None
    for position, photo in enumerate(processed, start=1):
        photos_.store(photo)
        db.session.add(
            SubmissionPhoto(
                submission_id=submission.id,
                position=position,
                sha256=photo.sha256,
                size=len(photo.data),
                width=photo.width,
                height=photo.height,
            )
        )
    db.session.flush()
    return submission


# --------------------------------------------------------------------------- reviewing


def review(
    reviewer: User,
    submission: Submission,
    *,
    results: dict[str, dict[str, Any]],
    comment: str | None,
    passed: bool,
    now: datetime | None = None,
) -> Review:
    """Record the one review of this version and the learner's new state. `results` maps each
    criterion id to {"done": bool} or {"points": int}, with an optional "comment"."""
    now = now or utcnow()
    if not may_review(reviewer, submission):
        raise ServiceError(_("You do not coach this learner, so you cannot review their work."))
    assignment = db.session.get(Assignment, submission.assignment_id)
    newest = latest(assignment, submission.user_id)
    if newest is not None and newest.version != submission.version:
        raise ServiceError(
            _(
                "This is version %(old)s; the learner has handed in version %(new)s since. "
                "Review the newest version.",
                old=submission.version,
                new=newest.version,
            )
        )
    if submission.status != WAITING:
        raise ServiceError(_("This version has been reviewed already."))
    criteria = criteria_of(assignment)
    known = {c.id: c for c in criteria}
    clean: dict[str, dict[str, Any]] = {}
    for key, result in results.items():
        if key not in known:
            raise ServiceError(_("Unknown criterion: %(key)s", key=key))
        note = (result.get("comment") or "").strip()
        if len(note) > rubric.COMMENT_MAX:
            raise ServiceError(
                _("A comment may be at most %(max)s characters.", max=rubric.COMMENT_MAX)
            )
        entry = {k: v for k, v in result.items() if k in ("done", "points")}
        if note:
            entry["comment"] = note
        clean[key] = entry
    try:
        judgement = rubric.judge(criteria, assignment.pass_rule, assignment.pass_points, clean)
    except rubric.RubricError as exc:
        title = known[exc.path[0]].title if exc.path and exc.path[0] in known else ""
        raise ServiceError(_("Give a result for every criterion: %(title)s", title=title)) from None
    if passed and not judgement.met:
        raise ServiceError(
            _(
                "The checklist is not met, so it cannot pass: %(missing)s",
                missing=", ".join(judgement.missing)
                or _(
                    "%(points)s of %(need)s points",
                    points=judgement.points,
                    need=assignment.pass_points,
                ),
            )
        )
    comment = (comment or "").strip() or None
    if comment and len(comment) > rubric.COMMENT_MAX:
        raise ServiceError(
            _("A comment may be at most %(max)s characters.", max=rubric.COMMENT_MAX)
        )
    if not passed and not comment and not any("comment" in r for r in clean.values()):
        raise ServiceError(_("Say what to change: write a comment."), "comment")
    # Whoever moves the version out of "waiting" reviews it; a racing second reviewer finds it
    # moved (or the unique review row taken) and is told so.
    moved = db.session.execute(
        update(Submission)
        .where(Submission.id == submission.id, Submission.status == WAITING)
        .values(status=PASSED if passed else NEEDS_CHANGES)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        raise ServiceError(_("Someone else has just reviewed this version."))
    record = Review(
        submission_id=submission.id,
        reviewer_id=reviewer.id,
        results=clean,
        comment=comment,
        passed=passed,
        points=judgement.points,
        max_points=judgement.max_points,
        reviewed_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(record)
            db.session.flush()
    except IntegrityError:
        raise ServiceError(_("Someone else has just reviewed this version.")) from None
    db.session.refresh(submission)
    learner = db.session.get(User, submission.user_id)
    audit.record(
        REVIEW_ACTION,
        submission,
        actor=reviewer,
        learner=learner.username,
        assignment=assignment.key,
        version=submission.version,
        passed=passed,
        points=judgement.points,
    )
    signals.assignment_reviewed.send(
        learner, assignment=assignment, submission=submission, review=record
    )
    return record


def review_queue(
    reviewer: User, *, class_id: int | None = None, course_id: int | None = None
) -> list[Submission]:
    """Versions waiting for review that this person may review, oldest first."""
    query = select(Submission).where(Submission.status == WAITING)
    if not is_admin(reviewer):
        teaching = select(ClassInstructor.class_id).where(ClassInstructor.user_id == reviewer.id)
        coached = select(ClassMember.user_id).where(ClassMember.class_id.in_(teaching))
        authored = select(CourseInstructor.course_id).where(CourseInstructor.user_id == reviewer.id)
        query = query.where(
            or_(Submission.user_id.in_(coached), Submission.course_id.in_(authored)),
            Submission.user_id != reviewer.id,
        )
    if class_id is not None:
        query = query.where(
            Submission.user_id.in_(
                select(ClassMember.user_id).where(ClassMember.class_id == class_id)
            )
        )
    if course_id is not None:
        query = query.where(Submission.course_id == course_id)
    query = query.options(selectinload(Submission.assignment), selectinload(Submission.photos))
    return list(db.session.scalars(query.order_by(Submission.submitted_at, Submission.id)))


_MY_ASSIGNMENTS = (
    select(Assignment, Course, _STATE_ANY.c.status)
    .join(Course, Course.id == Assignment.course_id)
    .join(
        Enrolment, and_(Enrolment.course_id == Course.id, Enrolment.user_id == bindparam("user_id"))
    )
    .outerjoin(_STATE_ANY, _STATE_ANY.c.assignment_id == Assignment.id)
    .order_by(Course.title_th, Assignment.position, Assignment.id)
)


def my_assignments(user: User) -> list[tuple[Assignment, Course, str]]:
    """Every assignment in the learner's courses with its state, course by course, in one query
    (the dashboard shows them on each course's card)."""
    rows = db.session.execute(_MY_ASSIGNMENTS, {"user_id": user.id}).all()
    return [(assignment, course, state or NOT_HANDED_IN) for assignment, course, state in rows]


def reviewable_courses(reviewer: User) -> list[Course]:
    """The courses with assignments this person may review: those they write and those of the
    classes they teach (every one for an admin), for the queue's filter."""
    query = select(Course).where(Course.id.in_(select(Assignment.course_id)))
    if not is_admin(reviewer):
        taught = select(ClassInstructor.class_id).where(ClassInstructor.user_id == reviewer.id)
        query = query.where(
            or_(
                Course.id.in_(
                    select(CourseInstructor.course_id).where(
                        CourseInstructor.user_id == reviewer.id
                    )
                ),
                Course.id.in_(
                    select(ClassCourse.course_id).where(ClassCourse.class_id.in_(taught))
                ),
            )
        )
    return list(db.session.scalars(query.order_by(Course.title_th)))


@dataclass
class Feedback:
    assignment: Assignment
    course: Course
    submission: Submission
    review: Review


_newer = aliased(Submission)
# Built once (bind user_id and since): it runs on every dashboard (issue 15).
_FEEDBACK = (
    select(Submission, Review, Assignment, Course)
    .join(Review, Review.submission_id == Submission.id)
    .join(Assignment, Assignment.id == Submission.assignment_id)
    .join(Course, Course.id == Submission.course_id)
    .where(
        Submission.user_id == bindparam("user_id"),
        or_(
            Submission.status == NEEDS_CHANGES,
            and_(Submission.status == PASSED, Review.reviewed_at >= bindparam("since")),
        ),
        ~exists().where(
            _newer.assignment_id == Submission.assignment_id,
            _newer.user_id == Submission.user_id,
            _newer.version > Submission.version,
        ),
    )
    .order_by(Review.reviewed_at.desc())
)


def feedback(user: User, now: datetime | None = None) -> list[Feedback]:
    """The coach's newest word on each of the learner's assignments, for their dashboard: every
    "needs changes" still to answer, and passes of the last FEEDBACK_DAYS days (one query)."""
    since = (now or utcnow()) - timedelta(days=FEEDBACK_DAYS)
    rows = db.session.execute(_FEEDBACK, {"user_id": user.id, "since": since})
    return [Feedback(a, c, s, r) for s, r, a, c in rows]
