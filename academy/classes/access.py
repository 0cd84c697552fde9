"""Who may do what with classes: registered once, used by views, templates and other features
(progress uses "class.teach" for the gradebook)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from academy.classes.models import Class, ClassInstructor, ClassMember
from academy.core.access import ADMIN, INSTRUCTOR, rule
from academy.extensions import db


def teaches(user: Any, klass: Class) -> bool:
    return (
        db.session.scalar(
            select(ClassInstructor.user_id).where(
                ClassInstructor.class_id == klass.id, ClassInstructor.user_id == user.id
            )
        )
        is not None
    )


def learner_ids_taught_by(user: Any):
    """SELECT of the user ids of the members of every class this person teaches."""
    return (
        select(ClassMember.user_id)
        .join(ClassInstructor, ClassInstructor.class_id == ClassMember.class_id)
        .where(ClassInstructor.user_id == user.id)
    )


@rule("class.teach")
def _may_teach(user: Any, klass: Class | None) -> bool:
    """The class's instructors and admins: see learners, enrol, move, import, print cards."""
    if user.role == ADMIN:
        return True
    return user.role == INSTRUCTOR and klass is not None and teaches(user, klass)


@rule("class.manage_org")
def _may_manage_org(user: Any, _obj: Any = None) -> bool:
    """Schools, rooms, programmes and who teaches which class: admins only."""
    return user.role == ADMIN
