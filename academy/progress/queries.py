"""What the progress pages show, each read in a fixed, small number of queries however many
learners or courses there are. Read-only: the rules that write live in services.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, literal_column, select, union_all

from academy.auth.models import User
from academy.classes.models import Class, ClassCourse, ClassMember
from academy.courses.models import Course, Enrolment, Lesson, Module
from academy.extensions import db
from academy.progress.models import CourseProgress, LessonProgress, ProgressEvent, QuizResult
from academy.progress.state import resume_lesson_id
from academy.quizzes.models import OPEN, Attempt, Quiz

LESSON = "lesson"
QUIZ = "quiz"


@dataclass(frozen=True)
class Item:
    """A lesson or a quiz of a course, in the course's order."""

    kind: str
    id: int
    course_id: int
    key: str
    title_th: str
    title_en: str | None

    @property
    def ref(self) -> tuple[str, int]:
        return (self.kind, self.id)


_module = Module.__table__
_lesson_progress = LessonProgress.__table__
_quiz_result = QuizResult.__table__


def _items_part(model: Any, kind: str, rank: int):
    # On the tables: the dashboard's item list is plain tuples, and a Core select skips the
    # ORM's per-statement work (issue 15).
    model = model.__table__.c
    return (
        select(
            literal_column(f"'{kind}'").label("kind"),
            model.id.label("id"),
            model.course_id.label("course_id"),
            model.key.label("key"),
            model.title_th.label("title_th"),
            model.title_en.label("title_en"),
            _module.c.position.label("module_position"),
            model.position.label("position"),
            literal_column(str(rank)).label("rank"),
        )
        .join(_module, _module.c.id == model.module_id)
        .where(model.course_id.in_(bindparam("course_ids", expanding=True)))
    )


# The dashboard's statements are built once, at import: building and cache-keying them cost
# more than running them (issue 15).
_BOTH = union_all(_items_part(Lesson, LESSON, 0), _items_part(Quiz, QUIZ, 1)).subquery()
_COURSE_ITEMS = select(_BOTH).order_by(
    _BOTH.c.course_id, _BOTH.c.module_position, _BOTH.c.position, _BOTH.c.rank, _BOTH.c.id
)


def course_items(course_ids: list[int]) -> dict[int, list[Item]]:
    """One query: the lessons and quizzes of these courses, in module then item order."""
    result: dict[int, list[Item]] = {cid: [] for cid in course_ids}
    if not course_ids:
        return result
    for row in db.session.execute(_COURSE_ITEMS, {"course_ids": course_ids}):
        result[row.course_id].append(
            Item(row.kind, row.id, row.course_id, row.key, row.title_th, row.title_en)
        )
    return result


def next_item(items: list[Item], done: set[tuple[str, int]], last_lesson_id: int | None):
    """The first item not done from the learner's last lesson on (then from the start)."""
    ref = resume_lesson_id(
        ((item.ref, item.ref in done) for item in items),
        (LESSON, last_lesson_id) if last_lesson_id else None,
    )
    return next((item for item in items if item.ref == ref), None)


# --- the learner dashboard -------------------------------------------------------------------


@dataclass
class DashboardCourse:
    course: Course
    enrolled_at: datetime
    progress: CourseProgress | None
    next: Item | None = None

    @property
    def percent(self) -> float:
        return self.progress.percent if self.progress else 0.0

    @property
    def completed_at(self) -> datetime | None:
        return self.progress.completed_at if self.progress else None

    @property
    def last_activity_at(self) -> datetime | None:
        if self.progress is None or self.progress.first_activity_at is None:
            return None
        return self.progress.last_activity_at


@dataclass
class Dashboard:
    current: list[DashboardCourse] = field(default_factory=list)
    finished: list[DashboardCourse] = field(default_factory=list)
    resume: DashboardCourse | None = None


_ENROLLED = (
    select(Course, Enrolment.created_at, CourseProgress)
    .join(Enrolment, Enrolment.course_id == Course.id)
    .outerjoin(
        CourseProgress,
        and_(CourseProgress.course_id == Course.id, CourseProgress.user_id == bindparam("user_id")),
    )
    .where(Enrolment.user_id == bindparam("user_id"))
    .order_by(Enrolment.created_at.desc(), Course.id)
)


