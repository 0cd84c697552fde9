"""The rules of courses: tracks, the catalogue, enrolment, lessons done, and studio editing.

Plain functions on models; they raise ServiceError for input a person can fix and never commit
(the view or command that called them commits once)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, joinedload

from academy.auth.models import User
from academy.core import audit, signals
from academy.core.db import insert_ignoring_duplicates
from academy.core.errors import ServiceError
from academy.core.markdown import render_markdown
from academy.courses import access, files, outline_cache
from academy.courses.models import (
    DRAFT,
    PUBLISHED,
    Course,
    Enrolment,
    Lesson,
    Module,
    Track,
)
from academy.courses.outline_cache import Snapshot
from academy.extensions import db

KEY_RULE = re.compile(r"^[a-z0-9_-]{1,64}$")
# Titles of courses, modules, lessons and quizzes (the columns are 300 characters).
TITLE_MAX = 300
SLUG_RULE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

# The four programme lines every Academy has; admins may add more.
STANDARD_TRACKS = (
    ("seller-academy", "เซลเลอร์อะคาเดมี", "Seller Academy"),
    ("digital-skills", "ทักษะดิจิทัล", "Digital skills"),
    ("smart-environment", "สิ่งแวดล้อมอัจฉริยะ", "Smart Environment"),
    ("otop", "OTOP", "OTOP"),
)
STATUSES = (DRAFT, PUBLISHED)
STATUS_LABELS = {DRAFT: _l("Draft"), PUBLISHED: _l("Published")}


# --- tracks -----------------------------------------------------------------------------------


def ensure_standard_tracks() -> None:
    """Add the standard tracks that are missing (safe to run any number of times)."""
    existing = set(db.session.scalars(select(Track.slug)))
    for position, (slug, name_th, name_en) in enumerate(STANDARD_TRACKS):
        if slug not in existing:
            db.session.add(Track(slug=slug, name_th=name_th, name_en=name_en, position=position))
    db.session.flush()


def list_tracks() -> list[Track]:
    return list(db.session.scalars(select(Track).order_by(Track.position, Track.id)))


def track_by_slug(slug: str) -> Track | None:
    return db.session.scalar(select(Track).where(Track.slug == slug))


def add_track(slug: str, name_th: str, name_en: str | None) -> Track:
    slug = (slug or "").strip().lower()
    if not SLUG_RULE.match(slug):
        raise ServiceError(
            _("Use 1-64 lower-case letters, digits, - and _ (starting with a letter or digit)."),
            "slug",
        )
    if not (name_th or "").strip():
        raise ServiceError(_("Please fill in this field."), "name_th")
    ensure_standard_tracks()
    position = (db.session.scalar(select(func.max(Track.position))) or 0) + 1
    track = Track(slug=slug, name_th=name_th.strip(), name_en=(name_en or "").strip() or None)
    track.position = position
    try:
        with db.session.begin_nested():
            db.session.add(track)
    except IntegrityError:
        raise ServiceError(_("A track with this short name exists already."), "slug") from None
    audit.record("track.create", track)
    return track


# --- asset URLs and lesson HTML ---------------------------------------------------------------


def asset_url(slug: str, path: str) -> str:
    """The URL a course file is served from; `path` is `assets/...` as lessons write it."""
    rest = path.removeprefix("assets/")
    if has_request_context():
        return url_for("courses.asset", slug=slug, path=rest)
    root = (current_app.config.get("APPLICATION_ROOT") or "/").rstrip("/")
    return f"{root}/courses/{slug}/assets/{rest}"


def render_lesson(slug: str, body: str, known_paths: set[str] | None = None) -> str:
    """Lesson Markdown to stored HTML, with `assets/x` links pointing at the served files."""

    def rewrite(url: str) -> str:
        path = url.split("#", 1)[0].split("?", 1)[0]
        if files.safe_asset_path(path) and (known_paths is None or path in known_paths):
            return asset_url(slug, path)
        return url

    return phone_friendly(str(render_markdown(body, rewrite_url=rewrite)))


def phone_friendly(html: str) -> str:
    """Wide tables and code scroll inside their own box on a phone instead of pushing the page
    sideways; tabindex lets keyboard users scroll them too. (Sanitised HTML in, fixed markup
    added: nothing a writer typed can produce these attributes.)"""
    html = html.replace("<table>", '<div class="table-wrap" tabindex="0"><table>')
    html = html.replace("</table>", "</table></div>")
    return html.replace("<pre>", '<pre tabindex="0">')


# --- reading ----------------------------------------------------------------------------------


def is_enrolled_anywhere(user: User) -> bool:
    found = db.session.scalar(select(Enrolment.id).where(Enrolment.user_id == user.id).limit(1))
    return found is not None


# The statements of the learner's hot pages are built once, at import: building and
# cache-keying a select costs more than SQLite takes to run it (bench/README.md, issue 15).
# With its track: the course page names it (a lazy load would be one more query).
_COURSE_BY_SLUG = (
    select(Course).options(joinedload(Course.track)).where(Course.slug == bindparam("slug"))
)
# The modules with their lessons in one query (a module without lessons comes with None). The
# outline shows titles: leave the lesson bodies (Markdown and HTML, the bulk of the rows) in
# the database.
_OUTLINE = (
    select(Module, Lesson)
    .outerjoin(Lesson, and_(Lesson.module_id == Module.id, Lesson.course_id == Module.course_id))
    .options(defer(Lesson.body), defer(Lesson.body_html))
    .where(Module.course_id == bindparam("course_id"))
    .order_by(Module.position, Module.id, Lesson.position, Lesson.id)
)
_LESSON_BY_KEY = select(Lesson).where(
    Lesson.course_id == bindparam("course_id"), Lesson.key == bindparam("key")
)
# The lesson page's course and lesson in one query (the lesson None when the key is unknown).
_COURSE_AND_LESSON = (
    select(Course, Lesson)
    .outerjoin(Lesson, and_(Lesson.course_id == Course.id, Lesson.key == bindparam("key")))
    .where(Course.slug == bindparam("slug"))
)


def course_by_slug(slug: str) -> Course | None:
    return db.session.scalar(_COURSE_BY_SLUG, {"slug": slug})


def catalogue(
    user: Any, term: str = "", track_slug: str = "", tracks: list[Track] | None = None
) -> list[tuple[Track | None, list[Course]]]:
    """Published courses (plus the drafts this person may edit), grouped by track in order
    (`tracks`: list_tracks(), when the caller has read it already)."""
    query = select(Course).order_by(Course.title_th)
    query = query.where(access.viewable_filter(user))
    term = (term or "").strip()
    if term:
        like = f"%{term}%"
        query = query.where(
            or_(
                Course.title_th.ilike(like),
                Course.title_en.ilike(like),
                Course.summary_th.ilike(like),
                Course.summary_en.ilike(like),
            )
        )
    if track_slug:
        query = query.join(Track, Course.track_id == Track.id).where(Track.slug == track_slug)
    courses = list(db.session.scalars(query))
    tracks = list_tracks() if tracks is None else tracks
    groups: list[tuple[Track | None, list[Course]]] = []
    for track in tracks:
        in_track = [c for c in courses if c.track_id == track.id]
        if in_track:
            groups.append((track, in_track))
    loose = [c for c in courses if c.track_id is None]
    if loose:
        groups.append((None, loose))
    return groups


@dataclass
class OutlineItem:
    kind: str  # "lesson" or "quiz"
    id: int
    key: str
    obj: Any
    done: bool = False
    locked: bool = False
    mark: Any = None  # QuizMark for quizzes
    state: str | None = None  # assignments: not_handed_in, waiting, needs_changes, passed


@dataclass
class OutlineModule:
    module: Module
    items: list[OutlineItem] = field(default_factory=list)


# An outline before a learner's marks: the modules in order, each with its items in order as
# (kind, id, key, row).
Skeleton = list[tuple[Any, list[tuple[str, int, str, Any]]]]


def _outline_rows(course: Course) -> Skeleton:
    """The modules with their lessons (one query) and the other features' items beside them
    (one query per kind: quizzes, assignments), in order."""
    modules: list[Module] = []
    by_module: dict[int, list[tuple[int, int, str, int, str, Any]]] = {}
    for module, lesson in db.session.execute(_OUTLINE, {"course_id": course.id}):
        if module.id not in by_module:
            modules.append(module)
            by_module[module.id] = []
        if lesson is not None:
            by_module[module.id].append(
                (lesson.position, 0, "lesson", lesson.id, lesson.key, lesson)
            )
    # Quizzes sit beside lessons in a module; the quizzes feature (above) says which.
    for _receiver, rows in signals.outline_items.send(course):
        for module_id, position, kind, item_id, key, obj in rows:
            by_module.setdefault(module_id, []).append((position, 1, kind, item_id, key, obj))
    return [
        (module, [t[2:] for t in sorted(by_module[module.id], key=lambda t: (t[0], t[1], t[3]))])
        for module in modules
    ]


def _snapshot(skeleton: Skeleton) -> Skeleton:
    return [
        (Snapshot(module), [(kind, i, key, Snapshot(obj)) for kind, i, key, obj in items])
        for module, items in skeleton
    ]


def outline(course: Course, state: Any = None) -> list[OutlineModule]:
    """Modules with their lessons, quizzes and assignments in order, as rows of the session:
    for the studio and the export, which edit and write them (the learner's pages read
    learner_outline). With a learner's state, each item says whether it is done and
    (sequential courses) whether it is locked."""
    return _arranged(_outline_rows(course), course, state)


def learner_outline(course: Course, state: Any = None) -> list[OutlineModule]:
    """The outline as the learner's pages show it: kept per process by the course's version
    (courses/outline_cache.py), so a page reads it with no query; its modules and items are
    read-only Snapshots of their rows."""
    skeleton = outline_cache.cached(db.session, course, lambda: _snapshot(_outline_rows(course)))
    return _arranged(skeleton, course, state)


def _arranged(skeleton: Skeleton, course: Course, state: Any) -> list[OutlineModule]:
    result = []
    previous_done = True
    for module, items in skeleton:
        entry = OutlineModule(module)
        for kind, item_id, key, obj in items:
            item = OutlineItem(kind, item_id, key, obj)
            if state is not None:
                if kind == "lesson":
                    item.done = item_id in state.done_lesson_ids
                elif kind == "assignment":
                    item.state = state.assignment_states.get(item_id, "not_handed_in")
                    item.done = item.state == "passed"
                else:
                    item.mark = state.quiz_marks.get(item_id)
                    item.done = bool(item.mark and item.mark.passed)
                item.locked = bool(course.sequential and not previous_done)
                # A handed-in assignment opens the next item: learners go on while the coach
                # reviews (it still has to pass for the course to complete).
                previous_done = item.done or item.state in ("waiting", "needs_changes")
            entry.items.append(item)
        result.append(entry)
    return result


def flat_items(modules: list[OutlineModule]) -> list[OutlineItem]:
    return [item for module in modules for item in module.items]


def course_and_lesson(slug: str, key: str) -> tuple[Course | None, Lesson | None]:
    """The course of this slug and its lesson of this key, in one query."""
    row = db.session.execute(_COURSE_AND_LESSON, {"slug": slug, "key": key}).first()
    return (row[0], row[1]) if row else (None, None)


def lesson_by_key(course: Course, key: str) -> Lesson | None:
    return db.session.scalar(_LESSON_BY_KEY, {"course_id": course.id, "key": key})


# --- learner actions --------------------------------------------------------------------------


def enrol(user: User, course: Course, source: str = "self") -> bool:
    """Enrol the learner once; True when this call enrolled them. Sends `enrolled`."""
    if not access.may_view(user, course):
        raise ServiceError(_("This course is not open yet."))
    # Already enrolled (every "mark done" of an enrolled learner, two clicks, two tabs): the
    # unique constraint says so and the INSERT does nothing; no error, no SAVEPOINT.
    # RETURNING, not rowcount: drivers disagree on rowcount here.
    inserted = db.session.execute(
        insert_ignoring_duplicates(db.session, Enrolment)
        .values(user_id=user.id, course_id=course.id, source=source)
        .returning(Enrolment.id)
    ).scalar()
    if inserted is None:
        return False
    signals.enrolled.send(user, course=course)
    return True


def mark_done(user: User, lesson: Lesson, course: Course) -> None:
    """The learner says they finished the lesson; enrols them if they were not yet."""
    enrol(user, course)
    signals.lesson_done.send(user, lesson=lesson)


def lesson_viewed(user: User, lesson: Lesson, seconds: int | None) -> None:
    if seconds is not None:
        seconds = max(0, min(int(seconds), 4 * 3600))
    signals.lesson_viewed.send(user, lesson=lesson, seconds=seconds)
