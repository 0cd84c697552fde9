"""gunicorn settings for Academy, the alternative server: `python -m academy.serve --server
gunicorn-gthread` (the default is granian; docs/deploy.md, "Choosing the server", says why).
Every value can be overridden with command-line flags or the environment variables below."""

import multiprocessing
import os

# Threaded workers, one process per core with 4 threads each. Measured on the 2-core target
# with `python -m bench` (docs/deploy.md, "Choosing the worker model"): gthread 2x4 served
# 2-3x the requests of sync 4 (2 per core) on the same pages, in half the memory, because a
# thread keeps the connection open (keep-alive) and waits on the database or the client
# without holding a whole process. Override with WEB_CONCURRENCY and GUNICORN_THREADS.
workers = int(os.environ.get("WEB_CONCURRENCY") or max(2, multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
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
