"""Entry point for the servers (`academy.serve`: granian `wsgi:served`, gunicorn `wsgi:app`) and
`flask --app wsgi ...`."""

from academy import create_app
from academy.core.watchdog import RequestWatchdog

app = create_app()
# granian has no request timeout of its own: this one ends a worker whose request is stuck.
served = RequestWatchdog(app, float(app.config["REQUEST_TIMEOUT_SECONDS"]))
