"""Certificates: issue once on completion, revoke, re-issue, design, render and store the PDF.

Rendering is lazy: a certificate row is created inside the completion transaction (cheap: one
INSERT), and its PDF is rendered on first download (or ahead of time by `render-certificates`),
then stored as DATA_DIR/certificates/<code>.pdf and served from there ever after. A learner's
last click in a course therefore never waits for WeasyPrint.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import ipaddress
import os
import re
import secrets
import tempfile
import zipfile
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import qrcode
import qrcode.image.svg
from flask import (
    Flask,
    Response,
    current_app,
    g,
    has_app_context,
    has_request_context,
    request,
)
from flask_babel import gettext as _
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import escape
from PIL import Image, UnidentifiedImageError
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from academy.auth.models import User
from academy.certificates.models import (
    BADGE_EMAIL,
    BADGE_URL,
    REPLACED,
    REVOKED,
    VALID,
    Certificate,
    CertificateDesign,
    group_code,
)
from academy.classes.models import ClassCourse, ClassMember
from academy.core import throttle
from academy.core.db import utcnow
from academy.core.errors import ServiceError
from academy.core.i18n import format_date
from academy.core.pdf import render_pdf
from academy.courses.models import Course
from academy.extensions import db

PDF_DIR = Path(__file__).resolve().parent / "pdf"
# No 0/O, 1/I/L: a code read from paper or over the phone cannot be misread.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10  # 31^10 ~ 8e14: unguessable, and guessing is throttled on top
DEFAULT_ACCENT = "#0b5c4b"
ACCENT_RULE = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_SIGNATORIES = 3
MAX_LOGOS = 3
MAX_ISSUERS = 3
IMAGE_MAX_PIXELS = 4000 * 4000
REASON_MAX = 500


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


# Thai Kedmanee keyboard: the character each key types when the layout was left on Thai,
# mapped back to the Latin key (unshifted and shifted), so "K7M4..." typed in Thai still works.
_KEDMANEE = {
    "ๅ": "1", "/": "2", "-": "3", "ภ": "4", "ถ": "5", "ุ": "6", "ึ": "7", "ค": "8", "ต": "9",
    "จ": "0", "ๆ": "Q", "ไ": "W", "ำ": "E", "พ": "R", "ะ": "T", "ั": "Y", "ี": "U", "ร": "I",
    "น": "O", "ย": "P", "ฟ": "A", "ห": "S", "ก": "D", "ด": "F", "เ": "G", "้": "H", "่": "J",
    "า": "K", "ส": "L", "ผ": "Z", "ป": "X", "แ": "C", "อ": "V", "ิ": "B", "ื": "N", "ท": "M",
    "๐": "Q", "ฎ": "E", "ฑ": "R", "ธ": "T", "ํ": "Y", "๊": "U", "ณ": "I", "ฯ": "O", "ญ": "P",
    "ฤ": "A", "ฆ": "S", "ฏ": "D", "โ": "F", "ฌ": "G", "็": "H", "๋": "J", "ษ": "K", "ศ": "L",
    "ฉ": "X", "ฮ": "C", "ฺ": "V", "์": "B", "ฒ": "M", "๑": "2", "๒": "3", "๓": "4", "๔": "5",
    "ู": "6", "฿": "7", "๕": "8", "๖": "9", "๗": "0",
}  # fmt: skip
_THAI = re.compile(r"[\u0e00-\u0e7f]")


def normalize_code(raw: str) -> str:
    """What a person typed -> the stored code: any case, spaces, dashes, a Thai layout slip."""
    text = (raw or "").strip()[:64]
    if _THAI.search(text):
        # On the Thai layout the dash key types "ข" and the "3" key types "-".
        text = "".join(_KEDMANEE.get(ch, "" if ch in "ข " else ch) for ch in text)
    else:
        text = re.sub(r"[\s\-–—_.]", "", text)
    return text.upper()


def default_issuers() -> list[dict[str, str]]:
    return [dict(i) for i in current_app.config["CERTIFICATE_ISSUERS"]]


def design_snapshot(course: Course, design: CertificateDesign | None = None) -> dict[str, Any]:
    if design is None:
        design = db.session.get(CertificateDesign, course.id)
    if design is None:
        return {
            "title_th": None,
            "title_en": None,
            "accent_color": DEFAULT_ACCENT,
            "signatories": [],
            "logos": [],
        }
    return {
        "title_th": design.title_th,
        "title_en": design.title_en,
        "accent_color": design.accent_color or DEFAULT_ACCENT,
        "signatories": [dict(s) for s in design.signatories or []],
        "logos": list(design.logos or []),
    }


def issuers_for(course: Course) -> list[dict[str, str]]:
    design = db.session.get(CertificateDesign, course.id)
    if design is not None and design.issuers:
        return [dict(i) for i in design.issuers]
    return default_issuers()


def valid_certificate(user_id: int, course_id: int) -> Certificate | None:
    return db.session.scalar(
        select(Certificate).where(
            Certificate.user_id == user_id,
            Certificate.course_id == course_id,
            Certificate.status == VALID,
        )
    )


def issue(user: User, course: Course, score: float | None = None) -> Certificate:
    """The learner's valid certificate for the course, created if there is none yet.

    Runs inside the caller's transaction and never commits. Two requests completing at once:
    the partial unique index refuses the second INSERT; it is undone in its own SAVEPOINT, so
    the caller's transaction carries on, and the first certificate is returned."""
    existing = valid_certificate(user.id, course.id)
    if existing is not None:
        return existing
    name = (user.full_name or "").strip() or user.username
    certificate = Certificate(
        code=new_code(),
        user_id=user.id,
        course_id=course.id,
        learner_name=name[:300],
        course_title_th=course.title_th,
        course_title_en=course.title_en,
        issuers=issuers_for(course),
        score=score,
        issued_at=utcnow(),
        status=VALID,
        design=design_snapshot(course),
    )
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
    except IntegrityError:
        existing = valid_certificate(user.id, course.id)
        if existing is None:  # a (vanishingly rare) code collision: try once more
            return issue(user, course, score)
        return existing
    return certificate


