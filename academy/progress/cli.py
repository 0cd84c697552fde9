"""`flask --app wsgi academy recompute-progress SLUG`: after a course's items changed;
`flask --app wsgi academy rebuild-activity`: the monthly activity rollup from the events."""

from __future__ import annotations

import click
from sqlalchemy import select

from academy.core.cli import academy_cli, fail
from academy.courses.models import Course
from academy.extensions import db


@academy_cli.command("recompute-progress")
@click.argument("slug")
def recompute_progress_command(slug: str) -> None:
    """Recount every learner's progress in a course (after lessons or quizzes were added or
    removed); learners who now meet the completion rule complete the course."""
    from academy.progress import services

    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        fail(f"no course with the slug {slug!r}")
    count = services.recompute_course(course)
    click.echo(f"{slug}: progress recounted for {count} learner(s)")


@academy_cli.command("rebuild-activity")
def rebuild_activity_command() -> None:
    """Add to the monthly activity rollup (learner_month_activity) every month, learner and
    course that progress_events show activity for and the rollup lacks (after loading history
    by hand). Safe to run at any time: it only adds what is missing."""
    from academy.progress import services

    added = services.rebuild_month_activity()
    click.echo(f"learner_month_activity: {added} row(s) added")
