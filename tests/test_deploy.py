"""Several app servers, one PostgreSQL: nothing a request needs lives in one process's memory.

Two real app servers (the default server, academy/serve.py, as `make run`) on two loopback ports share one
database, one ACADEMY_SECRET_KEY and one DATA_DIR, as app servers behind a load balancer do
(docs/deploy.md). A learner signs in on one and goes on on the other."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from academy.serve import command_for
from tests.fixtures.databases import drop_postgres_database, postgres_database
from tests.fixtures.servers import BIN, Browser, free_port

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "first-password-1"
NEW_PASSWORD = "second-password-2"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, worker_name):
    tmp_path = tmp_path_factory.mktemp("deploy")
    name = f"academy_deploy_{worker_name}"
    database_url = postgres_database(name)
    shared = tmp_path / "shared-data"
    shared.mkdir()
    base_env = dict(
        os.environ,
        DATABASE_URL=database_url,
        ACADEMY_SECRET_KEY="one-key-for-every-app-server",
        ACADEMY_DATA_DIR=str(shared),
        ACADEMY_LOG_LEVEL="WARNING",
        WEB_CONCURRENCY="1",
    )
    env_a = dict(base_env, ACADEMY_INSTANCE_PATH=str(tmp_path / "instance-a"))
    env_b = dict(base_env, ACADEMY_INSTANCE_PATH=str(tmp_path / "instance-b"))

    def flask(*args, env=env_a, input=None):
        result = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env,
                                input=input, capture_output=True, text=True)  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout

    flask("db", "upgrade")
    for username in ("somchai", "malee"):
        flask("academy", "create-user", username, "--password-stdin", input=PASSWORD + "\n")

    servers = []
    try:
        for env in (env_a, env_b):
            port = free_port()
            log = (tmp_path / f"server-{port}.log").open("w")
            process = subprocess.Popen(
                command_for("default", "127.0.0.1", port),
                cwd=ROOT, env=env, stdout=log, stderr=log,
            )  # fmt: skip
            servers.append((process, f"http://127.0.0.1:{port}", log))
        for process, base, _log in servers:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, "the server stopped; see its log in tmp_path"
                try:
                    with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                        if response.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError):
                    pass
                assert time.monotonic() < deadline, "the server did not answer in 30 s"
                time.sleep(0.1)
        yield [base for _p, base, _l in servers], shared
    finally:
        for process, _base, log in servers:
            process.terminate()
            process.wait(20)
            log.close()
        drop_postgres_database(name)


def test_a_learner_moves_between_two_app_servers(cluster):
    (a, b), _shared = cluster
    browser = Browser()

    # Sign in on A with the real form and its CSRF token.
    token = browser.csrf(a + "/sign-in")
    status, _page, location = browser.open(
        a + "/sign-in", {"csrf_token": token, "username": "somchai", "password": PASSWORD}
    )
    assert status == 302 and "/sign-in" not in location

    # B knows the session: same key, and the user is read from the shared database.
    status, page, _ = browser.open(b + "/account/password")
    assert status == 200 and "somchai" in page

    before_change = browser.copy()

    # Change the password on B (a form whose CSRF token B made, from a session A started).
    token = browser.csrf(b + "/account/password")
    status, _page, _location = browser.open(
        b + "/account/password",
        {"csrf_token": token, "current_password": PASSWORD, "password": NEW_PASSWORD,
         "confirm": NEW_PASSWORD},
    )  # fmt: skip
    assert status == 302

    # The old cookie is refused on A (and on B); the new one works on both.
    for server in (a, b):
        status, _page, location = before_change.open(server + "/account/password")
        assert status == 302 and "/sign-in" in location, server
        status, _page, _ = browser.open(server + "/account/password")
        assert status == 200, server


def test_sign_in_throttling_is_shared(cluster):
    (a, b), _shared = cluster
    browser = Browser()
    for server in (a, b, a, b, a):
        token = browser.csrf(server + "/sign-in")
        status, _p, _l = browser.open(
            server + "/sign-in", {"csrf_token": token, "username": "malee", "password": "nope"}
        )
        assert status == 400
    # Five failures spread over two servers: the sixth try, right password, is held back.
    token = browser.csrf(b + "/sign-in")
    status, page, _ = browser.open(
        b + "/sign-in", {"csrf_token": token, "username": "malee", "password": PASSWORD}
    )
    assert status == 400
    assert "นาที" in page or "minute" in page.lower()
