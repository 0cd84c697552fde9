"""A throwaway PostgreSQL cluster for `python -m bench --postgres` (as tests/with_postgres.sh)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _bindir() -> Path:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not found:
        raise SystemExit("bench: PostgreSQL is not installed (apt-get install postgresql)")
    return found[-1]


def _as_pg(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; as root, run it as the postgres account.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class Cluster:
    def __init__(self) -> None:
        self.bindir = _bindir()
        self.workdir = Path(tempfile.mkdtemp(prefix="academy-bench-pg."))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/academy_bench"

    def start(self) -> Cluster:
        data = self.workdir / "data"
        run = {"check": True, "stdout": subprocess.DEVNULL}
        subprocess.run(
            _as_pg([str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A",
                    "trust", "-E", "UTF8", "--locale=C.UTF-8"]), **run)  # fmt: skip
        # Durable settings (fsync on): the figures are a real server's, not a test cluster's.
        options = (
            f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 "
            "-c max_connections=200 -c shared_buffers=256MB"
        )
        subprocess.run(
            _as_pg([str(self.bindir / "pg_ctl"), "-D", str(data), "-l",
                    str(self.workdir / "log"), "-w", "-o", options, "start"]), **run)  # fmt: skip
        subprocess.run(
            _as_pg([str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                    "-U", "postgres", "academy_bench"]), **run)  # fmt: skip
        return self

    def stop(self) -> None:
        subprocess.run(
            _as_pg([str(self.bindir / "pg_ctl"), "-D", str(self.workdir / "data"), "-m",
                    "fast", "stop"]), check=False, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)  # fmt: skip
        shutil.rmtree(self.workdir, ignore_errors=True)
