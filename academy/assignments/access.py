"""Who hands in, who sees and who reviews a submission (registered with core.access, asked
by the pages with authorize/can and by the services)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select

from academy.assignments.models import Assignment, Submission
from academy.classes.models import ClassInstructor, ClassMember
from academy.core.access import INSTRUCTOR, is_admin, role_is, rule
from academy.courses.models import CourseInstructor, Enrolment
from academy.extensions import db


def coaches(reviewer: Any, learner_id: int) -> bool:
    """The reviewer teaches a class the learner belongs to."""
    teaching = select(ClassInstructor.class_id).where(ClassInstructor.user_id == reviewer.id)
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    ClassMember.user_id == learner_id, ClassMember.class_id.in_(teaching)
                )
            )
        )
    )


def authors(user: Any, course_id: int) -> bool:
    return (
        db.session.get(CourseInstructor, {"course_id": course_id, "user_id": user.id}) is not None
    )


@rule("submission.review")
def may_review(user: Any, submission: Submission) -> bool:
    """The instructors of the learner's classes, the course's authors, admins."""
    if submission is None or (user.id == submission.user_id and not is_admin(user)):
        return False
    if is_admin(user):
        return True
    if not role_is(user, INSTRUCTOR):
        return False
    return authors(user, submission.course_id) or coaches(user, submission.user_id)


@rule("submission.view")
def may_view(user: Any, submission: Submission) -> bool:
    """The learner who handed it in, their reviewers, admins."""
    if submission is None:
        return False
    return user.id == submission.user_id or may_review(user, submission)


@rule("assignment.hand_in")
def may_hand_in(user: Any, assignment: Assignment) -> bool:
    return assignment is not None and is_enrolled(user.id, assignment.course_id)


def is_enrolled(user_id: int, course_id: int) -> bool:
    return (
        db.session.scalar(
            select(Enrolment.id).where(
                Enrolment.user_id == user_id, Enrolment.course_id == course_id
            )
        )
        is not None
    )
