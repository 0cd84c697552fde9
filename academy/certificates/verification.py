"""The public side: verifying a code (throttled against guessing), the verification URL, and
the Open Badges 2.0 documents (badge class, issuer, assertion)."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit

from flask import (
    current_app,
)
from flask_babel import gettext as _
from markupsafe import escape

from academy.certificates.design import (
    ACCENT_RULE,
    DEFAULT_ACCENT,
    default_issuers,
    design_snapshot,
)
from academy.certificates.issuing import find
from academy.certificates.models import (
    BADGE_EMAIL,
    BADGE_URL,
    REPLACED,
    REVOKED,
    VALID,
    Certificate,
    group_code,
)
from academy.core import throttle
from academy.core.errors import ServiceError
from academy.core.qr import configured_public_base, public_base
from academy.courses.models import Course

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
    """PUBLIC_BASE_URL, or the city's address at a joined school server (core/qr.py)."""
    return configured_public_base()


def print_base() -> str | None:
    """The address printed on certificates: PUBLIC_BASE_URL, else the one this request came
    to (the learner's browser reached the server by it); None outside a request."""
    return public_base()


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
