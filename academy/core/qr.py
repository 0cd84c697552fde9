"""The one way to draw a QR code: the qrcode library's SVG (vector, so it prints sharp at any
size, and made on the server: no network, no JavaScript). Used by the projector board, the
class poster, sign-in cards and certificates."""

from __future__ import annotations

import base64

from flask import current_app, has_request_context, request
from markupsafe import Markup

from academy.core import signals


def configured_public_base() -> str | None:
    """The public address this server is set up with: PUBLIC_BASE_URL, else one a feature
    answers for it (a joined school server: its city's, where its certificates verify)."""
    if configured := (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/"):
        return configured
    for _receiver, address in signals.public_address.send(None):
        if address:
            return str(address).rstrip("/")
    return None


def public_base() -> str | None:
    """The address people reach this server by, for printed links and QR codes: the
    configured one, else the one this request came to (the teacher's browser reached the
    school server by it); None outside a request without either."""
    if configured := configured_public_base():
        return configured
    if has_request_context():
        return request.host_url.rstrip("/")
    return None


def _svg(text: str, border: int) -> bytes:
    # Imported on the first QR code: qrcode with its SVG writer is about 4 MB a worker that
    # most workers, serving lessons, never need.
    import qrcode
    import qrcode.constants
    import qrcode.image.svg

    # M (15% may be lost): a poster behind a smudged laminate or a card in a pocket still reads.
    image = qrcode.make(
        text,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=border,
    )
    return image.to_string()


def qr_svg(text: str, *, border: int = 2) -> Markup:
    """The QR code of `text` as an inline <svg> element (no XML declaration)."""
    svg = _svg(text, border).decode("utf-8")
    # qrcode builds the SVG itself; `text` only becomes the squares, never markup.
    return Markup(svg[svg.index("<svg") :])  # noqa: S704


def qr_data_url(text: str, *, border: int = 0) -> str:
    """The QR code of `text` as a data: URL for an <img> (WeasyPrint's fetcher allows these)."""
    return "data:image/svg+xml;base64," + base64.b64encode(_svg(text, border)).decode()
