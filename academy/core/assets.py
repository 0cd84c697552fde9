"""Fingerprinted static URLs: /static/v/<release>/css/app.css, cached by browsers for a year.

<release> is one digest of every file under academy/static, computed once when the app starts.
Because it is part of the path, URLs *inside* a stylesheet (url("../fonts/x.woff2")) resolve to
the same versioned folder: fonts and images referenced from CSS are long-cached too, and the
font the page preloads (`static_url('fonts/...')`) is the very URL the stylesheet asks for, so
it is fetched once. A deploy that changes any static file changes every URL. nginx can serve
/static/v/<anything>/ straight from the folder (docs/deploy.md). The older ?v=<hash> form on
/static/ keeps working.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_request_context, request, send_from_directory, url_for

_release: dict[str, str] = {}
# URLs that are the same on every request (the menu's pages, the stylesheet) are kept per
# app: building one costs 5-10 microseconds in werkzeug, and a page asks for a dozen or more.
_FIXED_MAX = 4096


def fixed_url(endpoint: str, **values: Any) -> str:
    """url_for for a URL that depends only on its arguments and the mount point (no relative
    endpoint, no _external/_anchor): built once per process."""
    if not has_request_context() or endpoint.startswith("."):
        return url_for(endpoint, **values)
    fixed = current_app.extensions.setdefault("academy.fixed_urls", {})
    key = (request.script_root, endpoint, *sorted(values.items()))
    url = fixed.get(key)
    if url is None:
        url = url_for(endpoint, **values)
        if len(fixed) < _FIXED_MAX:
            fixed[key] = url
    return url


def _template_url_for(endpoint: str, **values: Any) -> str:
    # Templates' url_for: cached when it names an endpoint alone (the header's links).
    if values:
        return url_for(endpoint, **values)
    return fixed_url(endpoint)


def release_digest(static_folder: str) -> str:
    digest = _release.get(static_folder)
    if digest is None:
        hasher = hashlib.sha256()
        root = Path(static_folder)
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for name in sorted(files):
                path = Path(folder) / name
                hasher.update(path.relative_to(root).as_posix().encode() + b"\0")
                hasher.update(path.read_bytes())
        digest = _release[static_folder] = hasher.hexdigest()[:12]
    return digest


def static_url(filename: str) -> str:
    return fixed_url(
        "static_versioned",
        release=release_digest(current_app.static_folder or ""),
        filename=filename,
    )


def _versioned(release: str, filename: str):
    # Whatever release the URL names, today's file is served: during a rolling deploy a page
    # from the old release still gets its assets.
    response = send_from_directory(
        current_app.static_folder or "", filename, max_age=current_app.config["STATIC_MAX_AGE"]
    )
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.globals["static_url"] = static_url
    app.jinja_env.globals["url_for"] = _template_url_for
    app.add_url_rule(
        f"{app.static_url_path}/v/<release>/<path:filename>", "static_versioned", _versioned
    )
    release_digest(app.static_folder or "")  # once, in the master when gunicorn preloads

    def max_age(_filename: str | None) -> int | None:
        # Fingerprinted URLs never change content: cache for a year. Plain URLs revalidate.
        return app.config["STATIC_MAX_AGE"] if request.args.get("v") else None

    app.get_send_file_max_age = max_age  # type: ignore[method-assign]
