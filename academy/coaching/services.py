"""Coaching rules: the coach's learners with their progress, a learner's timeline, coaching
notes, and the milestones of a programme. Nothing here commits (the request does)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError

from academy.assignments import links
from academy.assignments.models import WAITING, Assignment, Review, Submission
from academy.auth.models import User
from academy.classes.access import taught_filter
from academy.classes.models import Class, ClassMember
from academy.coaching.access import coached_filter, may_coach, may_tick
from academy.coaching.models import CHANNELS, CoachingNote, Milestone, MilestoneReached
from academy.core import audit
from academy.core.clock import local_date, local_day_start, utcnow
from academy.core.errors import ServiceError
from academy.courses.models import Course, Enrolment, Track
from academy.extensions import db
from academy.progress.models import CourseProgress, QuizResult
from academy.quizzes.models import Quiz

DISCUSSED_MAX = 4000
NEXT_STEP_MAX = 2000
TITLE_MAX = 200
PER_PAGE = 50
TIMELINE_MAX = 100  # newest entries of each kind on a learner's timeline
EARLIEST = date(2000, 1, 1)

# The path sellers and OTOP entrepreneurs walk (issue 13), added by an admin in one click.
DEFAULT_MILESTONES = (
    ("shop-opened", "เปิดร้านค้าออนไลน์แล้ว", "Shop opened"),
    ("first-10-products", "ลงสินค้าครบ 10 ชิ้นแรก", "First 10 products listed"),
    ("first-live-sale", "ขายได้จากการไลฟ์ครั้งแรก", "First live sale"),
    ("first-order", "ได้ออร์เดอร์แรก", "First order"),
    ("first-five-star", "ได้รีวิวห้าดาวครั้งแรก", "First five-star review"),
)
DEFAULT_TRACKS = ("seller-academy", "otop")


# --------------------------------------------------------------------------- my learners


@dataclass
class LearnerRow:
    learner: User
    classes: list[str] = field(default_factory=list)
    courses: list[tuple[Course, CourseProgress]] = field(default_factory=list)
    waiting: int = 0
    last_activity: datetime | None = None


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def my_learners(coach: User, page: int = 1, term: str = "") -> tuple[list[LearnerRow], Any]:
    """The coach's learners, 50 a page, each with their classes, course progress, hand-ins
    waiting for review and last activity: five queries however many learners there are."""
    query = select(User).where(coached_filter(coach)).order_by(User.full_name, User.id)
    term = term.strip()
    if term:
        like = f"%{term}%"
        query = query.where(User.username.ilike(like) | User.full_name.ilike(like))
    pagination = db.paginate(query, page=page, per_page=PER_PAGE, error_out=False)
    rows = {u.id: LearnerRow(u, last_activity=u.last_seen_at) for u in pagination.items}
    if not rows:
        return [], pagination
    ids = list(rows)
    for user_id, name in db.session.execute(
        select(ClassMember.user_id, Class.name)
        .join(Class, Class.id == ClassMember.class_id)
        .where(ClassMember.user_id.in_(ids), taught_filter(coach))
        .order_by(Class.name)
    ):
        rows[user_id].classes.append(name)
    for course, progress in db.session.execute(
        select(Course, CourseProgress)
        .join(CourseProgress, CourseProgress.course_id == Course.id)
        .where(CourseProgress.user_id.in_(ids))
        .order_by(Course.title_th)
    ):
        row = rows[progress.user_id]
        row.courses.append((course, progress))
        row.last_activity = _later(row.last_activity, progress.last_activity_at)
    for user_id, waiting, newest in db.session.execute(
        select(
            Submission.user_id,
            func.count().filter(Submission.status == WAITING),
            func.max(Submission.submitted_at),
        )
        .where(Submission.user_id.in_(ids))
        .group_by(Submission.user_id)
    ):
        rows[user_id].waiting = waiting
        rows[user_id].last_activity = _later(rows[user_id].last_activity, newest)
    return list(rows.values()), pagination


# --------------------------------------------------------------------------- the timeline

SUBMISSION = "submission"
REVIEW = "review"
QUIZ = "quiz"
NOTE = "note"
MILESTONE = "milestone"


@dataclass
class Event:
    at: datetime
    kind: str
    obj: Any  # the Submission, Review, QuizResult, CoachingNote or MilestoneReached
    title: Any = None  # the assignment, quiz or milestone it is about (for its title)


def timeline(learner: User) -> list[Event]:
    """Submissions, reviews, quiz results, coaching notes and milestones, newest first (five
    queries). Only for the learner's coaches: the notes are in it."""
    events: list[Event] = []
    for submission, assignment in db.session.execute(
        select(Submission, Assignment)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .where(Submission.user_id == learner.id)
        .order_by(Submission.submitted_at.desc())
        .limit(TIMELINE_MAX)
    ):
        events.append(Event(submission.submitted_at, SUBMISSION, submission, assignment))
    for review, assignment in db.session.execute(
        select(Review, Assignment)
        .join(Submission, Submission.id == Review.submission_id)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .where(Submission.user_id == learner.id)
        .order_by(Review.reviewed_at.desc())
        .limit(TIMELINE_MAX)
    ):
        events.append(Event(review.reviewed_at, REVIEW, review, assignment))
    for result, quiz in db.session.execute(
        select(QuizResult, Quiz)
        .join(Quiz, Quiz.id == QuizResult.quiz_id)
        .where(QuizResult.user_id == learner.id)
        .order_by(QuizResult.updated_at.desc())
        .limit(TIMELINE_MAX)
    ):
        events.append(Event(result.updated_at, QUIZ, result, quiz))
    for note in notes_of(learner):
        events.append(Event(_day_instant(note.held_on, note.created_at), NOTE, note))
    for reached in db.session.scalars(
        select(MilestoneReached)
        .where(MilestoneReached.user_id == learner.id)
        .order_by(MilestoneReached.reached_on.desc())
        .limit(TIMELINE_MAX)
    ):
        events.append(
            Event(_day_instant(reached.reached_on, reached.ticked_at), MILESTONE, reached,
                  reached.milestone)
        )  # fmt: skip
    events.sort(key=lambda e: e.at, reverse=True)
    return events


