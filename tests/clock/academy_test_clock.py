"""The suite's clock (ACADEMY_TEST_CLOCK), shared by every process a test run starts.

tests/conftest.py starts it in the pytest process and its xdist workers; this folder's
sitecustomize.py starts it in the Python processes tests start themselves (gunicorn, the flask
command), because tests/conftest.py puts this folder on their PYTHONPATH. All of them show the
same moment: ACADEMY_TEST_CLOCK plus the real time elapsed since the run began
(ACADEMY_TEST_CLOCK_STARTED, set once by the first process). Nothing in academy/ reads these
variables: a server never travels in time unless a test started it."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta

CLOCK = "ACADEMY_TEST_CLOCK"
STARTED = "ACADEMY_TEST_CLOCK_STARTED"
ACTIVE = "ACADEMY_TEST_CLOCK_PID"


def parse(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{CLOCK}={value!r} needs an offset, e.g. 2027-01-01T00:30+07:00")
    return moment


def start() -> bool:
    """Move this process's clock to the suite's (ticking on); False when no clock is asked for
    or this process already travelled."""
    value = os.environ.get(CLOCK)
    if not value or os.environ.get(ACTIVE) == str(os.getpid()):
        return False
    import time_machine

    moment = parse(value)
    started = float(os.environ.setdefault(STARTED, repr(time.time())))
    time_machine.travel(moment + timedelta(seconds=time.time() - started), tick=True).start()
    # time-machine starts ticking at the first reading, not at start(): read now, or this
    # process would run behind the others by however long it waits before reading the clock
    # (a server a few seconds behind refuses the session cookie another one just signed).
    time.time()
    os.environ[ACTIVE] = str(os.getpid())
    return True
