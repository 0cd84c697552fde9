"""`flask --app wsgi academy ...`: the one command group. Each feature hangs its commands on it
in its own cli.py (imported by create_app), so no feature imports the app shell. Commands call
services, never views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from flask.cli import AppGroup

from academy.core import transaction


class _Commands(AppGroup):
    """Each command is one unit of work, like a request: committed when it returns, rolled
    back when it fails or a service refused (core/transaction.py)."""

    def command(self, *args: Any, **kwargs: Any) -> Callable:
        register = super().command(*args, **kwargs)

        def decorator(function: Callable) -> click.Command:
            @wraps(function)
            def run(*a: Any, **kw: Any) -> Any:
                with transaction.unit_of_work():
                    return function(*a, **kw)

            return register(run)

        return decorator


academy_cli = _Commands("academy", help="Academy administration commands.")


def fail(message: str) -> None:
    """Stop a command with one clear line and a non-zero exit, having stored nothing (the
    command's unit of work rolls back)."""
    raise click.ClickException(message)
