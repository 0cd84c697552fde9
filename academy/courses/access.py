"""Who may see and who may edit a course (registered with core.access, asked everywhere)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from academy.core.access import ADMIN, rule
from academy.courses.models import Course, CourseInstructor
from academy.extensions import db


def is_instructor_of(user: Any, course: Course) -> bool:
    if not getattr(user, "is_authenticated", False) or course.id is None:
        return False
    return (
        db.session.scalar(
            select(CourseInstructor.user_id).where(
                CourseInstructor.course_id == course.id, CourseInstructor.user_id == user.id
            )
        )
        is not None
    )


@rule("course.edit")
def may_edit(user: Any, course: Course) -> bool:
    """A course's own instructors and admins."""
    if course is None:
        return False
    return user.role == ADMIN or (user.role == "instructor" and is_instructor_of(user, course))


@rule("course.view")
def may_view(user: Any, course: Course) -> bool:
    """Published courses: everyone signed in; drafts: their instructors and admins."""
    if course is None:
        return False
    return course.is_published or may_edit(user, course)


def visible(user: Any, course: Course | None) -> bool:
    """course.view, also for visitors who are not signed in (published courses are public)."""
    if course is None:
        return False
    if course.is_published:
        return True
    return bool(getattr(user, "is_authenticated", False)) and may_edit(user, course)
