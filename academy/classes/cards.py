"""Printable sign-in cards: 10 per A4 page with cut lines, made by the one PDF path."""

from __future__ import annotations

from pathlib import Path

from flask import has_request_context, render_template, request

from academy.classes.models import Class
from academy.core.pdf import render_pdf

PRINT_DIR = Path(__file__).resolve().parent / "print"


def cards_pdf(klass: Class, people: list[tuple[str, str, str | None]]) -> bytes:
    """people: (full name, username, password or None). A password is printed only when it
    was just generated: hashed passwords cannot be read back."""
    html = render_template(
        "classes/cards.html",
        klass=klass,
        people=people,
        site=request.host_url if has_request_context() else "",
    )
    return render_pdf(html, PRINT_DIR, stylesheets=[PRINT_DIR / "cards.css"])
