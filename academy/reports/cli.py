"""`flask --app wsgi academy rebuild-completion`: the completion rollup, counted again from the
enrolments, classes and progress rows."""

from __future__ import annotations

import click

from academy.core.cli import academy_cli
from academy.extensions import db


@academy_cli.command("rebuild-completion")
def rebuild_completion_command() -> None:
    """Count the completion reports' rollup (report_completion, report_learners) again from the
    rows it sums: after rows were loaded with its triggers off, or to check it. The triggers
    keep it current otherwise; safe to run at any time (one transaction)."""
    from academy.reports import rollup

    counts, learners = rollup.rebuild(db.session.connection())
    click.echo(f"report_completion: {counts} row(s); report_learners: {learners} row(s)")
