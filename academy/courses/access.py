"""Who may see, take and edit a course: each rule answers "may this person?" for one course and
"which courses?" as a filter for lists, so a list and a page cannot disagree. Views, services,
other features and templates (through `can`) ask here; nothing else compares roles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, select, true

from academy.core.access import INSTRUCTOR, is_admin, role_is, rule
from academy.courses.models import PUBLISHED, Course, CourseInstructor, Enrolment
from academy.extensions import db


def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_instructor_of(user: Any, course_id: int | None) -> bool:
    """One of the course's own instructors (co-authors). By primary key, so asking again in the
    same request costs no query."""
    if not _signed_in(user) or course_id is None:
        return False
    return db.session.get(CourseInstructor, (course_id, user.id)) is not None


def is_enrolled(user: Any, course_id: int) -> bool:
    if not _signed_in(user):
        return False
    return (
        db.session.scalar(
            select(Enrolment.id).where(
                Enrolment.user_id == user.id, Enrolment.course_id == course_id
            )
        )
        is not None
    )


def may_edit_course(user: Any, course_id: int | None) -> bool:
    """A course's own instructors and admins (by the course's id, for its quizzes and files)."""
    if course_id is None or not _signed_in(user):
        return False
    return is_admin(user) or (role_is(user, INSTRUCTOR) and is_instructor_of(user, course_id))


@rule("course.edit")
def may_edit(user: Any, course: Course | None) -> bool:
    return course is not None and may_edit_course(user, course.id)


def editable_filter(user: Any) -> ColumnElement[bool]:
    """The rows of may_edit: every course for an admin, an instructor's own courses."""
    if is_admin(user):
        return true()
    if not role_is(user, INSTRUCTOR):
        return Course.id.is_(None)
    mine = select(CourseInstructor.course_id).where(CourseInstructor.user_id == user.id)
    return Course.id.in_(mine)


def may_open(user: Any, course: Course, item: Any) -> bool:
    """An outline item locked by a sequential course (the one before it is not done) opens
    only for the course's editors, who preview it."""
    return not item.locked or may_edit(user, course)


@rule("course.view")
def may_view(user: Any, course: Course | None) -> bool:
    """Published courses: everyone, also visitors who are not signed in; drafts: their
    instructors and admins."""
    if course is None:
        return False
    return course.is_published or may_edit(user, course)


def viewable_filter(user: Any) -> ColumnElement[bool]:
    """The rows of may_view (the catalogue)."""
    published = Course.status == PUBLISHED
    if is_admin(user):
        return true()
    if role_is(user, INSTRUCTOR):
        return or_(published, editable_filter(user))
    return published