def dashboard(user: User) -> Dashboard:
    """Three queries: the enrolled courses with their totals, their items, the learner's ticks."""
    rows = db.session.execute(_ENROLLED, {"user_id": user.id}).all()
    entries = [
        DashboardCourse(course, enrolled_at, progress) for course, enrolled_at, progress in rows
    ]
    course_ids = [e.course.id for e in entries]
    items = course_items(course_ids)
    done = _done_refs(user.id, course_ids)
    board = Dashboard()
    for entry in entries:
        if entry.completed_at is not None:
            board.finished.append(entry)
            continue
        last = entry.progress.last_lesson_id if entry.progress else None
        entry.next = next_item(items[entry.course.id], done, last)
        board.current.append(entry)
    board.finished.sort(key=lambda e: e.completed_at, reverse=True)
    started = [e for e in board.current if e.last_activity_at is not None]
    if started:
        board.resume = max(started, key=lambda e: e.last_activity_at)
    elif board.current:
        board.resume = board.current[0]
    if board.resume is not None:
        board.current.remove(board.resume)
        board.current.insert(0, board.resume)
    return board


def _done_refs(user_id: int, course_ids: list[int]) -> set[tuple[str, int]]:
    """One query: the lessons done and quizzes passed by a learner in these courses."""
    if not course_ids:
        return set()
    params = {"user_id": user_id, "course_ids": course_ids}
    return {(kind, item_id) for kind, item_id in db.session.execute(_DONE_REFS, params)}


_DONE_REFS = union_all(
    select(literal_column(f"'{LESSON}'").label("kind"), _lesson_progress.c.lesson_id).where(
        _lesson_progress.c.user_id == bindparam("user_id"),
        _lesson_progress.c.course_id.in_(bindparam("course_ids", expanding=True)),
        _lesson_progress.c.done_at.is_not(None),
    ),
    select(literal_column(f"'{QUIZ}'").label("kind"), _quiz_result.c.quiz_id).where(
        _quiz_result.c.user_id == bindparam("user_id"),
        _quiz_result.c.course_id.in_(bindparam("course_ids", expanding=True)),
        _quiz_result.c.passed.is_(True),
    ),
)


# --- the class gradebook ----------------------------------------------------------------------


@dataclass
class Cell:
    at: datetime | None = None  # when the lesson was done / the quiz last graded
    percent: float | None = None
    passed: bool | None = None
    attempts: int = 0
    failed_attempts: int = 0


@dataclass
class LearnerRow:
    learner: User
    progress: CourseProgress | None
    cells: dict[tuple[str, int], Cell] = field(default_factory=dict)

    @property
    def percent(self) -> float:
        return self.progress.percent if self.progress else 0.0

    @property
    def completed_at(self) -> datetime | None:
        return self.progress.completed_at if self.progress else None


@dataclass
class Gradebook:
    klass: Class
    courses: list[Course]
    course: Course | None
    items: list[Item] = field(default_factory=list)
    rows: list[LearnerRow] = field(default_factory=list)


def class_courses(klass: Class) -> list[Course]:
    return list(
        db.session.scalars(
            select(Course)
            .join(ClassCourse, ClassCourse.course_id == Course.id)
            .where(ClassCourse.class_id == klass.id)
            .order_by(Course.title_th, Course.id)
        )
    )


def pick_course(courses: list[Course], course_id: int | None) -> Course | None:
    """The asked-for course if the class takes it, the class's first course without a choice;
    None for a course the class does not take (the view answers 404)."""
    if course_id is None:
        return courses[0] if courses else None
    return next((c for c in courses if c.id == course_id), None)


def members_with_progress(klass: Class, course_id: int) -> list[tuple[User, CourseProgress | None]]:
    """One query: the class's learners, by name, with their totals in the course."""
    return [
        (user, progress)
        for user, progress in db.session.execute(
            select(User, CourseProgress)
            .join(ClassMember, ClassMember.user_id == User.id)
            .outerjoin(
                CourseProgress,
                and_(CourseProgress.user_id == User.id, CourseProgress.course_id == course_id),
            )
            .where(ClassMember.class_id == klass.id)
            .order_by(User.full_name, User.id)
        )
    ]


