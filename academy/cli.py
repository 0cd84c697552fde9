"""`flask --app wsgi academy ...`: one group; each feature adds its commands in its cli.py.
Commands call services, never views."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from academy.core.errors import ServiceError
from academy.extensions import db

academy_cli = AppGroup("academy", help="Academy administration commands.")


def fail(message: str) -> None:
    """Stop a command with one clear line and a non-zero exit, having stored nothing."""
    db.session.rollback()
    raise click.ClickException(message)


@academy_cli.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(["learner", "instructor", "admin"]), default="learner")
@click.option("--name", "full_name", help="Full name (default: the username).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(username: str, role: str, full_name: str | None, password_stdin: bool):
    """Create an account; the password is asked for (or read from stdin)."""
    from academy.auth import services

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
    db.session.commit()
    click.echo(f"created {user.role} {user.username}")


@academy_cli.command("seed-demo")
def seed_demo_command():
    """Create the demo accounts and load the starter courses (safe to run again)."""
    from academy import demo
    from academy.courses.loader import CourseFormatError

    users = demo.seed_users()
    db.session.commit()
    try:
        courses = demo.seed_courses()
    except CourseFormatError as exc:
        fail(str(exc))
    click.echo(f"Courses loaded: {', '.join(courses) or '(none in courses/)'}")
    click.echo("Demo sign-ins (username / password):")
    for username, password, role in users:
        click.echo(f"  {role:<10} {username:<10} {password}")
