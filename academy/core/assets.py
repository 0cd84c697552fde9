"""Fingerprinted static URLs: /static/css/app.css?v=<hash>, cached by browsers for a year.

Hashes are computed once per file per process; a deploy that changes a file changes its URL."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, request, url_for

_hashes: dict[str, str] = {}


def static_url(filename: str) -> str:
    from flask import current_app

    digest = _hashes.get(filename)
    if digest is None:
        path = Path(current_app.static_folder or "") / filename
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        _hashes[filename] = digest
    return url_for("static", filename=filename, v=digest)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["static_url"] = static_url

    def max_age(_filename: str | None) -> int | None:
        # Fingerprinted URLs never change content: cache for a year. Plain URLs revalidate.
        return app.config["STATIC_MAX_AGE"] if request.args.get("v") else None

    app.get_send_file_max_age = max_age  # type: ignore[method-assign]
