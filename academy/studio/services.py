"""Studio rules: create and edit courses, modules, lessons and files; publish; duplicate;
co-authors. Functions never commit; the view commits once."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from academy.assignments.models import Assignment
from academy.auth.models import User
from academy.core import audit
from academy.core.access import has_role
from academy.core.errors import ServiceError
from academy.core.markdown import MarkdownRefused, check_markdown
from academy.courses import access, files, services
from academy.courses.models import (
    DRAFT,
    PUBLISHED,
    Course,
    CourseAsset,
    CourseInstructor,
    Lesson,
    Module,
)
from academy.extensions import db
from academy.quizzes.models import Quiz


@dataclass
class CourseFields:
    title_th: str
    title_en: str | None = None
    summary_th: str | None = None
    summary_en: str | None = None
    track: str | None = None
    duration_minutes: int | None = None
    sequential: bool = False
    language: str = "th"


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def my_courses(user: User) -> list[Course]:
    query = select(Course).where(access.editable_filter(user))
    return list(db.session.scalars(query.order_by(Course.updated_at.desc(), Course.id.desc())))


def _markdown_within_limits(field: str, text: str | None) -> None:
    try:
        check_markdown(text)
    except MarkdownRefused as exc:
        raise ServiceError(exc.message, field) from None


def _apply(course: Course, fields: CourseFields) -> None:
    if not (fields.title_th or "").strip():
        raise ServiceError(_("Please fill in this field."), "title_th")
    _markdown_within_limits("summary_th", fields.summary_th)
    _markdown_within_limits("summary_en", fields.summary_en)
    course.title_th = fields.title_th.strip()
    course.title_en = _clean(fields.title_en)
    course.summary_th = _clean(fields.summary_th)
    course.summary_en = _clean(fields.summary_en)
    course.duration_minutes = fields.duration_minutes
    course.sequential = bool(fields.sequential)
    course.language = fields.language if fields.language in ("th", "en") else "th"
    if fields.track:
        services.ensure_standard_tracks()
        track = services.track_by_slug(fields.track)
        if track is None:
            raise ServiceError(_("Choose a track from the list."), "track")
        course.track = track
    else:
        course.track = None


def create_course(user: User, slug: str, fields: CourseFields) -> Course:
    slug = (slug or "").strip().lower()
    if not services.SLUG_RULE.match(slug):
        raise ServiceError(
            _("Use 1-64 lower-case letters, digits, - and _ (starting with a letter or digit)."),
            "slug",
        )
    course = Course(slug=slug, status=DRAFT)
    _apply(course, fields)
    try:
        with db.session.begin_nested():
            db.session.add(course)
            db.session.flush()
    except IntegrityError:
        raise ServiceError(_("This web address is taken; choose another."), "slug") from None
    db.session.add(CourseInstructor(course_id=course.id, user_id=user.id))
    db.session.flush()
    return course


def update_course(course: Course, fields: CourseFields) -> None:
    _apply(course, fields)
    db.session.flush()


def set_status(course: Course, status: str) -> None:
    if status not in (DRAFT, PUBLISHED):
        raise ServiceError(_("Unknown status."))
    if status == PUBLISHED:
        has_lesson = db.session.scalar(
            select(func.count(Lesson.id)).where(Lesson.course_id == course.id)
        )
        if not has_lesson:
            raise ServiceError(_("Add at least one lesson before publishing."))
    if course.status != status:
        audit.record("course.publish" if status == PUBLISHED else "course.unpublish", course)
    course.status = status
    db.session.flush()


# --- co-authors -------------------------------------------------------------------------------


def instructors_of(course: Course) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(CourseInstructor, CourseInstructor.user_id == User.id)
            .where(CourseInstructor.course_id == course.id)
            .order_by(User.username)
        )
    )


def add_instructor(course: Course, username: str) -> User:
    username = (username or "").strip().lower()
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise ServiceError(_("There is no account with this username."), "username")
    if not has_role(user, "instructor"):
        raise ServiceError(_("Only instructors can be co-authors."), "username")
    try:
        with db.session.begin_nested():
            db.session.add(CourseInstructor(course_id=course.id, user_id=user.id))
    except IntegrityError:
        raise ServiceError(
            _("This person is an author of the course already."), "username"
        ) from None
    audit.record("course.author_add", course, username=user.username)
    return user


def remove_instructor(course: Course, user_id: int) -> None:
    rows = list(
        db.session.scalars(select(CourseInstructor).where(CourseInstructor.course_id == course.id))
    )
    row = next((r for r in rows if r.user_id == user_id), None)
    if row is None:
        raise ServiceError(_("This person is not an author of the course."))
    if len(rows) == 1:
        raise ServiceError(_("A course needs at least one author."))
    db.session.delete(row)
    audit.record("course.author_remove", course, user_id=user_id)
    db.session.flush()


# --- modules and lessons ----------------------------------------------------------------------


def new_key(course: Course, prefix: str) -> str:
    taken = set(db.session.scalars(select(Module.key).where(Module.course_id == course.id)))
    taken |= set(db.session.scalars(select(Lesson.key).where(Lesson.course_id == course.id)))
    taken |= set(db.session.scalars(select(Quiz.key).where(Quiz.course_id == course.id)))
    taken |= set(
        db.session.scalars(select(Assignment.key).where(Assignment.course_id == course.id))
    )
    while True:
        key = f"{prefix}-{secrets.token_hex(3)}"
        if key not in taken:
            return key


def add_module(course: Course, title_th: str, title_en: str | None = None) -> Module:
    if not (title_th or "").strip():
        raise ServiceError(_("Please fill in this field."), "title_th")
    position = (
        db.session.scalar(select(func.max(Module.position)).where(Module.course_id == course.id))
        or 0
    ) + 1
    module = Module(
        course_id=course.id,
        key=new_key(course, "module"),
        position=position,
        title_th=title_th.strip()[:300],
        title_en=_clean(title_en),
    )
    db.session.add(module)
    db.session.flush()
    return module


def update_module(
    module: Module,
    title_th: str,
    title_en: str | None,
    summary_th: str | None,
    summary_en: str | None,
) -> None:
    if not (title_th or "").strip():
        raise ServiceError(_("Please fill in this field."), "title_th")
    _markdown_within_limits("summary_th", summary_th)
    _markdown_within_limits("summary_en", summary_en)
    module.title_th = title_th.strip()[:300]
    module.title_en = _clean(title_en)
    module.summary_th = _clean(summary_th)
    module.summary_en = _clean(summary_en)
    db.session.flush()


def module_items(module: Module) -> list[Any]:
    lessons = db.session.scalars(select(Lesson).where(Lesson.module_id == module.id))
    quizzes = db.session.scalars(select(Quiz).where(Quiz.module_id == module.id))
    tasks = db.session.scalars(select(Assignment).where(Assignment.module_id == module.id))
    items = (
        [(x.position, 0, x.id, x) for x in lessons]
        + [(q.position, 1, q.id, q) for q in quizzes]
        + [(a.position, 2, a.id, a) for a in tasks]
    )
    return [item for *_rest, item in sorted(items, key=lambda t: t[:3])]


def _renumber(items: list[Any]) -> None:
    for position, item in enumerate(items, start=1):
        item.position = position


def _move(items: list[Any], target: Any, direction: str) -> None:
    index = items.index(target)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(items):
        items[index], items[other] = items[other], items[index]
    _renumber(items)
    db.session.flush()


def move_module(module: Module, direction: str) -> None:
    modules = list(
        db.session.scalars(
            select(Module)
            .where(Module.course_id == module.course_id)
            .order_by(Module.position, Module.id)
        )
    )
    _move(modules, module, direction)


def move_item(item: Any, direction: str) -> None:
    """Move a lesson, quiz or assignment up or down among the items of its module."""
    module = db.session.get(Module, item.module_id)
    _move(module_items(module), item, direction)


def add_quiz(course: Course, module: Module, title_th: str) -> Any:
    """An empty quiz at the end of the module; its questions are written in the quiz editor."""
    if not (title_th or "").strip():
        raise ServiceError(_("Please fill in this field."), "title_th")
    quiz = Quiz(
        course_id=course.id,
        module_id=module.id,
        key=new_key(course, "quiz"),
        position=len(module_items(module)) + 1,
        title_th=title_th.strip()[:300],
    )
    db.session.add(quiz)
    db.session.flush()
    return quiz


def delete_module(module: Module) -> None:
    db.session.delete(module)
    db.session.flush()
    rest = list(
        db.session.scalars(
            select(Module).where(Module.course_id == module.course_id).order_by(Module.position)
        )
    )
    _renumber(rest)


def save_lesson(
    course: Course,
    module: Module,
    lesson: Lesson | None,
    title_th: str,
    title_en: str | None,
    minutes: int | None,
    body: str,
) -> Lesson:
    if not (title_th or "").strip():
        raise ServiceError(_("Please fill in this field."), "title_th")
    body, html = rendered_text(course, body, "body")
    if lesson is None:
        lesson = Lesson(course_id=course.id, module_id=module.id, key=new_key(course, "lesson"))
        lesson.position = len(module_items(module)) + 1
        db.session.add(lesson)
    lesson.title_th = title_th.strip()[:300]
    lesson.title_en = _clean(title_en)
    lesson.minutes = minutes
    lesson.body = body
    lesson.body_html = html
    db.session.flush()
    return lesson


def rendered_text(course: Course, text: str | None, field: str) -> tuple[str, str]:
    """A lesson's or assignment's Markdown, tidied, and its HTML; a ServiceError for `field`
    when the Markdown is past its limits or links a file the course does not have."""
    body = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip("\n").rstrip()
    paths = asset_paths(course)
    try:
        problem = link_problem(body, paths)
        html = services.render_lesson(course.slug, body, paths)
    except MarkdownRefused as exc:
        raise ServiceError(exc.message, field) from None
    if problem:
        raise ServiceError(problem, field)
    return body, html


def link_problem(body: str, paths: set[str]) -> str | None:
    from academy.studio.loader import CourseFormatError, check_links

    try:
        check_links(body, dict.fromkeys(paths), "")
    except CourseFormatError as exc:
        return _("Line %(line)d: %(reason)s", line=exc.line or 1, reason=exc.reason)
    return None


def delete_lesson(lesson: Lesson) -> None:
    module = db.session.get(Module, lesson.module_id)
    db.session.delete(lesson)
    db.session.flush()
    _renumber(module_items(module))


def preview(course: Course, body: str) -> str:
    """The lesson HTML, or (for a text beyond the Markdown limits) the reason, shown in place
    of the preview so the writer sees it while typing."""
    try:
        return services.render_lesson(course.slug, body or "", asset_paths(course))
    except MarkdownRefused as exc:
        return str(Markup('<p class="form-error" role="alert">%s</p>') % exc.message)


# --- files ------------------------------------------------------------------------------------


def asset_paths(course: Course) -> set[str]:
    return set(
        db.session.scalars(select(CourseAsset.path).where(CourseAsset.course_id == course.id))
    )


def list_assets(course: Course) -> list[CourseAsset]:
    return list(
        db.session.scalars(
            select(CourseAsset).where(CourseAsset.course_id == course.id).order_by(CourseAsset.path)
        )
    )


def clean_file_name(name: str, data_sha: str) -> str:
    """A safe name for assets/: keeps a-z 0-9 . _ -; a Thai or odd name becomes file-<hash>."""
    name = PurePosixPath((name or "").replace("\\", "/")).name.lower()
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = re.sub(r"[^a-z0-9_-]+", "-", stem).strip("-_")[:80]
    suffix = re.sub(r"[^a-z0-9]", "", suffix)[:8]
    if not stem:
        stem = f"file-{data_sha[:8]}"
    return f"{stem}.{suffix}" if suffix else stem


def add_file(
    course: Course, name: str, data: bytes, *, image_only: bool = False, path: str | None = None
) -> CourseAsset:
    """Check an uploaded file by its content and add it to the course's assets/."""
    limit = current_app.config["IMAGE_MAX_BYTES" if image_only else "UPLOAD_MAX_BYTES"]
    try:
        checked = files.check_file(name or "", data, max_bytes=limit)
        if checked.is_image:
            data = files.reencode_image(data, checked.content_type)
            checked = files.check_file(name or "", data, max_bytes=limit)
    except files.FileRefused as exc:
        raise ServiceError(
            _("This file cannot be used: %(reason)s", reason=str(exc)), "file"
        ) from None
    if image_only and not checked.is_image:
        raise ServiceError(_("Please choose an image (PNG, JPEG, WebP, GIF or SVG)."), "file")
    path = path or f"assets/{clean_file_name(name, checked.sha256)}"
    if files.safe_asset_path(path) is None:
        raise ServiceError(_("This file name cannot be used."), "file")
    files.store(data, checked.sha256)
    asset = db.session.scalar(
        select(CourseAsset).where(CourseAsset.course_id == course.id, CourseAsset.path == path)
    ) or CourseAsset(course_id=course.id, path=path)
    asset.content_type, asset.size, asset.sha256 = (
        checked.content_type,
        checked.size,
        checked.sha256,
    )
    db.session.add(asset)
    db.session.flush()
    return asset


def set_cover(course: Course, name: str, data: bytes) -> None:
    suffix = PurePosixPath(name or "").suffix.lower()
    asset = add_file(course, name, data, image_only=True, path=f"assets/cover{suffix}")
    course.cover_path = asset.path
    db.session.flush()


def delete_file(course: Course, asset: CourseAsset) -> None:
    used = db.session.scalar(
        select(Lesson.key).where(Lesson.course_id == course.id, Lesson.body.contains(asset.path))
    )
    if used or course.cover_path == asset.path:
        raise ServiceError(
            _("This file is still used in the course; remove it from the lessons first.")
        )
    db.session.delete(asset)
    db.session.flush()
