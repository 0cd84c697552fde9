"""`flask --app wsgi academy import-class FILE --class ID`: big class lists on the server."""

from __future__ import annotations

import time
from pathlib import Path

import click

from academy.core.cli import Bars, academy_cli, fail
from academy.core.csv import write_csv
from academy.extensions import db


@academy_cli.command("import-class")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--class", "class_id", type=int, required=True, help="The class id (see /classes).")
@click.option("--dry-run", is_flag=True, help="Only check the file and list its problems.")
@click.option("--cards", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the sign-in cards (PDF) here.")  # fmt: skip
@click.option("--passwords", type=click.Path(dir_okay=False, path_type=Path),
              help="Write generated passwords here (CSV; keep it safe).")  # fmt: skip
def import_class_command(class_id, csv_file, dry_run, cards, passwords):
    """Import learners into a class from a CSV file (see docs/class-import.md), all or
    nothing, in one transaction."""
    from academy.classes import importer
    from academy.classes.cards import cards_pdf
    from academy.classes.models import Class

    klass = db.session.get(Class, class_id)
    if klass is None:
        fail(f"no class with id {class_id}")
    started = time.perf_counter()
    plan = importer.parse(csv_file.read_bytes())
    if not plan.problems:
        importer.check(plan, klass)
    checked = time.perf_counter()
    if plan.problems:
        for line, message in plan.problems:
            click.echo(f"row {line}: {message}" if line else str(message), err=True)
        fail(f"{len(plan.problems)} problem(s); nothing was imported")
    click.echo(f"{len(plan.rows)} rows checked in {checked - started:.2f} s")
    if dry_run:
        db.session.rollback()  # checked only: whatever the check loaded goes
        return
    with Bars() as bars:
        created = importer.apply(plan, klass, bars.start)
    done = time.perf_counter()
    click.echo(f"{len(created)} learners imported into {klass.name!r} in {done - checked:.2f} s")
    if passwords:
        with passwords.open("w", newline="", encoding="utf-8") as out:
            rows = ([c.username, c.full_name, c.password] for c in created if c.password)
            write_csv(out, ["username", "full_name", "password"], rows)
        passwords.chmod(0o600)
        click.echo(f"passwords written to {passwords}")
    if cards:
        people = [(c.full_name, c.username, c.password) for c in created]
        cards.write_bytes(cards_pdf(klass, people))
        click.echo(f"sign-in cards written to {cards}")
