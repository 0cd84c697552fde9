"""School servers and the city (docs/sync.md): joining, pushing what a school owns, pulling
the city's courses. Above every feature whose rows it moves; none of them imports it."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from academy.core.access import ADMIN
from academy.core.web import NavEntry


def _menu(_sender: Any) -> list[NavEntry]:
    return [NavEntry(_l("School servers"), "sync.index", (ADMIN,), 95)]


def _owner(user: Any) -> str | None:
    """At the city: the school server that owns this account, by its school's name."""
    from sqlalchemy import select

    from academy.classes.models import School
    from academy.extensions import db
    from academy.sync.models import SyncAccount, SyncPeer

    school = db.session.scalar(
        select(School.name)
        .join(SyncPeer, SyncPeer.school_id == School.id)
        .join(SyncAccount, SyncAccount.peer_id == SyncPeer.id)
        .where(SyncAccount.user_id == user.id)
    )
    return _("the school server of %(school)s", school=school) if school else None


def init_app(app: Flask) -> None:
    from academy.core import signals
    from academy.sync import problems

    # A peer's or link's last error in the reader's language: `peer|sync_error`.
    app.add_template_filter(problems.shown, "sync_error")
    signals.nav_items.connect(_menu)
    signals.account_owner.connect(_owner)
