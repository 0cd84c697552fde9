"""`flask --app wsgi academy create-user USERNAME [--role ...]`."""

from __future__ import annotations

import sys

import click

from academy.auth import services
from academy.core.cli import academy_cli, fail
from academy.core.errors import ServiceError


@academy_cli.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(["learner", "instructor", "admin"]), default="learner")
@click.option("--name", "full_name", help="Full name (default: the username).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(username: str, role: str, full_name: str | None, password_stdin: bool):
    """Create an account; the password is asked for (or read from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user, _ = services.create_user(
            username, full_name or username, role=role, password=password
        )
    except ServiceError as exc:
        fail(str(exc.message))
    click.echo(f"created {user.role} {user.username}")
