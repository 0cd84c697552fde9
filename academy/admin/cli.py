"""`flask --app wsgi academy backup PATH`, `... restore PATH [--yes]` and `... prune-throttle`
(docs/operations.md)."""

from __future__ import annotations

import getpass
from pathlib import Path

import click
from flask import current_app

from academy.core.cli import Bars, academy_cli


def _audit(action: str, path: Path, manifest: dict) -> None:
    """Record the backup or restore in the audit log of the database as it now is (after a
    restore: the restored one, so the log says when it was put back). A restored schema older
    than the audit log has nowhere to record it until `flask db upgrade`."""
    from sqlalchemy import inspect

    from academy.core import audit
    from academy.extensions import db

    if not inspect(db.engine).has_table("audit_entries"):
        return
    audit.record(
        action,
        path=str(path.resolve()),
        backup_created_at=manifest["created_at"],
        files=len(manifest["files"]),
        system_user=getpass.getuser(),
    )  # saved by the command's unit of work (core/cli.py)


@academy_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path):
    """Copy the database and every file under DATA_DIR into one .tar.gz, while the app runs."""
    from academy.admin.backup import BackupError, create_backup
    from academy.core import __version__

    try:
        with Bars() as bars:
            manifest = create_backup(
                path,
                current_app.config["SQLALCHEMY_DATABASE_URI"],
                Path(current_app.config["DATA_DIR"]),
                __version__,
                bars.start,
            )
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    _audit("backup.create", path, manifest)
    click.echo(
        f"backup written to {path}: {manifest['database']} database, "
        f"{len(manifest['files'])} file(s), {path.stat().st_size} bytes"
    )


@academy_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the current database and files.")
def restore_command(path: Path, yes: bool):
    """Put a backup back (stop the app servers first; run `flask db upgrade` afterwards)."""
    from academy.admin.backup import BackupError, restore_backup
    from academy.extensions import db

    db.session.remove()
    db.engine.dispose()
    try:
        with Bars() as bars:
            manifest = restore_backup(
                path,
                current_app.config["SQLALCHEMY_DATABASE_URI"],
                Path(current_app.config["DATA_DIR"]),
                overwrite=yes,
                start=bars.start,
            )
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    _audit("backup.restore", path, manifest)
    click.echo(
        f"restored the backup of {manifest['created_at']} ({manifest['database']}, "
        f"{len(manifest['files'])} file(s)); now run `flask --app wsgi db upgrade`"
    )


@academy_cli.command("prune-throttle")
@click.option(
    "--older-than", "older_than", type=int, default=24 * 3600, show_default=True,
    help="Drop counted failures older than this many seconds (every window is shorter).",
)  # fmt: skip
def prune_throttle_command(older_than: int):
    """Drop old counted failures (sign-in, join codes, certificate codes) from the database;
    run it from cron, or throttle_failures only grows."""
    from academy.core import throttle

    click.echo(f"throttle_failures: {throttle.prune(older_than)} old row(s) dropped")
