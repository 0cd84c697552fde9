"""gzip for text responses the app renders, when no nginx does it (a school PC on the LAN).

Pages are 3-50 KB of HTML that shrinks by 60-95 %; compressing costs 0.02-0.1 ms of CPU
(zlib level 5), 1-3 % of a page's cost, and saves a crowded room's Wi-Fi or a phone's mobile
data far more. Behind nginx the app already compressed the body and nginx passes it on.

Left alone: streamed responses (CSV exports stay constant-memory), files (send_file passes
them through; static files are long-cached anyway), small bodies (< 1 KB), anything already
encoded, and clients that do not ask for gzip.
"""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

MIN_BYTES = 1024
LEVEL = 5
TYPES = (
    "text/html",
    "text/css",
    "text/plain",
    "text/csv",
    "application/json",
    "application/javascript",
    "text/javascript",
    "image/svg+xml",
)


def _compress(response: Response) -> Response:
    if (
        response.direct_passthrough
        or response.is_streamed
        or response.status_code < 200
        or response.status_code in (204, 206, 304)
        or "Content-Encoding" in response.headers
        or response.mimetype not in TYPES
        or "gzip" not in request.headers.get("Accept-Encoding", "").lower()
    ):
        return response
    body = response.get_data()
    if len(body) < MIN_BYTES:
        return response
    response.set_data(gzip.compress(body, compresslevel=LEVEL, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    if response.headers.get("ETag"):
        response.headers["ETag"] = response.headers["ETag"].rstrip('"') + '-gz"'
    return response


def init_app(app: Flask) -> None:
    if app.config.get("GZIP_RESPONSES", True):
        app.after_request(_compress)
