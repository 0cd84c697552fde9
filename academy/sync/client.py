"""The school server's side of the wire: JSON and gzip batches over HTTP(S) with the standard
library's urllib, each call with a timeout so a dead link fails a round instead of hanging it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from academy.sync.problems import N_, Problem, SyncProblem

TIMEOUT_SECONDS = 60


class Unreachable(SyncProblem):
    """The round could not finish; the problem says why in plain words."""

    @classmethod
    def of(cls, problem: Problem) -> Unreachable:
        return cls(problem.message, **problem.params)


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
        raise Unreachable(N_("the city server's address must start with https:// (%(url)s)"),
                          url=base)  # fmt: skip
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
        raise Unreachable.of(_refusal(text, exc.code)) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = str(getattr(exc, "reason", exc))
        raise Unreachable(N_("the city server cannot be reached at %(url)s (%(reason)s)"),
                          url=base, reason=reason) from None  # fmt: skip
    except ValueError:
        raise Unreachable(N_("the city server's answer is not JSON")) from None


def _refusal(text: bytes, status: int) -> Problem:
    """The city's refusal: its message id and values (an older city: its English words)."""
    try:
        answer = json.loads(text)
        problem = Problem.from_json(answer.get("problem"))
        return problem or Problem(str(answer["error"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return Problem(N_("the city server answered %(status)s"), {"status": status})
