"""Who may do what with classes: registered once, used by views, templates and other features
(progress uses "class.teach" for the gradebook)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select, true

from academy.classes.models import Class, ClassInstructor, ClassMember
from academy.core.access import INSTRUCTOR, is_admin, role_is, rule
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


def taught_filter(user: Any) -> ColumnElement[bool]:
    """The rows of class.teach (the class list): every class for an admin, else those taught."""
    if is_admin(user):
        return true()
    return Class.id.in_(select(ClassInstructor.class_id).where(ClassInstructor.user_id == user.id))


def teaches_learner(user: Any, learner_id: int) -> bool:
    """The learner is a member of a class this person teaches."""
    taught = learner_ids_taught_by(user).where(ClassMember.user_id == learner_id).limit(1)
    return db.session.scalar(taught) is not None


@rule("class.teach")
def may_teach(user: Any, klass: Class | None) -> bool:
    """The class's instructors and admins: see learners, enrol, move, import, print cards."""
    if is_admin(user):
        return True
    return role_is(user, INSTRUCTOR) and klass is not None and teaches(user, klass)


@rule("class.manage_org")
def may_manage_org(user: Any, _obj: Any = None) -> bool:
    """Schools, rooms, programmes and who teaches which class: admins only."""
    return is_admin(user)
