"""`flask --app wsgi academy sync register|revoke|join|run|status` (docs/sync.md)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from academy.core import transaction
from academy.core.cli import academy_cli, fail
from academy.core.errors import ServiceError
from academy.extensions import db

# Not the one-unit-per-command group: a round is many units (one per batch, one per course),
# so a round cut halfway keeps what it finished.
sync_cli = AppGroup("sync", help="School servers and the city (docs/sync.md).")
academy_cli.add_command(sync_cli)


@sync_cli.command("register")
@click.argument("school")
def register_command(school: str) -> None:
    """At the city: register a school server for SCHOOL; prints its one-time token."""
    from academy.sync import services

    with transaction.unit_of_work():
        try:
            peer, token = services.register(school)
        except ServiceError as exc:
            fail(exc.message)
        click.echo(f"school server {peer.uuid} for {peer.school.name}")
        click.echo(f"enrolment token (valid {services.TOKEN_DAYS} days, once): {token}")


@sync_cli.command("revoke")
@click.argument("peer")
def revoke_command(peer: str) -> None:
    """At the city: revoke the school server PEER (its id from `sync status`)."""
    from academy.sync import services

    with transaction.unit_of_work():
        found = services.peer_by_uuid(peer)
        if found is None:
            fail(f"no school server {peer!r}")
        services.revoke(found)
        click.echo(f"revoked {peer}")


@sync_cli.command("join")
@click.argument("city_url")
@click.argument("token")
def join_command(city_url: str, token: str) -> None:
    """At a school server: join the city server at CITY_URL with its enrolment TOKEN."""
    from academy.sync import services

    with transaction.unit_of_work():
        try:
            joined = services.join(city_url, token)
        except ServiceError as exc:
            fail(exc.message)
        click.echo(f"joined {joined.city_url} for {joined.school.name} as {joined.peer_uuid}")


@sync_cli.command("run")
def run_command() -> None:
    """At a school server: one round (the city's requests, push, then pull)."""
    from academy.sync import client, services

    try:
        done = services.run_round()
    except services.RoundBusy as exc:
        fail(f"no round: {exc}")
    except client.Unreachable as exc:
        fail(f"the round stopped: {exc}")
    if done.asked:
        click.echo(f"{done.asked} change(s) asked by the city answered")
    click.echo(
        f"pushed {done.pushed_rows} row(s) in {done.batches} batch(es); "
        f"{done.courses} course(s) updated, {done.fetched_files} file(s) fetched"
    )
    for problem in done.failed:
        click.echo(f"not loaded: {problem}", err=True)
    for slug in done.withdrawn:
        click.echo(f"the city no longer offers {slug}: kept here with its progress, not sent")


@sync_cli.command("background", hidden=True)
@click.option("--beside", type=int, required=True, help="The server's process id.")
def background_command(beside: int) -> None:
    """Started by `python -m academy.serve`: a round every SYNC_ROUND_MINUTES while the server
    with process id BESIDE runs (docs/sync.md, "Running it")."""
    from academy.sync import runner

    runner.run_beside(beside)


@sync_cli.command("status")
def status_command() -> None:
    """Either side: the peer(s), the last round, what is waiting, the last error."""
    from academy.sync import services

    with transaction.unit_of_work():
        if services.role() == services.SCHOOL:
            joined = services.link()
            if joined is None:
                fail("this school server has not joined a city server (sync join)")
            waiting = services.waiting(joined.school_id, joined.city_mark)
            click.echo(f"city: {joined.city_url} (Academy {joined.city_version})")
            click.echo(f"school: {joined.school.name}; this server: {joined.peer_uuid}")
            click.echo(f"last round: {joined.last_round_at or 'never'}; waiting: {waiting}")
            click.echo(f"last error: {joined.last_error or 'none'}")
            return
        for peer in services.peers():
            state = "revoked" if peer.revoked_at else ("joined" if peer.joined_at else "token")
            click.echo(
                f"{peer.uuid} {peer.school.name}: {state}; applied up to {peer.pushed_seq}; "
                f"last round {peer.last_round_at or 'never'}; "
                f"last error {peer.last_error or 'none'}"
            )
    db.session.remove()
