"""`flask --app wsgi academy ...`: the one command group. Each feature hangs its commands on it
in its own cli.py (imported by create_app), so no feature imports the app shell. Commands call
services, never views."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from academy.extensions import db

academy_cli = AppGroup("academy", help="Academy administration commands.")


def fail(message: str) -> None:
    """Stop a command with one clear line and a non-zero exit, having stored nothing."""
    db.session.rollback()
    raise click.ClickException(message)
