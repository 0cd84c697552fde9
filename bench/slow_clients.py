"""Slow clients must not shut a room out: signed-in learners' page times while many
connections send their request headers one byte a second (slowloris, or a room of phones on
a bad link), against the real server on loopback.

    .venv/bin/python -m bench.slow_clients                      # the default server (make run)
    .venv/bin/python -m bench.slow_clients --server gunicorn-gthread --server granian
    .venv/bin/python -m bench.slow_clients --slow 200 --loads 40 --server all

For each server: a temporary instance set up as `make run` does (migrate, demo data), the
server started with its command line from `academy.serve` (the one `make run` uses), 200 slow
connections opened (each sends `GET / HTTP/1.1\\r\\n` then one header byte a second and opens
again when the server closes it), then learners (the demo student and seller, signed in
through the real form) load their dashboard, the catalogue and a course page. Printed: page
p50 / p99, how many loads finished within 2 s, how many slow connections the server closed,
and the load average. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.__main__ import check_loopback, csrf_from, free_port, http

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
AIM_SECONDS = 2.0


def prepare_instance(workdir: Path) -> dict[str, str]:
    """What `make run` does before serving: migrate, then the demo data."""
    env = dict(
        os.environ,
        ACADEMY_INSTANCE_PATH=str(workdir / "instance"),
        ACADEMY_SECRET_KEY=secrets.token_hex(16),
    )
    env.pop("DATABASE_URL", None)
    for args in (["db", "upgrade"], ["academy", "seed-demo"]):
        subprocess.run(
            [str(VENV_BIN / "flask"), "--app", "wsgi", *args],
            cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    return env


def start_server(name: str, host: str, port: int, env: dict[str, str], log: Path):
    from academy.serve import command_for

    command = command_for(name, host, port)
    out = log.open("ab")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"slow_clients: {name} stopped during start-up; see {log}")
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=2):
                return process
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"slow_clients: {name} did not answer in 60 s; see {log}")


def sign_in(base: str, username: str, password: str) -> str:
    _status, headers, body, _s = http(base, "GET", "/sign-in")
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    status, headers, _body, _s = http(
        base, "POST", "/sign-in", cookie=cookie,
        data={"csrf_token": csrf_from(body), "username": username, "password": password},
    )  # fmt: skip
    if status != 302:
        raise SystemExit(f"slow_clients: signing in {username} answered {status}")
    return headers["Set-Cookie"].split(";", 1)[0]


class SlowClients:
    """`count` connections sending header bytes one a second, reopened when closed."""

    def __init__(self, host: str, port: int, count: int) -> None:
        self.host, self.port, self.count = host, port, count
        self.closed_by_server = 0
        self.open = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _one(self) -> None:
        header = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 100_000
        while not self._stop.is_set():
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError:
                await asyncio.sleep(1)
                continue
            self.open += 1
            try:
                for byte in header:
                    if self._stop.is_set():
                        break
                    writer.write(bytes([byte]))
                    await writer.drain()
                    try:
                        # Anything read (an error page) or EOF means the server gave up on us.
                        await asyncio.wait_for(reader.read(1024), timeout=1.0)
                        self.closed_by_server += 1
                        break
                    except TimeoutError:
                        pass
            except OSError:
                self.closed_by_server += 1
            finally:
                self.open -= 1
                writer.close()

    async def _main(self) -> None:
        tasks = [asyncio.create_task(self._one()) for _ in range(self.count)]
        while not self._stop.is_set():
            await asyncio.sleep(0.2)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def start(self) -> SlowClients:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def learner_loads(base: str, cookies: list[str], paths: list[str], loads: int) -> list[float]:
    """Seconds per page load (10 s counts as a timeout); four learners at a time."""

    def one(n: int) -> float:
        cookie, path = cookies[n % len(cookies)], paths[n % len(paths)]
        started = time.perf_counter()
        try:
            status, _h, _b, _s = http(base, "GET", path, cookie=cookie, timeout=10)
        except (OSError, urllib.error.URLError):
            return 10.0
        elapsed = time.perf_counter() - started
        return elapsed if status == 200 else 10.0

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(loads)))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(name: str, args, env: dict[str, str], workdir: Path) -> dict:
    port = free_port(args.host)
    base = f"http://{args.host}:{port}"
    process = start_server(name, args.host, port, env, workdir / f"{name}.log")
    try:
        cookies = [
            sign_in(base, "student", "student-demo-1"),
            sign_in(base, "seller", "seller-demo-1"),
        ]
        _s, _h, catalogue, _t = http(base, "GET", "/courses", cookie=cookies[0])
        course = re.search(r'href="(/courses/[a-z0-9-]+)"', catalogue)
        paths = ["/dashboard", "/courses"] + ([course.group(1)] if course else [])
        quiet = learner_loads(base, cookies, paths, 20)
        slow = SlowClients(args.host, port, args.slow).start()
        time.sleep(args.settle)
        opened = slow.open
        times = learner_loads(base, cookies, paths, args.loads)
        slow.stop()
        return {
            "server": name,
            "quiet_p99": percentile(quiet, 0.99),
            "p50": statistics.median(times),
            "p99": percentile(times, 0.99),
            "within": sum(t <= AIM_SECONDS for t in times),
            "loads": len(times),
            "slow_open": opened,
            "closed": slow.closed_by_server,
        }
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def main(argv: list[str] | None = None) -> int:
    from academy.serve import SERVERS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--server", action="append", choices=[*SERVERS, "all"],
        help="server set-up to measure (repeatable; default: `make run`'s)",
    )  # fmt: skip
    parser.add_argument("--slow", type=int, default=200, help="slow connections (200)")
    parser.add_argument("--loads", type=int, default=40, help="learner page loads (40)")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds before measuring")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    check_loopback(args.host)
    names = args.server or ["default"]
    if "all" in names:
        names = list(SERVERS)
    print(f"load average at start: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="academy-slow-") as tmp:
        workdir = Path(tmp)
        env = prepare_instance(workdir)
        for name in names:
            rows.append(measure(name, args, env, workdir))
    print(f"{args.slow} slow connections (a header byte a second), {args.loads} learner loads")
    print(
        f"{'server':<20} {'quiet p99':>9} {'p50 s':>7} {'p99 s':>7} {'<=2 s':>7} "
        f"{'slow open':>9} {'closed':>7}"
    )
    for r in rows:
        print(
            f"{r['server']:<20} {r['quiet_p99']:>9.3f} {r['p50']:>7.3f} {r['p99']:>7.3f} "
            f"{r['within']:>3}/{r['loads']:<3} {r['slow_open']:>9} {r['closed']:>7}"
        )
    print(f"load average at end: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