def class_marks(klass: Class, course_id: int) -> dict[int, dict[tuple[str, int], Cell]]:
    """One query: every lesson tick and quiz result of the class's learners in the course."""
    members = select(ClassMember.user_id).where(ClassMember.class_id == klass.id)
    quizzes = select(
        QuizResult.user_id,
        literal_column(f"'{QUIZ}'").label("kind"),
        QuizResult.quiz_id.label("item_id"),
        QuizResult.updated_at.label("at"),
        QuizResult.percent,
        QuizResult.passed,
        QuizResult.attempts,
        QuizResult.failed_attempts,
    ).where(QuizResult.course_id == course_id, QuizResult.user_id.in_(members))
    lessons = select(
        LessonProgress.user_id,
        literal_column(f"'{LESSON}'"),
        LessonProgress.lesson_id,
        LessonProgress.done_at,
        literal_column("NULL"),
        literal_column("NULL"),
        literal_column("0"),
        literal_column("0"),
    ).where(
        LessonProgress.course_id == course_id,
        LessonProgress.user_id.in_(members),
        LessonProgress.done_at.is_not(None),
    )
    marks: dict[int, dict[tuple[str, int], Cell]] = {}
    for row in db.session.execute(union_all(quizzes, lessons)):
        cell = Cell(
            at=row.at,
            percent=row.percent,
            passed=None if row.passed is None else bool(row.passed),
            attempts=row.attempts or 0,
            failed_attempts=row.failed_attempts or 0,
        )
        marks.setdefault(row.user_id, {})[(row.kind, row.item_id)] = cell
    return marks


def gradebook(klass: Class, course_id: int | None) -> Gradebook | None:
    """Four queries whatever the class size: courses, items, learners with totals, marks.
    None when the class does not take the asked-for course."""
    courses = class_courses(klass)
    course = pick_course(courses, course_id)
    if course is None:
        return None if course_id is not None else Gradebook(klass, courses, None)
    book = Gradebook(klass, courses, course, items=course_items([course.id])[course.id])
    marks = class_marks(klass, course.id)
    book.rows = [
        LearnerRow(user, progress, marks.get(user.id, {}))
        for user, progress in members_with_progress(klass, course.id)
    ]
    return book


# --- who is stuck -----------------------------------------------------------------------------

NOT_STARTED = "not_started"
IDLE = "idle"
QUIZ_FAILED = "quiz_failed"
# Higher first: a learner failing a quiz again and again needs the teacher most.
URGENCY = {QUIZ_FAILED: 3, NOT_STARTED: 2, IDLE: 1}


@dataclass
class Reason:
    code: str
    minutes: int | None = None  # IDLE: minutes without progress
    quiz: Item | None = None  # QUIZ_FAILED: which quiz
    failed: int = 0  # QUIZ_FAILED: how many failed attempts


@dataclass
class StuckLearner:
    learner: User
    progress: CourseProgress | None
    reasons: list[Reason]

    @property
    def urgency(self) -> tuple[int, int, int]:
        top = max(URGENCY[r.code] for r in self.reasons)
        minutes = max((r.minutes or 0) for r in self.reasons)
        return (top, len(self.reasons), minutes)


@dataclass
class StuckReport:
    klass: Class
    courses: list[Course]
    course: Course | None
    learners: list[StuckLearner] = field(default_factory=list)
    active: int = 0  # learners who progressed in the last N minutes
    total: int = 0
    idle_minutes: int = 10
    checked_at: datetime | None = None


