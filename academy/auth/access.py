"""Who may manage whom, said once for the people pages, their services and templates: admins
manage everyone; an instructor manages the learners they look after (schools have no e-mail,
so the teacher is the one who resets a forgotten password), never every learner.

Which learners an instructor looks after is asked with the `learner_scope` signal: features
that group learners (classes) answer with a SELECT of those learners' user ids. Without an
answer an instructor manages nobody.
"""

from __future__ import annotations

from typing import Any

from flask import g, has_app_context
from sqlalchemy import ColumnElement, and_, or_, select, true

from academy.auth.models import User
from academy.core import signals
from academy.core.access import INSTRUCTOR, LEARNER, is_admin, role_is, rule
from academy.extensions import db


def learners_of(instructor: Any) -> ColumnElement[bool]:
    """A condition on User.id: the learners this instructor looks after."""
    scopes = [scope for _receiver, scope in signals.learner_scope.send(instructor)]
    if not scopes:
        return User.id.is_(None)
    return or_(*(User.id.in_(scope) for scope in scopes))


def looks_after(instructor: Any, person: User) -> bool:
    """One query per request however many rows a page asks about (the people list)."""
    key = f"_learners_of_{instructor.id}"
    if has_app_context() and key in g:
        return person.id in g.get(key)
    ids = set(db.session.scalars(select(User.id).where(learners_of(instructor))))
    if has_app_context():
        setattr(g, key, ids)
    return person.id in ids


@rule("person.manage")
def may_manage(user: Any, person: User | None) -> bool:
    if is_admin(user):
        return True
    return (
        role_is(user, INSTRUCTOR)
        and person is not None
        and role_is(person, LEARNER)
        and looks_after(user, person)
    )


def manageable_filter(user: Any) -> ColumnElement[bool]:
    """The rows of may_manage (the people list)."""
    if is_admin(user):
        return true()
    if not role_is(user, INSTRUCTOR):
        return User.id.is_(None)
    return and_(User.role == LEARNER, learners_of(user))


@rule("person.set_role")
def may_set_role(user: Any, _person: Any = None) -> bool:
    """Making someone an instructor or an admin is for admins."""
    return is_admin(user)
