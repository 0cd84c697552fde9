"""Site settings an admin can change in the app (stored in the database)."""

from __future__ import annotations

from flask import current_app

from academy.core.models import SiteSetting
from academy.extensions import db

SELF_REGISTRATION = "self_registration"


def get_setting(key: str, default: str | None = None) -> str | None:
    row = db.session.get(SiteSetting, key)
    return row.value if row is not None else default


def set_setting(key: str, value: str) -> None:
    row = db.session.get(SiteSetting, key)
    if row is None:
        db.session.add(SiteSetting(key=key, value=value))
    else:
        row.value = value


def self_registration_open() -> bool:
    default = "1" if current_app.config["SELF_REGISTRATION_DEFAULT"] else "0"
    return get_setting(SELF_REGISTRATION, default) == "1"