def stuck(
    klass: Class, course_id: int | None, now: datetime, idle_minutes: int
) -> StuckReport | None:
    """Who needs the teacher now, most urgent first: never started; nothing for N minutes
    while others in the class progress; a quiz failed twice or more and not yet passed."""
    courses = class_courses(klass)
    course = pick_course(courses, course_id)
    report = StuckReport(klass, courses, course, idle_minutes=idle_minutes, checked_at=now)
    if course is None:
        return None if course_id is not None else report
    members = members_with_progress(klass, course.id)
    since = now - timedelta(minutes=idle_minutes)
    failures: dict[int, list[Reason]] = {}
    quiz_rows = db.session.execute(
        select(QuizResult.user_id, QuizResult.failed_attempts, Quiz)
        .join(Quiz, Quiz.id == QuizResult.quiz_id)
        .join(ClassMember, ClassMember.user_id == QuizResult.user_id)
        .where(
            ClassMember.class_id == klass.id,
            QuizResult.course_id == course.id,
            QuizResult.failed_attempts >= 2,
            QuizResult.passed.is_(False),
        )
        .order_by(Quiz.position)
    )
    for user_id, failed, quiz in quiz_rows:
        item = Item(QUIZ, quiz.id, quiz.course_id, quiz.key, quiz.title_th, quiz.title_en)
        failures.setdefault(user_id, []).append(Reason(QUIZ_FAILED, quiz=item, failed=failed))

    def active(p: CourseProgress | None) -> bool:
        return p is not None and p.first_activity_at is not None and p.last_activity_at >= since

    report.total = len(members)
    report.active = sum(1 for _user, p in members if active(p))
    for user, progress in members:
        if progress is not None and progress.completed_at is not None:
            continue
        reasons = list(failures.get(user.id, []))
        if progress is None or progress.first_activity_at is None:
            reasons.append(Reason(NOT_STARTED))
        elif not active(progress) and report.active > 0:
            minutes = int((now - progress.last_activity_at).total_seconds() // 60)
            reasons.append(Reason(IDLE, minutes=minutes))
        if reasons:
            report.learners.append(StuckLearner(user, progress, reasons))
    report.learners.sort(key=lambda s: s.learner.full_name)
    report.learners.sort(key=lambda s: s.urgency, reverse=True)
    return report


# --- one learner in a class ------------------------------------------------------------------


@dataclass
class TimelineEntry:
    event: ProgressEvent
    course: Course
    lesson_title: Item | None
    quiz_title: Item | None


@dataclass
class LearnerDetail:
    klass: Class
    learner: User
    courses: list[tuple[Course, CourseProgress | None]]
    timeline: list[TimelineEntry]
    attempts: list[tuple[Attempt, Quiz]]


TIMELINE_LIMIT = 200


def class_learner(klass: Class, user_id: int) -> User | None:
    """The learner if they are a member of the class (one query), else None."""
    return db.session.scalar(
        select(User)
        .join(ClassMember, ClassMember.user_id == User.id)
        .where(ClassMember.class_id == klass.id, User.id == user_id)
    )


def learner_detail(klass: Class, learner: User) -> LearnerDetail:
    """Four queries: the class's courses with the learner's totals, the latest events, the
    quiz attempts. Only the class's courses: a teacher sees what they teach."""
    courses = list(
        db.session.execute(
            select(Course, CourseProgress)
            .join(ClassCourse, ClassCourse.course_id == Course.id)
            .outerjoin(
                CourseProgress,
                and_(CourseProgress.course_id == Course.id, CourseProgress.user_id == learner.id),
            )
            .where(ClassCourse.class_id == klass.id)
            .order_by(Course.title_th, Course.id)
        ).all()
    )
    by_id = {course.id: course for course, _p in courses}
    course_ids = list(by_id)
    timeline = []
    if course_ids:
        rows = db.session.execute(
            select(
                ProgressEvent,
                Lesson.title_th,
                Lesson.title_en,
                Quiz.title_th,
                Quiz.title_en,
            )
            .outerjoin(Lesson, Lesson.id == ProgressEvent.lesson_id)
            .outerjoin(Quiz, Quiz.id == ProgressEvent.quiz_id)
            .where(ProgressEvent.user_id == learner.id, ProgressEvent.course_id.in_(course_ids))
            .order_by(ProgressEvent.at.desc(), ProgressEvent.id.desc())
            .limit(TIMELINE_LIMIT)
        )
        for event, l_th, l_en, q_th, q_en in rows:
            lesson = (
                Item(LESSON, event.lesson_id, event.course_id, "", l_th, l_en) if l_th else None
            )
            quiz = Item(QUIZ, event.quiz_id, event.course_id, "", q_th, q_en) if q_th else None
            timeline.append(TimelineEntry(event, by_id[event.course_id], lesson, quiz))
    attempts = []
    if course_ids:
        attempts = list(
            db.session.execute(
                select(Attempt, Quiz)
                .join(Quiz, Quiz.id == Attempt.quiz_id)
                .where(
                    Attempt.user_id == learner.id,
                    Quiz.course_id.in_(course_ids),
                    Attempt.status != OPEN,
                )
                .order_by(Quiz.course_id, Quiz.position, Quiz.id, Attempt.number)
            ).all()
        )
    return LearnerDetail(klass, learner, courses, timeline, attempts)
