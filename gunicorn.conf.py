"""gunicorn settings for Academy (see docs/deploy.md). Every value can be overridden with
GUNICORN_* style command-line flags or the environment variables named below."""

import multiprocessing
import os

# Sync workers: Academy's requests are short and database-bound; two per core keeps both cores
# busy while one worker waits on the database.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow for weeks on a school server.
max_requests = 20000
max_requests_jitter = 2000
accesslog = os.environ.get("ACADEMY_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("ACADEMY_LOG_LEVEL", "info").lower()
# Build the app once in the master, then fork: workers share its memory, start fast, and a
# broken DATABASE_URL stops start-up with one clear message instead of failing per request.
preload_app = True


def post_fork(server, worker):
    # Connections made in the master (the start-up check) must not be shared with children.
    app = server.app.wsgi()
    if "sqlalchemy" not in getattr(app, "extensions", {}):
        return  # not Academy (bench/hello.py runs under this same file)
    from academy.extensions import db

    with app.app_context():
        db.engine.dispose(close=False)
