"""Who coaches whom: the instructors of a learner's classes (the coach, the online marketer,
the teacher) and admins. Said once here for the coaching pages, their services and templates."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select

from academy.auth.models import User
from academy.classes.access import learner_ids_taught_by, teaches_learner
from academy.classes.models import ClassMember
from academy.core.access import INSTRUCTOR, LEARNER, is_admin, role_is, rule


@rule("learner.coach")
def may_coach(user: Any, learner: User | None) -> bool:
    """See a learner's timeline, keep coaching notes, tick their milestones."""
    if learner is None or learner.id == user.id or not role_is(learner, LEARNER):
        return False
    if is_admin(user):
        return True
    return role_is(user, INSTRUCTOR) and teaches_learner(user, learner.id)


def coached_filter(user: Any) -> ColumnElement[bool]:
    """The rows of may_coach (the "my learners" list): for an admin every learner in a class."""
    if is_admin(user):
        members = select(ClassMember.user_id)
    elif role_is(user, INSTRUCTOR):
        members = learner_ids_taught_by(user)
    else:
        return User.id.is_(None)
    return (User.role == LEARNER) & User.id.in_(members)


@rule("milestone.tick")
def may_tick(user: Any, learner: User | None) -> bool:
    """The learner on their own path, or one of their coaches."""
    if learner is None:
        return False
    return (learner.id == user.id and role_is(user, LEARNER)) or may_coach(user, learner)
