"""`flask --app wsgi academy issue-certificate USERNAME SLUG` and `render-certificates`."""

from __future__ import annotations

import click

from academy.core.cli import academy_cli, fail
from academy.core.errors import ServiceError


@academy_cli.command("issue-certificate")
@click.argument("username")
@click.argument("slug")
def issue_certificate_command(username: str, slug: str):
    """Issue a learner's certificate for a course by hand (once: an existing one is kept)."""
    from academy.certificates import issuing, verification

    try:
        certificate, created = issuing.issue_manually(username, slug)
    except ServiceError as exc:
        fail(str(exc.message))
    word = "issued" if created else "already issued"
    click.echo(f"{word} {certificate.display_code} {verification.verify_url(certificate.code)}")


@academy_cli.command("render-certificates")
@click.option("--limit", type=int, default=None, help="Render at most this many.")
def render_certificates_command(limit: int | None):
    """Render and store the PDFs of valid certificates that have none yet."""
    from academy.certificates import rendering

    count = rendering.render_missing(limit)
    click.echo(f"rendered {count} certificate(s)")