def _day_instant(day: date, written: datetime) -> datetime:
    """Where a dated entry sits on the timeline: its day, or the moment it was written when
    that was on the same day (so today's note follows what happened before it today)."""
    return written if local_date(written) == day else local_day_start(day)


# --------------------------------------------------------------------------- notes


def notes_of(learner: User) -> list[CoachingNote]:
    return list(
        db.session.scalars(
            select(CoachingNote)
            .where(CoachingNote.learner_id == learner.id)
            .order_by(CoachingNote.held_on.desc(), CoachingNote.id.desc())
            .limit(TIMELINE_MAX)
        )
    )


def _day(raw: str | date | None, field_name: str, today: date) -> date:
    if isinstance(raw, date):
        day = raw
    else:
        try:
            day = date.fromisoformat((raw or "").strip())
        except ValueError:
            raise ServiceError(_("Give the date as a day of the calendar."), field_name) from None
    if day > today:
        raise ServiceError(_("The date is in the future."), field_name)
    if day < EARLIEST:
        raise ServiceError(_("The date is too long ago."), field_name)
    return day


def add_note(
    coach: User,
    learner: User,
    *,
    held_on: str | date | None,
    channel: str,
    discussed: str,
    next_step: str | None = None,
    now: datetime | None = None,
) -> CoachingNote:
    """Keep a coaching note; raises ServiceError naming the field that is wrong."""
    now = now or utcnow()
    if not may_coach(coach, learner):
        raise ServiceError(_("You do not coach this learner."))
    day = _day(held_on, "held_on", local_date(now))
    if channel not in CHANNELS:
        raise ServiceError(_("Choose how you met: visit, phone, LINE or during a live."), "channel")
    discussed = (discussed or "").strip()
    if not discussed:
        raise ServiceError(_("Write what you discussed."), "discussed")
    if len(discussed) > DISCUSSED_MAX:
        raise ServiceError(_("At most %(max)s characters.", max=DISCUSSED_MAX), "discussed")
    next_step = (next_step or "").strip() or None
    if next_step and len(next_step) > NEXT_STEP_MAX:
        raise ServiceError(_("At most %(max)s characters.", max=NEXT_STEP_MAX), "next_step")
    note = CoachingNote(
        learner_id=learner.id,
        coach_id=coach.id,
        held_on=day,
        channel=channel,
        discussed=discussed,
        next_step=next_step,
        created_at=now,
    )
    db.session.add(note)
    db.session.flush()
    # The note's text stays out of the log: the log is read by every admin, the note only by
    # the learner's coaches.
    audit.record("coaching_note.create", learner, actor=coach, note_id=note.id, channel=channel)
    return note


# --------------------------------------------------------------------------- milestones


@dataclass
class PathStep:
    milestone: Milestone
    reached: MilestoneReached | None = None


@dataclass
class Path:
    track: Track
    steps: list[PathStep]

    @property
    def reached(self) -> int:
        return sum(1 for step in self.steps if step.reached is not None)


def milestones_of_track(track_id: int) -> list[Milestone]:
    return list(
        db.session.scalars(
            select(Milestone)
            .where(Milestone.track_id == track_id)
            .order_by(Milestone.position, Milestone.id)
        )
    )


# Built once (bind user_id): they run on every dashboard (issue 15).
_TRACKS_OF_LEARNER = (
    select(Course.track_id)
    .join(Enrolment, Enrolment.course_id == Course.id)
    .where(Enrolment.user_id == bindparam("user_id"))
)
_PATH_MILESTONES = (
    select(Milestone, Track)
    .join(Track, Track.id == Milestone.track_id)
    .where(Milestone.track_id.in_(_TRACKS_OF_LEARNER))
    .order_by(Track.position, Track.id, Milestone.position, Milestone.id)
)
_PATH_REACHED = select(MilestoneReached).where(
    MilestoneReached.user_id == bindparam("user_id"),
    MilestoneReached.milestone_id.in_(
        select(Milestone.id).where(Milestone.track_id.in_(_TRACKS_OF_LEARNER))
    ),
)


