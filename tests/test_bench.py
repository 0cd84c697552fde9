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
