"""Long work told as it goes. A service that takes long (thousands of accounts, every
certificate, every stored file) accepts `start: Start | None`; `start(label, total)` returns a
`Step` it calls with the number of items just finished. The command line passes its progress
bars (core/cli.py `Bars`); a web page's request passes `to_file`, which the page polls; other
callers pass nothing and nothing is shown."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from academy.core.storage import atomic_write

Step = Callable[[int], None]
Start = Callable[[str, int], Step]


def no_step(_n: int = 1) -> None:
    """The step of work nobody watches."""


def begin(start: Start | None, label: str, total: int) -> Step:
    return start(label, total) if start is not None else no_step


def to_file(path: Path) -> Start:
    """Progress a web page can poll while its own request works: each step (every fiftieth and
    the last) rewrites `path` with {"label", "done", "total"}. A file, not memory: the poll may
    reach another worker or app server (DATA_DIR is shared, docs/deploy.md)."""

    def start(label: str, total: int) -> Step:
        done = written = 0

        def write() -> None:
            state = {"label": label, "done": done, "total": total}
            atomic_write(path, json.dumps(state).encode())

        def step(n: int = 1) -> None:
            nonlocal done, written
            done = min(total, done + n)
            if done == total or (done - written) * 50 >= total:
                written = done
                write()

        write()  # started: the page sees the total at once
        return step

    return start


def read_file(path: Path) -> dict[str, object]:
    """What `to_file` last wrote; nothing done of nothing before the work has started."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"label": "", "done": 0, "total": 0}