def paths(learner: User) -> list[Path]:
    """The milestones of the programmes (tracks) of the learner's courses, with what they have
    reached: two queries."""
    params = {"user_id": learner.id}
    rows = db.session.execute(_PATH_MILESTONES, params).all()
    if not rows:
        return []
    reached = {r.milestone_id: r for r in db.session.scalars(_PATH_REACHED, params)}
    found: dict[int, Path] = {}
    for milestone, track in rows:
        path = found.setdefault(track.id, Path(track, []))
        path.steps.append(PathStep(milestone, reached.get(milestone.id)))
    return list(found.values())


def may_reach(learner: User, milestone: Milestone) -> bool:
    """The milestone is on the learner's path (a track of a course they are enrolled in)."""
    return (
        db.session.scalar(
            select(Enrolment.id)
            .join(Course, Course.id == Enrolment.course_id)
            .where(Enrolment.user_id == learner.id, Course.track_id == milestone.track_id)
            .limit(1)
        )
        is not None
    )


def tick(
    by: User,
    learner: User,
    milestone: Milestone,
    *,
    reached_on: str | date | None,
    evidence: str | None = None,
    now: datetime | None = None,
) -> MilestoneReached:
    """The learner reached the milestone on that day (ticked by them or a coach). Ticking it
    again corrects the day and the evidence."""
    now = now or utcnow()
    if not may_tick(by, learner):
        raise ServiceError(_("You do not coach this learner."))
    if not may_reach(learner, milestone):
        raise ServiceError(_("This milestone is not on the learner's path."))
    day = _day(reached_on, "reached_on", local_date(now))
    evidence = (evidence or "").strip() or None
    if evidence:
        try:
            evidence = links.check_link(evidence)
        except ServiceError as exc:
            raise ServiceError(exc.message, "evidence") from None
    reached = db.session.scalar(
        select(MilestoneReached).where(
            MilestoneReached.milestone_id == milestone.id, MilestoneReached.user_id == learner.id
        )
    )
    if reached is None:
        reached = MilestoneReached(milestone_id=milestone.id, user_id=learner.id)
    reached.reached_on, reached.evidence = day, evidence
    reached.ticked_by_id, reached.ticked_at = by.id, now
    try:
        with db.session.begin_nested():
            db.session.add(reached)
            db.session.flush()
    except IntegrityError:
        # A second tap raced the first: the first one's row stands.
        raise ServiceError(_("This milestone was just ticked; open the page again.")) from None
    audit.record("milestone.tick", learner, actor=by, milestone=milestone.key, day=day.isoformat())
    return reached


def untick(by: User, learner: User, milestone: Milestone) -> None:
    if not may_tick(by, learner):
        raise ServiceError(_("You do not coach this learner."))
    reached = db.session.scalar(
        select(MilestoneReached).where(
            MilestoneReached.milestone_id == milestone.id, MilestoneReached.user_id == learner.id
        )
    )
    if reached is not None:
        db.session.delete(reached)
        audit.record("milestone.untick", learner, actor=by, milestone=milestone.key)


def add_milestone(track: Track, title_th: str, title_en: str | None = None) -> Milestone:
    """An admin adds a step at the end of a programme's path; its key comes from its place."""
    title_th = (title_th or "").strip()
    title_en = (title_en or "").strip() or None
    if not title_th:
        raise ServiceError(_("Give the milestone a Thai title."), "title_th")
    if len(title_th) > TITLE_MAX or (title_en and len(title_en) > TITLE_MAX):
        raise ServiceError(_("At most %(max)s characters.", max=TITLE_MAX), "title_th")
    existing = milestones_of_track(track.id)
    if any(m.title_th == title_th for m in existing):
        raise ServiceError(_("This programme has that milestone already."), "title_th")
    position = max((m.position for m in existing), default=0) + 1
    keys = {m.key for m in existing}
    key = f"milestone-{position}"
    while key in keys:
        position += 1
        key = f"milestone-{position}"
    milestone = Milestone(
        track_id=track.id, key=key, position=position, title_th=title_th, title_en=title_en
    )
    db.session.add(milestone)
    db.session.flush()
    audit.record("milestone.create", milestone, track=track.slug)
    return milestone


def add_defaults(track: Track) -> list[Milestone]:
    """The default path (shop opened ... first five-star review), those still missing."""
    existing = {m.key for m in milestones_of_track(track.id)}
    start = len(existing)
    added = []
    for offset, (key, title_th, title_en) in enumerate(DEFAULT_MILESTONES, start=1):
        if key in existing:
            continue
        milestone = Milestone(
            track_id=track.id,
            key=key,
            position=start + offset,
            title_th=title_th,
            title_en=title_en,
        )
        db.session.add(milestone)
        added.append(milestone)
    db.session.flush()
    if added:
        audit.record("milestone.defaults", track, added=len(added))
    return added


def delete_milestone(milestone: Milestone) -> None:
    audit.record("milestone.delete", milestone, key=milestone.key)
    db.session.delete(milestone)
