"""The benchmark harness's own rules (the benchmark itself runs with `make bench`)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench.__main__ import check_loopback, fill, find_rule, post_rules_under


@pytest.mark.parametrize("host", ["10.0.0.5", "192.168.1.10", "0.0.0.0", "example.org"])  # noqa: S104
def test_refuses_any_target_but_loopback(host):
    with pytest.raises(SystemExit, match="only targets this machine's loopback"):
        check_loopback(host)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_accepts_loopback(host):
    check_loopback(host)


def test_command_line_refuses_a_remote_host_before_starting_anything():
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--host", "10.1.2.3"], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "refusing to load-test 10.1.2.3" in result.stderr


def test_routes_are_found_whatever_the_placeholder_names(app):
    assert find_rule(app, "/people/<int:person_id>/role", "POST")
    assert find_rule(app, "/people/<id>/role", "POST")
    assert not find_rule(app, "/no-such-page")
    assert "/people/<int:person_id>/role" in post_rules_under(app, "/people/<x>/")
    assert (
        fill("/courses/<slug>/lessons/<key>/done", "shop", "l1") == "/courses/shop/lessons/l1/done"
    )


def test_aims_read_each_page_against_the_ceiling_at_the_same_connections():
    from bench.__main__ import Result, aims

    hello = [Result("hello", rps=3000, connections=16, scenario="hello"),
             Result("hello", rps=4000, connections=40, scenario="hello")]  # fmt: skip
    rows = [
        ("sqlite", Result("lesson", rps=1200, p99=200, connections=16, scenario="lesson")),
        ("sqlite", Result("lesson", rps=1000, p99=300, connections=40, scenario="lesson")),
        ("sqlite", Result("idle", pss_mb=130, scenario="idle")),
    ]
    found = {a.what: (a.measured, a.met) for a in aims(rows, hello, {"lesson": 1.2})}
    assert found["lesson: in-process CPU (median)"] == ("1.20 ms", True)
    assert found["lesson: share of hello at 16"] == ("40%", True)
    assert found["lesson: req/s at 16"] == ("1200", True)
    assert found["lesson: req/s at 40 vs 16"] == ("83%", False)  # lost more than a tenth
    assert found["lesson: p99 at 40"] == ("300 ms", False)
    assert found["server memory at rest (PSS)"] == ("130 MB", False)


def test_memory_after_the_load_is_read_against_the_memory_at_rest():
    from bench.__main__ import Result, aims

    def found(after_mb):
        rows = [("sqlite", Result("idle", pss_mb=150, scenario="idle")),
                ("sqlite", Result("lesson", rps=500, pss_mb=230, connections=16, scenario="lesson")),
                ("sqlite", Result("after", pss_mb=after_mb, scenario="after"))]  # fmt: skip
        return {a.what: (a.measured, a.met) for a in aims(rows, [], None)}

    assert found(170)["server memory after the load (PSS)"] == ("170 MB (113%)", True)
    assert found(200)["server memory after the load (PSS)"] == ("200 MB (133%)", False)
    # The reading after the load is not the peak under it.
    assert found(200)["server memory under load (peak PSS)"][0] == "230 MB"
