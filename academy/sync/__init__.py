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
    from academy.sync import relay

    owner = relay.owning_peer(user)
    return _("the school server of %(school)s", school=owner[1]) if owner else None


def _ask(user: Any, change: str, values: dict[str, Any], by: Any) -> str | None:
    """At the city: queue the change for the school server that owns the account."""
    from academy.sync import relay

    return _owner(user) if relay.ask(user, change, values, by) is not None else None


def _city_address(_sender: Any) -> str | None:
    """At a joined school server: the city's address, for the links and QR codes it prints
    (PUBLIC_BASE_URL, when set, comes first)."""
    from academy.sync import services

    if services.role() != services.SCHOOL:
        return None
    joined = services.link()
    return joined.city_url if joined else None


def init_app(app: Flask) -> None:
    from academy.core import signals
    from academy.sync import problems

    # A peer's or link's last error in the reader's language: `peer|sync_error`.
    app.add_template_filter(problems.shown, "sync_error")
    signals.nav_items.connect(_menu)
    signals.account_owner.connect(_owner)
    signals.account_change.connect(_ask)
    signals.public_address.connect(_city_address)
