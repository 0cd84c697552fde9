"""Entry point for the servers (`academy.serve`: granian `wsgi:served`, gunicorn `wsgi:app`) and
`flask --app wsgi ...`.

Each target is built when it is first asked for, so a granian worker builds only `served` (an
app without the `flask db` commands: see create_app) and never a second app beside it."""

from typing import Any

from academy import create_app
from academy.core.watchdog import RequestWatchdog


def __getattr__(name: str) -> Any:
    if name == "app":
        value: Any = create_app()
    elif name == "served":
        served_app = create_app(serving=True)
        # granian has no request timeout of its own: this one ends a worker whose request is
        # stuck.
        value = RequestWatchdog(served_app, float(served_app.config["REQUEST_TIMEOUT_SECONDS"]))
    else:
        raise AttributeError(f"module 'wsgi' has no attribute {name!r}")
    globals()[name] = value
    return value
