"""The school server's side of the wire: JSON and gzip batches over HTTP(S), standard library
only (urllib), each call with a timeout so a dead link fails a round instead of hanging it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

TIMEOUT_SECONDS = 60


class Unreachable(Exception):
    """The round could not finish; the message says why in plain words."""


def call(
    base: str,
    path: str,
    *,
    token: str | None = None,
    payload: Any = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """POST (with a JSON payload or a raw body) or GET `path`; the city's JSON answer."""
    if not base.startswith(("https://", "http://")):
        raise Unreachable(f"the city server's address must start with https:// ({base})")
    all_headers = {"Accept": "application/json", **(headers or {})}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    if payload is not None:
        body = json.dumps(payload).encode()
        all_headers["Content-Type"] = "application/json"
    elif body is not None:
        all_headers.setdefault("Content-Type", "application/gzip")
    # The scheme is checked above: http(s) only, never file: or ftp:.
    request = urllib.request.Request(  # noqa: S310
        base.rstrip("/") + path, data=body, headers=all_headers, method="POST" if body else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            text = exc.read()
        try:
            message = json.loads(text)["error"]
        except (ValueError, KeyError, TypeError):
            message = f"the city server answered {exc.code}"
        raise Unreachable(message) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Unreachable(f"the city server cannot be reached at {base} ({reason})") from None
    except ValueError:
        raise Unreachable("the city server's answer is not JSON") from None
