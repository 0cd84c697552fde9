"""The certificate as a PDF: plain values into the HTML template (its own Jinja environment),
WeasyPrint through core.pdf, stored once per code under DATA_DIR; ZIPs for a class; rendering
right after the response that issued a certificate.

Rendering is lazy: a certificate row is created inside the completion transaction (cheap: one
INSERT), and its PDF is rendered on first download (or ahead of time by `render-certificates`),
then stored as DATA_DIR/certificates/<code>.pdf and served from there ever after. A learner's
last click in a course therefore never waits for WeasyPrint."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import tempfile
import zipfile
from contextlib import nullcontext
from pathlib import Path
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    current_app,
    g,
    has_app_context,
)
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, or_, select

from academy.certificates.design import (
    ACCENT_RULE,
    DEFAULT_ACCENT,
    assets_dir,
    default_issuers,
    design_snapshot,
    issuers_for,
)
from academy.certificates.models import (
    VALID,
    Certificate,
    CertificateDesign,
    group_code,
)
from academy.certificates.verification import base_url, configured_base, print_base, verify_url
from academy.core.db import utcnow
from academy.core.i18n import format_date
from academy.core.pdf import render_pdf
from academy.core.progress import Start, begin
from academy.core.qr import qr_data_url
from academy.core.storage import atomic_write
from academy.courses.models import Course
from academy.extensions import db

PDF_DIR = Path(__file__).resolve().parent / "pdf"


def render_after_response(response: Response) -> Response:
    """after_request hook: render the PDFs of certificates issued in this request, after the
    response is sent and only if the request's transaction committed them."""
    codes = g.pop("certificates_to_render", None)
    if codes:
        app = current_app._get_current_object()
        # The request is gone when the PDF is drawn: take its public address now, or the QR
        # code would lead to http://localhost.
        base = print_base()
        response.call_on_close(lambda: _render_codes(app, codes, base))
    return response


def _render_codes(app: Flask, codes: list[str], base: str | None) -> None:
    # Servers close the response after the request's context is gone; the test client closes
    # it inside the test's own context, whose session is then the one to use.
    with nullcontext() if has_app_context() else app.app_context():
        try:
            for certificate in db.session.scalars(
                select(Certificate).where(Certificate.code.in_(codes), Certificate.status == VALID)
            ):
                stored_pdf(certificate, base)
            db.session.commit()
        except Exception:  # the PDF is rendered again on first download; never lose the click
            db.session.rollback()
            app.logger.exception("could not pre-render certificates %s", codes)


# --- The PDF ---------------------------------------------------------------------------------