def on_course_completed(user: User, course: Course, score: float | None = None, **_: Any) -> None:
    certificate = issue(user, course, score)
    if has_request_context():
        # Rendered once the response has gone (see render_after_response), so the learner's
        # click is not slowed and the first download, and a class ZIP, find the PDF stored.
        g.setdefault("certificates_to_render", []).append(certificate.code)


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


def find(code: str) -> Certificate | None:
    code = normalize_code(code)
    if not code or len(code) > 32:
        return None
    return db.session.scalar(
        select(Certificate)
        .options(joinedload(Certificate.course), joinedload(Certificate.replaced_by))
        .where(Certificate.code == code)
    )


def revoke(certificate: Certificate, reason: str) -> Certificate:
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Please give the reason for revoking."), "reason")
    if len(reason) > REASON_MAX:
        raise ServiceError(_("At most %(max)d characters, please.", max=REASON_MAX), "reason")
    if certificate.status != VALID:
        raise ServiceError(_("Only a valid certificate can be revoked."))
    certificate.status = REVOKED
    certificate.revoked_at = utcnow()
    certificate.revoked_reason = reason
    return certificate


def reissue(certificate: Certificate) -> Certificate:
    """A new certificate with the learner's current name (after a correction); the old one
    becomes `replaced` and points to it. Same course titles, score, issuers and design."""
    if certificate.status != VALID:
        raise ServiceError(_("Only a valid certificate can be re-issued."))
    user = db.session.get(User, certificate.user_id)
    certificate.status = REPLACED
    certificate.revoked_at = utcnow()
    db.session.flush()  # free the one-valid slot before the new row takes it
    name = (user.full_name or "").strip() or user.username
    new = Certificate(
        code=new_code(),
        user_id=certificate.user_id,
        course_id=certificate.course_id,
        learner_name=name[:300],
        course_title_th=certificate.course_title_th,
        course_title_en=certificate.course_title_en,
        issuers=certificate.issuers,
        score=certificate.score,
        issued_at=utcnow(),
        status=VALID,
        design=certificate.design,
        badge_recipient_type=certificate.badge_recipient_type,
        badge_recipient=certificate.badge_recipient,
    )
    db.session.add(new)
    db.session.flush()
    certificate.replaced_by_id = new.id
    return new


