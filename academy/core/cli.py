"""`flask --app wsgi academy ...`: the one command group. Each feature hangs its commands on it
in its own cli.py (imported by create_app), so no feature imports the app shell. Commands call
services, never views."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import wraps
from typing import IO, Any

import click
from flask.cli import AppGroup

from academy.core import transaction
from academy.core.progress import Step, no_step


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


@contextmanager
def progress(label: str, total: int, *, file: IO[str] | None = None) -> Iterator[Step]:
    """Show long work as it goes: yields `step(n)`, which the service calls as it finishes n
    more of `total` items. On a terminal, a bar with the count, percentage and time left
    (click's); elsewhere (cron, a log file, a pipe) a plain line at every tenth and at the end,
    so a log shows the command is alive without a line per row."""
    out = file or sys.stderr
    if total <= 0:
        yield no_step
        return
    if out.isatty():
        with click.progressbar(
            length=total, label=label, show_pos=True, show_percent=True, show_eta=True, file=out
        ) as bar:
            yield bar.update
        return
    done = 0
    shown_tenth = 0
    started = time.monotonic()

    def step(n: int = 1) -> None:
        nonlocal done, shown_tenth
        done = min(total, done + n)
        tenth = done * 10 // total
        if tenth > shown_tenth or done == total:
            shown_tenth = tenth
            spent = time.monotonic() - started
            left = spent / done * (total - done) if done else 0
            click.echo(
                f"{label}: {done}/{total} ({done * 100 // total}%), about {left:.0f} s left",
                file=out,
            )

    yield step


class Bars:
    """What a command hands a service that works in stages: `start(label, total)` begins a
    count (ending the one before) and returns its step; leaving the `with` ends the last."""

    def __init__(self, file: IO[str] | None = None) -> None:
        self.file = file
        self._open: ExitStack | None = None

    def start(self, label: str, total: int) -> Step:
        self.close()
        self._open = ExitStack()
        return self._open.enter_context(progress(label, total, file=self.file))

    def close(self) -> None:
        if self._open is not None:
            self._open.close()
            self._open = None

    def __enter__(self) -> Bars:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