_env = Environment(
    loader=FileSystemLoader(str(PDF_DIR)),
    autoescape=select_autoescape(["html"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _length_class(text: str, limits: tuple[int, int, int]) -> str:
    n = len(text or "")
    if n <= limits[0]:
        return "l"
    if n <= limits[1]:
        return "m"
    if n <= limits[2]:
        return "s"
    return "xs"


def _asset_url(name: str | None) -> str | None:
    if not name or not re.fullmatch(r"[0-9a-f]{32}\.png", name):
        return None
    path = assets_dir() / name
    return path.as_uri() if path.is_file() else None


def certificate_html(certificate: Certificate, base: str | None = None) -> str:
    design = certificate.design or {}
    title_th = design.get("title_th") or "ประกาศนียบัตร"
    title_en = design.get("title_en") or "Certificate of Completion"
    accent = design.get("accent_color") or DEFAULT_ACCENT
    if not ACCENT_RULE.match(accent):
        accent = DEFAULT_ACCENT
    signatories = [
        dict(s, signature_url=_asset_url(s.get("signature")))
        for s in design.get("signatories") or []
    ]
    logos = [url for url in (_asset_url(n) for n in design.get("logos") or []) if url]
    course_title = certificate.course_title_th or ""
    issuers = certificate.issuers or default_issuers()
    context = {
        "certificate": certificate,
        "code": group_code(certificate.code),
        "name": certificate.learner_name,
        "name_size": _length_class(certificate.learner_name, (28, 50, 110)),
        "course_th": course_title,
        "course_en": certificate.course_title_en,
        "course_size": _length_class(
            course_title + (certificate.course_title_en or ""), (90, 160, 300)
        ),
        "title_th": title_th,
        "title_en": title_en,
        "accent": accent,
        "date_th": format_date(certificate.issued_at, "th"),
        "date_en": format_date(certificate.issued_at, "en"),
        "issuers": issuers,
        "issuer_title": " / ".join(i.get("en") or i.get("th", "") for i in issuers),
        "score": certificate.score,
        "signatories": signatories,
        "logos": logos,
        "verify_url": verify_url(certificate.code, base),
        "qr": qr_data_url(verify_url(certificate.code, base)),
    }
    return _env.get_template("certificate.html").render(**context)


def render(certificate: Certificate, base: str | None = None) -> bytes:
    return render_pdf(
        certificate_html(certificate, base),
        PDF_DIR,
        stylesheets=[PDF_DIR / "certificate.css"],
        extra_dirs=[assets_dir()],
    )


def pdf_dir() -> Path:
    path = Path(current_app.config["DATA_DIR"]) / "certificates"
    path.mkdir(parents=True, exist_ok=True)
    return path


def pdf_path(certificate: Certificate) -> Path:
    if not re.fullmatch(r"[0-9A-Z]{4,32}", certificate.code):
        raise ValueError("bad certificate code")
    return pdf_dir() / f"{certificate.code}.pdf"


def _is_loopback(base: str) -> bool:
    host = urlsplit(base).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def needs_new_link(certificate: Certificate, base: str, authoritative: bool) -> bool:
    """Whether the stored PDF's printed link should become `base`. A PDF stored before links
    were recorded (None) or pointing at this machine (localhost) is wrong; a configured or
    explicitly given base replaces any other; a base taken from a request replaces only a
    wrong one, so a site reached by two names does not re-render back and forth."""
    stored = certificate.pdf_link_base
    if stored == base:
        return False
    if authoritative or stored is None:
        return True
    return _is_loopback(stored) and not _is_loopback(base)


def stored_pdf(
    certificate: Certificate, base: str | None = None, *, authoritative: bool | None = None
) -> Path:
    """The stored PDF, rendered and written first if it is not there yet, or again if its
    printed link is wrong (needs_new_link). `base` is the address to print (default:
    print_base()). Sets pdf_sha256 and pdf_link_base (the caller commits). Two first downloads
    at once both render; the rename makes either whole file win, never a half-written one."""
    base = base or print_base()
    if authoritative is None:
        authoritative = base is not None and base == configured_base()
    path = pdf_path(certificate)
    if path.is_file() and (base is None or not needs_new_link(certificate, base, authoritative)):
        return path
    # Outside a request with nothing configured: recorded as localhost, so the first download
    # through the site renders it again with the right link.
    base = base or base_url()
    data = render(certificate, base)
    atomic_write(path, data)
    certificate.pdf_sha256 = hashlib.sha256(data).hexdigest()
    certificate.pdf_link_base = base
    return path


def render_missing(base: str, limit: int | None = None, start: Start | None = None) -> int:
    """Pre-render every valid certificate whose PDF is not stored yet."""
    count = 0
    query = select(Certificate).where(Certificate.status == VALID).order_by(Certificate.id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    step = begin(start, "render-certificates: certificates checked", total)
    for certificate in db.session.scalars(query):
        step(1)
        if not pdf_path(certificate).is_file():
            stored_pdf(certificate, base, authoritative=True)
            count += 1
            if limit and count >= limit:
                break
    return count


def fix_links(base: str, limit: int | None = None, start: Start | None = None) -> int:
    """Render again every stored PDF whose printed link is not `base` (made before the fix,
    pointing at localhost, or at an old address): after an upgrade, or a change of address."""
    count = 0
    query = (
        select(Certificate)
        .where(or_(Certificate.pdf_link_base.is_(None), Certificate.pdf_link_base != base))
        .order_by(Certificate.id)
    )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    step = begin(start, "render-certificates: links checked", total)
    for certificate in db.session.scalars(query):
        step(1)
        if pdf_path(certificate).is_file():
            stored_pdf(certificate, base, authoritative=True)
            count += 1
            if limit and count >= limit:
                break
    return count


def sample_certificate(course: Course) -> Certificate:
    """An unsaved certificate with a sample name, for the design preview."""
    design = db.session.get(CertificateDesign, course.id)
    return Certificate(
        code="PREVIEW234",
        learner_name="เด็กหญิงกฤษณ์ปู่ น้ำทิพย์ที่สุด",
        course_title_th=course.title_th,
        course_title_en=course.title_en,
        issuers=issuers_for(course),
        issued_at=utcnow(),
        status=VALID,
        design=design_snapshot(course, design),
    )


def build_zip(certificates: list[Certificate]) -> tempfile._TemporaryFileWrapper:
    """A ZIP of the certificates' PDFs in a temporary file (rendering missing ones first),
    named <username>-<course-slug>.pdf. The caller streams and closes it."""
    handle = tempfile.NamedTemporaryFile(prefix="certificates-", suffix=".zip")  # noqa: SIM115
    used: set[str] = set()
    # PDFs are already compressed: storing them is as small and much faster.
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
        for certificate in certificates:
            path = stored_pdf(certificate)
            name = f"{certificate.user.username}-{certificate.course.slug}"
            unique, n = name, 2
            while unique in used:
                unique, n = f"{name}-{n}", n + 1
            used.add(unique)
            archive.write(path, f"{unique}.pdf")
    handle.flush()
    handle.seek(0)
    return handle


def download_name(certificate: Certificate) -> str:
    slug = certificate.course.slug if certificate.course is not None else "course"
    return f"certificate-{slug}-{certificate.code}.pdf"
