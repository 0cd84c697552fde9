"""A timeout that ends a stuck request, for servers that have none (granian).

gunicorn's `timeout` kills a worker whose request has run too long; granian only reads the
connection. `RequestWatchdog` wraps the WSGI app: a daemon thread in each worker process
looks every second at the requests in flight, and when one has run longer than the timeout
it logs where that request is stuck (its stack) and ends the worker process, which the
server replaces (`--respawn-failed-workers`), as gunicorn would. Nothing acknowledged is lost:
an answer is acknowledged only after its commit.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger("academy.watchdog")


class RequestWatchdog:
    def __init__(self, app: Callable[..., Iterable[bytes]], timeout: float) -> None:
        self.app = app
        self.timeout = timeout
        self._running: dict[int, tuple[float, str]] = {}
        self._pid: int | None = None  # the thread must run in the worker, after any fork
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if self._pid != os.getpid():
            self._start_watching()
        ident = threading.get_ident()
        what = f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
        self._running[ident] = (time.monotonic(), what)
        try:
            # The view's run is what is timed; a long download streams after it, unbounded.
            return self.app(environ, start_response)
        finally:
            self._running.pop(ident, None)

    def _start_watching(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._running.clear()
            threading.Thread(target=self._watch, name="request-watchdog", daemon=True).start()

    def _watch(self) -> None:
        while True:
            time.sleep(1.0)
            self.check(time.monotonic())

    def check(self, now: float) -> None:
        for ident, (started, what) in list(self._running.items()):
            if now - started > self.timeout:
                frame = sys._current_frames().get(ident)
                stack = "".join(traceback.format_stack(frame)) if frame else "(gone)"
                log.critical(
                    "request %s stuck for more than %s s: ending worker %s so it is replaced\n%s",
                    what, self.timeout, os.getpid(), stack,
                )  # fmt: skip
                logging.shutdown()
                os._exit(70)  # EX_SOFTWARE