def issue_manually(username: str, slug: str) -> tuple[Certificate, bool]:
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise ServiceError(_("No account with the username %(name)s.", name=username))
    course = db.session.scalar(select(Course).where(Course.slug == slug.strip()))
    if course is None:
        raise ServiceError(_("No course with the address %(slug)s.", slug=slug))
    before = valid_certificate(user.id, course.id)
    certificate = issue(user, course)
    return certificate, before is None


# --- Lists -----------------------------------------------------------------------------------


def for_learner(user: User) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .options(joinedload(Certificate.course))
            .where(Certificate.user_id == user.id)
            .order_by(Certificate.issued_at.desc())
        )
    )


def search_query(term: str):
    query = (
        select(Certificate)
        .join(User, User.id == Certificate.user_id)
        .options(joinedload(Certificate.course), joinedload(Certificate.user))
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    )
    term = (term or "").strip()
    if term:
        like = f"%{term}%"
        query = query.where(
            or_(
                Certificate.code == normalize_code(term),
                Certificate.learner_name.ilike(like),
                User.username.ilike(like),
                Certificate.course_title_th.ilike(like),
                Certificate.course_title_en.ilike(like),
            )
        )
    return query


def for_class(class_id: int) -> list[Certificate]:
    """Valid certificates of the class's learners in the class's courses."""
    return list(
        db.session.scalars(
            select(Certificate)
            .join(
                ClassMember,
                (ClassMember.user_id == Certificate.user_id) & (ClassMember.class_id == class_id),
            )
            .join(
                ClassCourse,
                (ClassCourse.course_id == Certificate.course_id)
                & (ClassCourse.class_id == class_id),
            )
            .options(joinedload(Certificate.course), joinedload(Certificate.user))
            .where(Certificate.status == VALID)
            .order_by(Certificate.course_id, Certificate.learner_name)
        )
    )


# --- Verification ----------------------------------------------------------------------------


def _verify_key(address: str) -> str:
    return f"certificate-verify:{address}"


def verify_blocked(address: str) -> int:
    cfg = current_app.config
    return throttle.seconds_blocked(
        _verify_key(address),
        cfg["CERTIFICATE_VERIFY_MAX_FAILURES"],
        cfg["CERTIFICATE_VERIFY_WINDOW_SECONDS"],
    )


def lookup_for_verification(code: str, address: str) -> Certificate | None:
    """The certificate, or None (and one more failure counted against the address)."""
    certificate = find(code)
    if certificate is None:
        throttle.record_failure(_verify_key(address))
    return certificate


def configured_base() -> str | None:
    return (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/") or None


def print_base() -> str | None:
    """The address printed on certificates: PUBLIC_BASE_URL, else the one this request came
    to (the learner's browser reached the server by it); None outside a request."""
    if configured := configured_base():
        return configured
    if has_request_context():
        return request.host_url.rstrip("/")
    return None


def check_base_url(base: str) -> str | None:
    """What is wrong with a PUBLIC_BASE_URL value, or None."""
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        return f"PUBLIC_BASE_URL must look like https://academy.example.th, not {base!r}"
    return None


def base_url() -> str:
    return print_base() or "http://localhost"


def verify_url(code: str, base: str | None = None) -> str:
    return f"{base or base_url()}/verify/{group_code(code)}"


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


def assertion_url(code: str) -> str:
    """Where the hosted Open Badges assertion lives: what a backpack is given."""
    return f"{base_url()}/verify/{code}.json"


def _salt(code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"badge-salt:{code}".encode(), hashlib.sha256).hexdigest()[:16]


def badge_class(course: Course) -> dict[str, Any]:
    base = base_url()
    slug = course.slug
    return {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "BadgeClass",
        "id": f"{base}/courses/{slug}/badge.json",
        "name": course.title_en or course.title_th,
        "description": course.summary_en or course.summary_th or course.title_th,
        "image": f"{base}/courses/{slug}/badge.svg",
        "criteria": {"narrative": f"Completed the course {course.title_th}"},
        "issuer": f"{base}/certificates/issuer.json",
    }


def badge_svg(course: Course) -> str:
    """The BadgeClass image: a rosette with a tick in the course's certificate colour.

    Built here from fixed shapes; the only text is the escaped course title in <title>, so
    nothing a user typed can become markup.
    """
    accent = design_snapshot(course)["accent_color"]
    if not ACCENT_RULE.fullmatch(accent):
        accent = DEFAULT_ACCENT
    title = escape(course.title_en or course.title_th)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" '
        'viewBox="0 0 256 256" role="img" aria-labelledby="badge-title">'
        f'<title id="badge-title">{title}</title>'
        f'<circle cx="128" cy="128" r="124" fill="{accent}"/>'
        '<circle cx="128" cy="128" r="100" fill="none" stroke="#ffffff" stroke-width="8"/>'
        '<path d="M82 132 L114 164 L176 96" fill="none" stroke="#ffffff" stroke-width="20" '
        'stroke-linecap="round" stroke-linejoin="round"/></svg>\n'
    )


