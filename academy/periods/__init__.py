"""The computer-room period: a teacher puts the class on the same items for 40-50 minutes,
steers it, shows the room on the projector, and takes attendance (issue 14)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    # access registers its rule (period.steer) by being imported.
    from academy.periods import access, banner, gate, shortcut  # noqa: F401

    banner.connect()
    gate.connect()
    shortcut.install(app)
