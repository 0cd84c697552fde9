"""What a class prints: sign-in cards (10 per A4 page with cut lines, each with a QR code that
opens the sign-in page with the username filled in, never the password) and the A4 join poster
(a large QR code of the join link with the code, the class and its room). Made by the one PDF
path; QR codes by the one QR path (core/qr.py)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from flask import render_template

from academy.classes.models import Class
from academy.core.db import utcnow
from academy.core.pdf import render_pdf
from academy.core.qr import public_base, qr_data_url

PRINT_DIR = Path(__file__).resolve().parent / "print"


def join_link(klass: Class) -> str | None:
    """The link a phone opens to join the class (the code filled in), or None when the class
    has no code that works."""
    if not klass.join_code:
        return None
    if klass.join_code_expires_at is not None and klass.join_code_expires_at <= utcnow():
        return None
    base = public_base() or ""
    return f"{base}/join?{urlencode({'code': klass.join_code})}"


def sign_in_link(username: str) -> str | None:
    base = public_base()
    return f"{base}/sign-in?{urlencode({'username': username})}" if base else None


def cards_pdf(klass: Class, people: list[tuple[str, str, str | None]]) -> bytes:
    """people: (full name, username, password or None). A password is printed only when it
    was just generated: hashed passwords cannot be read back, and it is never in the QR code."""
    base = public_base()
    cards = []
    for name, username, password in people:
        link = sign_in_link(username)
        cards.append((name, username, password, qr_data_url(link) if link else None))
    html = render_template(
        "classes/cards.html", klass=klass, cards=cards, site=f"{base}/" if base else ""
    )
    return render_pdf(html, PRINT_DIR, stylesheets=[PRINT_DIR / "cards.css"])


def poster_pdf(klass: Class, link: str) -> bytes:
    """The A4 poster for the classroom wall: scan to join."""
    html = render_template(
        "classes/poster.html", klass=klass, link=link, qr=qr_data_url(link, border=1)
    )
    return render_pdf(html, PRINT_DIR, stylesheets=[PRINT_DIR / "poster.css"])
