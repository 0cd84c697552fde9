"""Long work told as it goes. A service that takes long (thousands of accounts, every
certificate, every stored file) accepts `start: Start | None`; `start(label, total)` returns a
`Step` it calls with the number of items just finished. The command line passes its progress
bars (core/cli.py `Bars`); other callers pass nothing and nothing is shown."""

from __future__ import annotations

from collections.abc import Callable

Step = Callable[[int], None]
Start = Callable[[str, int], Step]


def no_step(_n: int = 1) -> None:
    """The step of work nobody watches."""


def begin(start: Start | None, label: str, total: int) -> Step:
    return start(label, total) if start is not None else no_step
