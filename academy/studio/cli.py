"""`flask --app wsgi academy import-course PATH | import-courses | export-course SLUG PATH`."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from academy.core import transaction
from academy.core.cli import academy_cli, fail, progress
from academy.courses import services
from academy.studio import export, loader
from academy.studio.loader import COURSES_DIR, course_folders


@academy_cli.command("import-course")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
def import_course_command(path: Path):
    """Load or update one course folder (nothing is stored if anything is wrong)."""
    try:
        course = loader.load_course(path)
    except loader.CourseFormatError as exc:
        fail(str(exc))
    click.echo(f"imported {course.slug}: {course.title_th}")


@academy_cli.command("import-courses")
@click.option(
    "--from", "base", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Folder holding the course folders (default: courses/ in the project).",
)  # fmt: skip
def import_courses_command(base: Path | None):
    """Load every course folder under courses/, each in its own transaction; stops at the first
    course with a problem (the courses before it stay imported)."""
    folders = course_folders(base or COURSES_DIR)
    if not folders:
        fail(f"no course folders in {base or COURSES_DIR}")
    _refuse_shared_slugs(folders)
    with progress("import-courses", len(folders)) as step:
        for folder in folders:
            try:
                with transaction.unit_of_work():  # each course is saved on its own
                    course = loader.load_course(folder)
            except loader.CourseFormatError as exc:
                fail(f"{exc}\nstopped: {folder.name} and the courses after it were not imported")
            step(1)
            click.echo(f"imported {course.slug}: {course.title_th}")


def _refuse_shared_slugs(folders: list[Path]) -> None:
    """Two folders with one slug would overwrite each other: stop before importing any."""
    seen: dict[str, Path] = {}
    for folder in folders:
        try:
            slug = yaml.safe_load((folder / "course.yml").read_text(encoding="utf-8-sig"))["slug"]
        except Exception:  # noqa: S112 - load_course reports a broken course.yml with its line
            continue
        if isinstance(slug, str) and slug in seen:
            fail(f"{folder}/course.yml: slug '{slug}' is also used by {seen[slug]}/course.yml")
        seen[slug] = folder


@academy_cli.command("export-course")
@click.argument("slug")
@click.argument("path", type=click.Path(path_type=Path))
def export_course_command(slug: str, path: Path):
    """Write a course as a course folder at PATH (a new or empty folder)."""
    course = services.course_by_slug(slug)
    if course is None:
        fail(f"no course with the slug {slug!r}")
    try:
        written = export.export_course(course, path)
    except loader.CourseFormatError as exc:
        fail(str(exc))
    click.echo(f"exported {slug} to {path} ({len(written)} files)")


@academy_cli.command("seed-tracks")
def seed_tracks_command():
    """Add the four standard tracks if they are missing."""
    services.ensure_standard_tracks()
    click.echo("tracks: " + ", ".join(t.slug for t in services.list_tracks()))
