"""The background round (SYNC_ROUND_MINUTES; docs/sync.md, "Running it"). `python -m
academy.serve` starts one process beside the app server, `flask --app wsgi academy sync
background --beside PID`, whatever the number of workers: a round every N minutes while the
server with that process id runs. As a command it is one like `sync run` (SQLite's write lock
taken up front, the long busy timeout), and its rounds take the same lock (services.round_lock),
so one from cron or by hand never overlaps it. A failed round is logged and kept for the
/sync/ page, and the next one starts on schedule; SIGTERM or SIGINT (the server's service
stopping, Ctrl-C under `make run`) or the server's end stops it after the round in hand."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from academy.core import transaction
from academy.extensions import db
from academy.sync import client, services
from academy.sync.problems import N_, Problem

# Under the app's logger ("academy"): its one line per event on stderr, beside the server's.
log = logging.getLogger("academy.sync.rounds")

# The first round after the server starts: soon, so a server switched on in the morning sends
# yesterday's work without waiting a whole interval, but not in the start-up rush itself.
FIRST_ROUND_SECONDS = 20.0


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process now holds the number: ours is gone
        return False
    return True


def run_beside(server_pid: int) -> None:
    """Rounds every SYNC_ROUND_MINUTES while the process `server_pid` runs (nothing when the
    setting is off or this is the city)."""
    minutes = services.round_minutes()
    if not minutes:
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_args: stop.set())
    log.info("a round every %g minute(s) beside the server (process %d)", minutes, server_pid)
    every(minutes * 60, lambda: alive(server_pid) and not stop.is_set(), stop, one_round)
    log.info("stopped")


def every(interval: float, going: Callable[[], bool], stop: threading.Event,
          work: Callable[[], Any]) -> None:  # fmt: skip
    """Call `work` every `interval` seconds (from the end of the last call, so a slow round
    never queues the next behind it) while `going()`; looked at every second."""
    next_at = time.monotonic() + min(interval, FIRST_ROUND_SECONDS)
    while going():
        wait = next_at - time.monotonic()
        if wait > 0:
            stop.wait(min(wait, 1.0))
            continue
        work()
        next_at = time.monotonic() + interval


def one_round() -> None:
    """One round, its outcome logged; a failure never stops the rounds that follow."""
    try:
        with transaction.unit_of_work():
            joined = services.link() is not None
        if not joined:
            log.debug("not joined to a city server yet (sync join): no round")
            return
        done = services.run_round()
    except services.RoundBusy:
        log.info("another round is running on this server (sync run): this one is skipped")
    except client.Unreachable as exc:  # kept for the page by run_round
        log.warning("the round stopped: %s", exc)
    except Exception as exc:  # a fault of ours or the database's: say so, try again later
        log.exception("the round failed")
        failure = Problem(N_("the round failed unexpectedly (%(error)s); see the server's log"),
                          {"error": f"{type(exc).__name__}: {exc}"[:300]})  # fmt: skip
        try:
            services.note_failure(failure)
        except Exception:  # the database itself is down: the log says it
            log.exception("the failure could not be kept for the status page")
    else:
        log.info(
            "round done: %d change(s) asked by the city answered; pushed %d row(s) in %d "
            "batch(es); %d course(s) updated, %d file(s) fetched",
            done.asked, done.pushed_rows, done.batches, done.courses, done.fetched_files,
        )  # fmt: skip
        for problem in done.failed:
            log.warning("not loaded: %s", problem)
    finally:
        db.session.remove()
