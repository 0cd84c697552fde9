"""`flask academy import-gift`, `export-quiz`, `close-expired-attempts`."""

from __future__ import annotations

import json
from pathlib import Path

import click
from sqlalchemy import or_, select

from academy.core.cli import academy_cli, fail
from academy.core.errors import ServiceError
from academy.courses.models import Course
from academy.extensions import db
from academy.quizzes import services, transfer
from academy.quizzes.models import Quiz


def _course(slug: str) -> Course:
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        fail(f"no course with the slug {slug!r}")
    return course


def _find_quiz(course: Course, name: str) -> Quiz | None:
    return db.session.scalar(
        select(Quiz)
        .where(
            Quiz.course_id == course.id,
            or_(Quiz.key == name, Quiz.title_th == name, Quiz.title_en == name),
        )
        .order_by(Quiz.id)
    )


@academy_cli.command("import-gift")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--course", "slug", required=True, help="The course's slug.")
@click.option("--quiz", "title", help="Quiz key or title (default: the file name).")
def import_gift_command(file: Path, slug: str, title: str | None):
    """Add the questions of a GIFT FILE to a quiz (created in the course's last module if
    needed). An error anywhere stores nothing and names file:line."""
    course = _course(slug)
    title = title or file.stem
    quiz = _find_quiz(course, title)
    try:
        if quiz is None:
            quiz = services.create_quiz(course, title)
        imported = transfer.import_gift(quiz, file.read_bytes(), str(file))
    except ServiceError as error:
        fail(str(error.message))
    for warning in imported.warnings:
        click.echo(f"warning: {warning}", err=True)
    count = len(imported.added)
    click.echo(f"{count} questions added to {quiz.title_th!r} ({quiz.key}) in {slug}")


@academy_cli.command("export-quiz")
@click.argument("slug")
@click.argument("quiz_name", metavar="QUIZ")
@click.option("--format", "fmt", type=click.Choice(["gift", "json"]), default="gift")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout.")
def export_quiz_command(slug: str, quiz_name: str, fmt: str, output: Path | None):
    """Write a quiz's questions (QUIZ: its key or title) as GIFT or JSON."""
    quiz = _find_quiz(_course(slug), quiz_name)
    if quiz is None:
        fail(f"no quiz {quiz_name!r} in {slug}")
    if fmt == "gift":
        text = transfer.quiz_text(quiz)
    else:
        text = json.dumps(transfer.export_json(quiz), ensure_ascii=False, indent=2) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)


@academy_cli.command("close-expired-attempts")
def close_expired_command():
    """Close every attempt whose time limit has passed, grading what was saved (cron)."""
    count = services.close_expired_attempts()
    click.echo(f"{count} attempts closed")
