"""Photos handed in from a phone: read with Pillow whatever the name says, turned upright (EXIF
orientation), scaled so the longest side is at most 1600 px and saved again as JPEG without
any metadata (no EXIF, no GPS), so a 12 MB camera photo is kept at a few hundred KB. The bytes
live under DATA_DIR/submissions/ by content and are only ever served through a checked route."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from academy.core.errors import ServiceError
from academy.core.storage import atomic_write

LONGEST_SIDE = 1600
MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # a phone photo is 3-12 MB; 25 MB leaves room
MAX_PIXELS = 60_000_000  # a 200 MP sensor is the most a phone has; more is a decompression bomb
QUALITY = 82


@dataclass
class Photo:
    data: bytes
    sha256: str
    width: int
    height: int


def process(raw: bytes, name: str = "") -> Photo:
    """A clean JPEG from an uploaded image, or a ServiceError naming the problem."""
    label = name or _("the photo")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise ServiceError(
            _(
                "%(name)s is %(mb)s MB; photos may be at most %(max)s MB.",
                name=label,
                mb=round(len(raw) / 1024 / 1024, 1),
                max=MAX_UPLOAD_BYTES // 1024 // 1024,
            ),
            "photos",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))
            if image.width * image.height > MAX_PIXELS:
                raise ServiceError(_("%(name)s has too many pixels.", name=label), "photos")
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ServiceError(
            _("%(name)s is not a photo (JPEG, PNG or WebP from a camera).", name=label),
            "photos",
        ) from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ServiceError(_("%(name)s has too many pixels.", name=label), "photos") from None
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    image.thumbnail((LONGEST_SIDE, LONGEST_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # A new image from the pixels alone: nothing of the original's metadata is carried over.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    clean.save(out, "JPEG", quality=QUALITY, optimize=True, progressive=True)
    data = out.getvalue()
    return Photo(data, hashlib.sha256(data).hexdigest(), clean.width, clean.height)


def store_dir() -> Path:
    path = Path(current_app.config["DATA_DIR"]) / "submissions"
    path.mkdir(parents=True, exist_ok=True)
    return path


def photo_path(sha256: str) -> Path:
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256")
    return store_dir() / f"{sha256}.jpg"


def store(photo: Photo) -> Path:
    """Write the bytes once (atomically: a crash never leaves half a file under the name)."""
    target = photo_path(photo.sha256)
    if target.exists():
        return target
    atomic_write(target, photo.data)
    return target