def issuer_profile() -> dict[str, Any]:
    base = base_url()
    issuers = default_issuers()
    return {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Issuer",
        "id": f"{base}/certificates/issuer.json",
        "name": " / ".join(i.get("en") or i.get("th", "") for i in issuers),
        "url": f"{base}/",
        **({"email": email} if (email := current_app.config.get("BADGE_ISSUER_EMAIL")) else {}),
    }


_EMAIL_RE = re.compile(r"[^@\s]{1,64}@[^@\s.]+(?:\.[^@\s.]+)+")


def set_badge_recipient(certificate: Certificate, raw: str) -> None:
    """Record the e-mail or web address the learner claims the badge with ("" forgets it)."""
    value = raw.strip()
    if not value:
        certificate.badge_recipient_type = certificate.badge_recipient = None
        return
    if len(value) > 320:
        raise ServiceError(_("The address is too long (at most 320 characters)."), "recipient")
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.hostname and " " not in value:
        kind = BADGE_URL
    elif _EMAIL_RE.fullmatch(value):
        # Backpacks compare e-mail addresses without regard to case; so must the hash.
        kind, value = BADGE_EMAIL, value.lower()
    else:
        raise ServiceError(
            _(
                "Write an e-mail address (name@example.com) or a web address that starts "
                "with https://."
            ),
            "recipient",
        )
    certificate.badge_recipient_type, certificate.badge_recipient = kind, value


def recipient(certificate: Certificate) -> dict[str, Any]:
    """The Assertion's IdentityObject: sha256$ + hex(sha256(identity + salt)), as Open Badges
    2.0 says. Until the learner claims the badge, the identity is the certificate's own
    verification address, which keeps the assertion valid but belongs to no backpack."""
    salt = _salt(certificate.code)
    kind = certificate.badge_recipient_type or BADGE_URL
    identity = certificate.badge_recipient or verify_url(certificate.code)
    digest = hashlib.sha256((identity + salt).encode()).hexdigest()
    return {"type": kind, "hashed": True, "salt": salt, "identity": f"sha256${digest}"}


def assertion(certificate: Certificate) -> dict[str, Any]:
    """Open Badges 2.0 hosted Assertion (tests/openbadges-2.0.schema.json checks its shape)."""
    data: dict[str, Any] = {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Assertion",
        "id": assertion_url(certificate.code),
        "recipient": recipient(certificate),
        "badge": badge_class(certificate.course),
        "verification": {"type": "hosted"},
        "issuedOn": certificate.issued_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "evidence": verify_url(certificate.code),
        "revoked": certificate.status != VALID,
    }
    if certificate.status == REVOKED:
        data["revocationReason"] = certificate.revoked_reason
    elif certificate.status == REPLACED:
        data["revocationReason"] = "replaced by a corrected certificate"
    return data


# --- Design ----------------------------------------------------------------------------------


def assets_dir() -> Path:
    path = Path(current_app.config["DATA_DIR"]) / "certificate-assets"
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_image(data: bytes) -> str:
    """Check an uploaded image with Pillow and store it re-encoded as PNG (nothing hidden
    survives) under a name made from its content. Returns the stored file name."""
    if not data:
        raise ServiceError(_("The file is empty."))
    if len(data) > current_app.config["IMAGE_MAX_BYTES"]:
        raise ServiceError(
            _(
                "The image is too large (at most %(mb)d MB).",
                mb=current_app.config["IMAGE_MAX_BYTES"] // (1024 * 1024),
            )
        )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.width * probe.height > IMAGE_MAX_PIXELS:
                raise ServiceError(_("The image has too many pixels (at most 4000 × 4000)."))
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image = image.convert("RGBA")
            image.thumbnail((1200, 1200))
            out = io.BytesIO()
            image.save(out, format="PNG", optimize=True)
    except ServiceError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ServiceError(_("This file is not an image we can read (use PNG or JPEG).")) from None
    png = out.getvalue()
    name = hashlib.sha256(png).hexdigest()[:32] + ".png"
    target = assets_dir() / name
    if not target.exists():
        _atomic_write(target, png)
    return name


