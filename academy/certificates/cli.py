"""`flask --app wsgi academy issue-certificate USERNAME SLUG` and `render-certificates`."""

from __future__ import annotations

import click

from academy.core.cli import Bars, academy_cli, fail
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
@click.option(
    "--fix-links",
    is_flag=True,
    help="Also render again stored PDFs whose link and QR code are not the public address "
    "(made before the upgrade, or pointing at localhost).",
)
@click.option("--base-url", default=None, help="The public address (default: PUBLIC_BASE_URL).")
def render_certificates_command(limit: int | None, fix_links: bool, base_url: str | None):
    """Render and store the PDFs of valid certificates that have none yet."""
    from academy.certificates import rendering, verification

    configured = verification.configured_base()
    base = (base_url or "").rstrip("/") or configured
    if not base:
        fail(
            "Set PUBLIC_BASE_URL (ACADEMY_PUBLIC_BASE_URL) or pass --base-url https://...: "
            "outside a request there is no other way to know the address certificates print."
        )
    if configured and base != configured:
        fail(f"--base-url {base} differs from PUBLIC_BASE_URL {configured}.")
    problem = verification.check_base_url(base)
    if problem:
        fail(problem)
    with Bars() as bars:
        count = rendering.render_missing(base, limit, bars.start)
        fixed = rendering.fix_links(base, limit, bars.start) if fix_links else 0
    click.echo(f"rendered {count} certificate(s)")
    if fix_links:
        click.echo(f"rendered {fixed} stored certificate(s) again with links to {base}")
