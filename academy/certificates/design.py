"""A course's certificate design: title, accent colour, signatories, logos, issuers; the
snapshot each certificate keeps of it; uploaded images checked and stored by content."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import (
    current_app,
)
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

from academy.certificates.models import (
    CertificateDesign,
)
from academy.core.errors import ServiceError
from academy.core.storage import atomic_write
from academy.courses.models import Course
from academy.extensions import db

# No 0/O, 1/I/L: a code read from paper or over the phone cannot be misread.
DEFAULT_ACCENT = "#0b5c4b"
ACCENT_RULE = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_SIGNATORIES = 3
MAX_LOGOS = 3
MAX_ISSUERS = 3
IMAGE_MAX_PIXELS = 4000 * 4000


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
        atomic_write(target, png)
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
