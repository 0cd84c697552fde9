"""The command lines that serve Academy, in one place: `make run`, the tests and bench/ start
the server through `command_for`, so what is measured is what runs.

    python -m academy.serve [--host 127.0.0.1] [--port 5000] [--server NAME]

replaces itself (exec) with the chosen server, after starting the background sync round beside
it (a school server with SYNC_ROUND_MINUTES set). See docs/deploy.md, "Choosing the server".
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _workers() -> str:
    return os.environ.get("WEB_CONCURRENCY") or str(max(2, os.cpu_count() or 1))


def _gunicorn(*extra: str) -> Callable[..., list[str]]:
    def command(host: str, port: int, app: str = "wsgi:app") -> list[str]:
        # --no-control-socket: otherwise every gunicorn of this account shares one control
        # socket, and two Academy servers on one machine could steer each other.
        return [str(BIN / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py"),
                "--no-control-socket", "--bind", f"{host}:{port}", *extra, app]  # fmt: skip

    return command


def _granian(host: str, port: int, app: str = "wsgi:served") -> list[str]:
    """The default (docs/deploy.md, "Choosing the server"): connections are read by granian's
    Rust event loop, and a Python thread is taken only once a whole request has arrived, so a
    slow or idle client costs no worker; headers not complete within 5 s close the connection."""
    command = [
        str(BIN / "granian"), "--interface", "wsgi", "--host", host, "--port", str(port),
        "--workers", _workers(),
        "--blocking-threads", os.environ.get("ACADEMY_THREADS") or "4",
        "--http", "1", "--no-ws",
        "--http1-header-read-timeout", "5000",
        # A crashed worker is replaced; every worker is replaced after a day (a slow leak
        # cannot grow for weeks on a school server), and SIGHUP replaces them all gracefully.
        "--respawn-failed-workers",
        "--workers-lifetime", os.environ.get("ACADEMY_WORKERS_LIFETIME") or "86400",
        "--workers-kill-timeout", "20",
        "--log-level", (os.environ.get("ACADEMY_LOG_LEVEL") or "info").lower(),
        "--working-dir", str(ROOT),
    ]  # fmt: skip
    if os.environ.get("ACADEMY_ACCESS_LOG"):
        command.append("--access-log")
    return [*command, app]


SERVERS: dict[str, Callable[..., list[str]]] = {
    "granian": _granian,
    "gunicorn-gthread": _gunicorn(),
    "gunicorn-gthread-64": _gunicorn("--threads", "64"),
}
SERVERS["default"] = SERVERS["granian"]


def command_for(name: str, host: str, port: int, app: str | None = None) -> list[str]:
    """The command line that serves `app` (a WSGI target; default: Academy as that server
    needs it) on host:port with server `name`."""
    return SERVERS[name](host, port, app) if app else SERVERS[name](host, port)


def rounds_command(server_pid: int) -> list[str]:
    """The background sync round beside the server `server_pid` (it does nothing unless this
    is a school server with SYNC_ROUND_MINUTES set; docs/sync.md, "Running it")."""
    return [str(BIN / "flask"), "--app", "wsgi", "academy", "sync", "background",
            "--beside", str(server_pid)]  # fmt: skip


def _start_rounds(server_pid: int) -> None:
    """One process for the background rounds, however many workers the server has. Handed to
    init by a double fork, so the server (granian, gunicorn) never has a child it does not know;
    it watches the server's process id and stops with it, and as one of the service's processes
    it gets the same SIGTERM (systemd) or SIGINT (Ctrl-C)."""
    first = os.fork()
    if first == 0:  # pragma: no cover (a forked child: it execs or leaves at once)
        try:
            if os.fork() == 0:
                command = rounds_command(server_pid)
                os.execv(command[0], command)  # noqa: S606 (our own fixed command line)
        finally:
            os._exit(0)
    os.waitpid(first, 0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve Academy")
    parser.add_argument("--host", default=os.environ.get("HOST") or "127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 5000))
    parser.add_argument("--server", default="default", choices=SERVERS)
    args = parser.parse_args(argv)
    command = command_for(args.server, args.host, args.port)
    os.chdir(ROOT)
    # The server keeps this process's id (exec): the rounds watch it.
    _start_rounds(os.getpid())
    os.execv(command[0], command)  # noqa: S606 (our own fixed command line)


if __name__ == "__main__":
    main()