def _issuer_lines(text: str) -> list[dict[str, str]]:
    issuers = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        th, _sep, en = line.partition("|")
        if not th.strip():
            raise ServiceError(_("Each issuer line starts with the Thai name."), "issuers")
        issuers.append({"th": th.strip()[:200], "en": en.strip()[:200]})
    if len(issuers) > MAX_ISSUERS:
        raise ServiceError(_("At most %(n)d issuers, please.", n=MAX_ISSUERS), "issuers")
    return issuers


@dataclass
class SignatoryInput:
    name: str
    role: str
    signature: bytes | None = None
    remove_signature: bool = False


def save_design(
    course: Course,
    *,
    title_th: str | None,
    title_en: str | None,
    accent_color: str,
    issuers_text: str,
    signatories: list[SignatoryInput],
    new_logos: list[bytes],
    remove_logos: list[str],
) -> CertificateDesign:
    accent = (accent_color or "").strip()
    if not ACCENT_RULE.match(accent):
        raise ServiceError(_("A colour like #0b5c4b, please."), "accent_color")
    design = db.session.get(CertificateDesign, course.id)
    if design is None:
        design = CertificateDesign(course_id=course.id, signatories=[], logos=[], issuers=[])
        db.session.add(design)
    old_signatories = list(design.signatories or [])
    new_signatories = []
    for index, entry in enumerate(signatories[:MAX_SIGNATORIES]):
        name, role = entry.name.strip()[:120], entry.role.strip()[:160]
        old = old_signatories[index] if index < len(old_signatories) else {}
        signature = None if entry.remove_signature else old.get("signature")
        if entry.signature:
            signature = store_image(entry.signature)
        if not name and not role:
            continue
        if not name:
            raise ServiceError(_("Each signatory needs a name."), f"sig{index}_name")
        new_signatories.append({"name": name, "role": role, "signature": signature})
    logos = [name for name in design.logos or [] if name not in remove_logos]
    for data in new_logos:
        logos.append(store_image(data))
    if len(logos) > MAX_LOGOS:
        raise ServiceError(_("At most %(n)d logos, please.", n=MAX_LOGOS), "logos")
    design.title_th = (title_th or "").strip()[:200] or None
    design.title_en = (title_en or "").strip()[:200] or None
    design.accent_color = accent.lower()
    design.issuers = _issuer_lines(issuers_text)
    design.signatories = new_signatories
    design.logos = logos
    return design


def issuers_text(design: CertificateDesign | None) -> str:
    issuers = design.issuers if design is not None and design.issuers else default_issuers()
    return "\n".join(f"{i.get('th', '')} | {i.get('en', '')}".rstrip(" |") for i in issuers)


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


def qr_data_url(url: str) -> str:
    image = qrcode.make(
        url,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=0,
    )
    svg = image.to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


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


def _atomic_write(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    _atomic_write(path, data)
    certificate.pdf_sha256 = hashlib.sha256(data).hexdigest()
    certificate.pdf_link_base = base
    return path


def render_missing(base: str, limit: int | None = None) -> int:
    """Pre-render every valid certificate whose PDF is not stored yet."""
    count = 0
    query = select(Certificate).where(Certificate.status == VALID).order_by(Certificate.id)
    for certificate in db.session.scalars(query):
        if not pdf_path(certificate).is_file():
            stored_pdf(certificate, base, authoritative=True)
            count += 1
            if limit and count >= limit:
                break
    return count


def fix_links(base: str, limit: int | None = None) -> int:
    """Render again every stored PDF whose printed link is not `base` (made before the fix,
    pointing at localhost, or at an old address): after an upgrade, or a change of address."""
    count = 0
    query = (
        select(Certificate)
        .where(or_(Certificate.pdf_link_base.is_(None), Certificate.pdf_link_base != base))
        .order_by(Certificate.id)
    )
    for certificate in db.session.scalars(query):
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
