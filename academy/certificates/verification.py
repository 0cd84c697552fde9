"""The public side: verifying a code (throttled against guessing), the verification URL, and
the Open Badges 2.0 documents (badge class, issuer, assertion)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC
from typing import Any

from flask import (
    current_app,
    has_request_context,
    request,
)

from academy.certificates.design import default_issuers
from academy.certificates.issuing import find
from academy.certificates.models import (
    REPLACED,
    REVOKED,
    VALID,
    Certificate,
    group_code,
)
from academy.core import throttle
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


def base_url() -> str:
    configured = current_app.config.get("PUBLIC_BASE_URL")
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return "http://localhost"


def verify_url(code: str) -> str:
    return f"{base_url()}/verify/{group_code(code)}"


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


def issuer_profile() -> dict[str, Any]:
    base = base_url()
    issuers = default_issuers()
    return {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Issuer",
        "id": f"{base}/certificates/issuer.json",
        "name": " / ".join(i.get("en") or i.get("th", "") for i in issuers),
        "url": f"{base}/",
    }


def assertion(certificate: Certificate) -> dict[str, Any]:
    """Open Badges 2.0 hosted Assertion. The recipient is the printed name, salted and hashed:
    a verifier who knows the holder's name can check it; nobody can read it off the JSON."""
    salt = _salt(certificate.code)
    digest = hashlib.sha256((certificate.learner_name + salt).encode()).hexdigest()
    data: dict[str, Any] = {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Assertion",
        "id": f"{base_url()}/verify/{certificate.code}.json",
        "recipient": {
            "type": "name",
            "hashed": True,
            "salt": salt,
            "identity": f"sha256${digest}",
        },
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
