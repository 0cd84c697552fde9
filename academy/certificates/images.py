"""The certificate as an image: the link preview (og:image) of /verify/<code> and the picture a
learner posts to a story. Rendered once from the stored PDF by poppler's pdftoppm and kept
beside it (DATA_DIR/certificates/<code>.png); a certificate no longer valid gets its own image,
stamped with its status, under another name, so a preview cached by LINE or Facebook for the
valid image is never taken for the current state."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

from flask import current_app
from flask_babel import force_locale, gettext
from PIL import Image, ImageDraw, ImageFont

from academy.certificates.models import REVOKED, VALID, Certificate
from academy.certificates.rendering import pdf_path, stored_pdf
from academy.certificates.verification import verify_url
from academy.core.storage import atomic_write

WIDTH = 1200  # what LINE and Facebook show large
_STAMP_FONTS = ("NotoSansThai-Bold.ttf", "NotoSans-Latin-Bold.ttf")


def preview_path(certificate: Certificate) -> Path:
    suffix = "" if certificate.status == VALID else f"-{certificate.status}"
    return pdf_path(certificate).with_name(f"{certificate.code}{suffix}.png")


def _pdftoppm() -> str:
    found = shutil.which("pdftoppm")
    if not found:
        raise RuntimeError("pdftoppm was not found: apt-get install poppler-utils (docs/deploy.md)")
    return found


def _from_pdf(pdf: Path, target: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "page"
        command = [_pdftoppm(), "-png", "-singlefile", "-f", "1", "-scale-to-x", str(WIDTH),
                   "-scale-to-y", "-1", str(pdf), str(out)]  # fmt: skip
        # The command is ours (an absolute tool path, fixed flags, our own file names).
        subprocess.run(command, check=True, capture_output=True, timeout=60)  # noqa: S603
        atomic_write(target, out.with_suffix(".png").read_bytes())


def _stamp(image: Image.Image, status: str) -> Image.Image:
    """A red band across the middle: the status in Thai above, in English below (each in a
    font that has its letters)."""
    label = "Revoked" if status == REVOKED else "Replaced"
    fonts = Path(current_app.static_folder or "") / "fonts"
    stamped = image.convert("RGB")
    draw = ImageDraw.Draw(stamped, "RGBA")
    band = image.height // 3
    top = (image.height - band) // 2
    draw.rectangle([0, top, image.width, top + band], fill=(176, 0, 32, 225))
    for language, font_file, row in (("th", _STAMP_FONTS[0], 1), ("en", _STAMP_FONTS[1], 3)):
        with force_locale(language):
            text = gettext(label)
        font = ImageFont.truetype(str(fonts / font_file), size=band // 3)
        position = (image.width // 2, top + band * row // 4)
        draw.text(position, text, font=font, fill="white", anchor="mm")
    return stamped


def stored_preview(certificate: Certificate) -> Path:
    """The certificate's image, made the first time it is asked for."""
    target = preview_path(certificate)
    if target.is_file():
        return target
    valid = pdf_path(certificate).with_name(f"{certificate.code}.png")
    if not valid.is_file():
        _from_pdf(stored_pdf(certificate), valid)
    if target != valid:
        with Image.open(valid) as image:
            stamped = _stamp(image, certificate.status)
        with tempfile.SpooledTemporaryFile() as buffer:
            stamped.save(buffer, "PNG", optimize=True)
            buffer.seek(0)
            atomic_write(target, buffer.read())
    return target


def share_links(certificate: Certificate) -> dict[str, str]:
    """Where the verify page points: itself, its image, and the share pages of LINE and
    Facebook (plain links: no script of theirs runs on our page)."""
    page = verify_url(certificate.code)
    return {
        "url": page,
        "image": f"{page}/image.png?v={certificate.status}",
        "line": "https://social-plugins.line.me/lineit/share?url=" + quote(page, safe=""),
        "facebook": "https://www.facebook.com/sharer/sharer.php?u=" + quote(page, safe=""),
    }
