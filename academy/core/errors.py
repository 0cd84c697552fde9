"""The exception services raise for input a person can fix; views show its message."""

from __future__ import annotations

from academy.core import transaction


class ConfigError(RuntimeError):
    """Start-up stops with one clear sentence rather than a stack trace on every request."""


class ServiceError(Exception):
    """A rule was broken. `message` is already translated (or a lazy string) and names the
    problem; `field` names the form field it belongs to, when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        # A refusal saves nothing of its unit of work (core/transaction.py).
        transaction.refused()
        super().__init__(str(message))
        self.message = message
        self.field = field
