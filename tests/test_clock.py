"""academy/core/clock.py: local days and months from the configured timezone, in Python and in
SQL, at the moments where Bangkok and UTC disagree on the day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from academy.core import clock
from academy.core.models import AuditEntry
from academy.extensions import db

# (UTC instant, Bangkok month): 00:30 on 1 January in Bangkok is still 31 December in UTC;
# leap day; the last evening of a 30-day month.
MOMENTS = [
    (datetime(2026, 12, 31, 16, 59, tzinfo=UTC), "2026-12"),
    (datetime(2026, 12, 31, 17, 30, tzinfo=UTC), "2027-01"),
    (datetime(2028, 2, 29, 5, 0, tzinfo=UTC), "2028-02"),
    (datetime(2028, 2, 29, 17, 30, tzinfo=UTC), "2028-03"),
    (datetime(2027, 4, 30, 15, 30, tzinfo=UTC), "2027-04"),
    (datetime(2027, 4, 30, 17, 0, tzinfo=UTC), "2027-05"),
]


@pytest.mark.parametrize(("at", "month"), MOMENTS)
def test_month_key_in_python_and_sql_agree(app, at, month):
    assert clock.local_month_key(at) == month
    # Through a real row: the SQL sees the value as the database stores it.
    db.session.add(AuditEntry(action="test.clock", at=at, details={}))
    db.session.flush()
    sql = clock.month_key_sql(AuditEntry.at, db.engine.dialect.name)
    assert db.session.scalar(select(sql).where(AuditEntry.action == "test.clock")) == month
    db.session.rollback()


def test_local_days(app):
    assert clock.local_day_start(date(2027, 1, 1)) == datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    assert clock.local_month_start(2028, 3) == datetime(2028, 2, 29, 17, 0, tzinfo=UTC)
    assert clock.local_date(datetime(2026, 12, 31, 17, 30, tzinfo=UTC)) == date(2027, 1, 1)
    assert clock.local_date(date(2027, 1, 1)) == date(2027, 1, 1)
    assert clock.to_local(datetime(2026, 12, 31, 17, 30)).hour == 0  # naive means UTC


def test_local_now_follows_the_clock(app, time_machine):
    time_machine.move_to(datetime(2028, 2, 29, 17, 30, tzinfo=UTC), tick=False)
    assert clock.local_now().date() == date(2028, 3, 1)
    assert clock.local_month_keys(3) == ["2028-01", "2028-02", "2028-03"]


def test_the_configured_timezone_is_used(app):
    app.config["BABEL_DEFAULT_TIMEZONE"] = "Asia/Tokyo"
    try:
        at = datetime(2026, 12, 31, 15, 30, tzinfo=UTC)
        assert clock.local_month_key(at) == "2027-01"
        assert clock.local_day_start(date(2027, 1, 1)) == datetime(2026, 12, 31, 15, tzinfo=UTC)
        db.session.add(AuditEntry(action="test.clock", at=at, details={}))
        db.session.flush()
        sql = clock.month_key_sql(AuditEntry.at, db.engine.dialect.name)
        assert db.session.scalar(select(sql)) == "2027-01"
    finally:
        db.session.rollback()
        app.config["BABEL_DEFAULT_TIMEZONE"] = "Asia/Bangkok"


def test_processes_started_by_tests_share_the_suite_clock():
    """gunicorn and flask started by tests read the same clock as the suite (ACADEMY_TEST_CLOCK
    through tests/clock/sitecustomize.py); without the variable they read the real one."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.clock import academy_test_clock as test_clock

    folder = Path(__file__).parent / "clock"
    env = {k: v for k, v in os.environ.items() if k not in (test_clock.STARTED, test_clock.ACTIVE)}
    env.update(PYTHONPATH=str(folder), **{test_clock.CLOCK: "2028-02-29T23:30+07:00"})
    code = "from academy.core.clock import local_now; print(local_now().isoformat())"
    root = Path(__file__).parent.parent
    run = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True,
                         text=True, check=True)  # fmt: skip
    assert run.stdout.startswith("2028-02-29T23:3"), run.stdout + run.stderr


@pytest.mark.skipif(
    not __import__("os").environ.get("ACADEMY_TEST_CLOCK"), reason="runs under make test-clocks"
)
def test_started_processes_agree_with_the_suite_to_the_second():
    """Two app servers a few seconds apart refuse each other's fresh session cookies
    (itsdangerous: a signature from the future): every process reads one ticking clock, even
    one that waits before its first reading (a server booting)."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).parent.parent
    before = time.time()
    out = subprocess.run([sys.executable, "-c", "import time; time.sleep(1); print(time.time())"], cwd=root,
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert before <= float(out) <= time.time()
