"""Course files (images, attachments): what a file really is, and where its bytes live.

The type of a file is read from its content (the `filetype` library, plus a small check for SVG
and plain text), never from its name; a file whose name promises one type and whose content is
another is refused. Bytes are stored once per content under DATA_DIR/assets/<sha256>.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import filetype
from flask import current_app

from academy.core.storage import atomic_write

# Content type -> the file name extensions that may carry it.
ALLOWED: dict[str, tuple[str, ...]] = {
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "image/svg+xml": (".svg",),
    "application/pdf": (".pdf",),
    "audio/mpeg": (".mp3",),
    "audio/ogg": (".ogg", ".oga", ".opus"),
    "audio/x-wav": (".wav",),
    "audio/mp4": (".m4a",),
    "video/mp4": (".mp4", ".m4v"),
    "video/webm": (".webm",),
    "application/zip": (".zip", ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (".pptx",),
    "text/plain": (".txt", ".csv", ".md"),
}
# What the browser is told, for types filetype names differently from the usual.
SERVED_AS = {"audio/x-wav": "audio/wav", "text/plain": "text/plain; charset=utf-8"}
# Media shown inside the page; everything else downloads (Content-Disposition: attachment).
INLINE_PREFIXES = ("image/", "audio/", "video/")

_SVG_START = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*(<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]", re.S
)
_HTML_LIKE = re.compile(rb"<\s*(html|head|body|script|iframe|!doctype|meta|svg|a\s)", re.I)


class FileRefused(ValueError):
    """The file cannot be a course file; the message says why (English, for logs and CLI)."""


@dataclass(frozen=True)
class Checked:
    content_type: str
    sha256: str
    size: int

    @property
    def inline(self) -> bool:
        return self.content_type.startswith(INLINE_PREFIXES)

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


def sniff(data: bytes) -> str | None:
    """The content type from the bytes alone, or None when it is not a type we accept."""
    kind = filetype.guess(data)
    if kind is not None:
        mime = kind.mime
        if mime in ("audio/ogg", "video/ogg", "audio/opus"):
            return "audio/ogg"
        if mime == "audio/wav":
            return "audio/x-wav"
        if mime in ("audio/x-m4a", "audio/m4a"):
            return "audio/mp4"
        return mime if mime in ALLOWED else None
    if _SVG_START.match(data[:4096]):
        return "image/svg+xml"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\x00" in text or _HTML_LIKE.search(data[:65536]):
        return None
    return "text/plain"


# SVG is parsed (the XML as a browser reads it, character entities resolved) and kept to an
# allow-list of drawing elements and attributes: no script, no event handler, no foreign
# object, no link or style that leaves the file. We keep SVG rather than rasterising it
# because course images are mostly diagrams and icons that must stay sharp on any screen.
SVG_ELEMENTS = {
    "svg", "g", "defs", "symbol", "use", "title", "desc", "path", "rect", "circle", "ellipse",
    "line", "polyline", "polygon", "image", "text", "tspan", "textPath", "linearGradient",
    "radialGradient", "stop", "clipPath", "mask", "pattern", "marker", "metadata",
}  # fmt: skip
SVG_ATTRIBUTES = {
    "id", "class", "viewBox", "width", "height", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy",
    "r", "rx", "ry", "d", "points", "transform", "fill", "fill-opacity", "fill-rule", "stroke",
    "stroke-width", "stroke-opacity", "stroke-linecap", "stroke-linejoin", "stroke-dasharray",
    "stroke-dashoffset", "stroke-miterlimit", "opacity", "offset", "stop-color", "stop-opacity",
    "gradientUnits", "gradientTransform", "spreadMethod", "fx", "fy", "preserveAspectRatio",
    "font-family", "font-size", "font-weight", "font-style", "text-anchor",
    "dominant-baseline", "letter-spacing", "dx", "dy", "rotate", "clip-path", "clip-rule",
    "mask", "marker-start", "marker-mid", "marker-end", "markerWidth", "markerHeight", "refX",
    "refY", "orient", "markerUnits", "patternUnits", "patternTransform", "clipPathUnits",
    "maskUnits", "version", "href", "visibility", "display", "color", "vector-effect",
    "lang", "space", "xmlns",
}  # fmt: skip
_URL_REFERENCE = re.compile(r"url\(\s*['\"]?\s*([^)'\"\s]*)", re.I)


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def check_svg(data: bytes) -> None:
    """Raise FileRefused unless the SVG holds only allowed elements and attributes and refers
    to nothing outside itself."""
    from xml.etree import ElementTree

    if re.search(rb"<!ENTITY|<!DOCTYPE[^>]*\[", data, re.I):
        raise FileRefused("SVG contains active content (entity declarations)")
    try:
        # Entity declarations are refused above, so no expansion attack reaches the parser.
        root = ElementTree.fromstring(data)  # noqa: S314
    except ElementTree.ParseError as exc:
        raise FileRefused(f"SVG cannot be read ({exc})") from None
    for element in root.iter():
        tag = _local(str(element.tag))
        if tag not in SVG_ELEMENTS:
            raise FileRefused(f"SVG contains active content (<{tag}>)")
        for name, value in element.attrib.items():
            attribute = _local(name)
            if attribute not in SVG_ATTRIBUTES:
                raise FileRefused(f"SVG contains active content ({attribute}=)")
            target = value.strip()
            if attribute == "href" and target and not target.startswith("#"):
                if target.lower().startswith(("javascript:", "data:", "vbscript:")):
                    raise FileRefused(f"SVG contains active content ({target[:30]})")
                raise FileRefused(f"SVG refers to another file or site ({target[:60]})")
            for match in _URL_REFERENCE.finditer(value):
                if match.group(1) and not match.group(1).startswith("#"):
                    raise FileRefused(f"SVG refers to another file or site ({match.group(1)[:60]})")


def check_file(name: str, data: bytes, *, max_bytes: int | None = None) -> Checked:
    """Decide what `data` is; raise FileRefused if it is not a file a course may hold."""
    limit = max_bytes if max_bytes is not None else current_app.config["UPLOAD_MAX_BYTES"]
    if len(data) > limit:
        raise FileRefused(f"file is too large ({len(data)} bytes; the limit is {limit} bytes)")
    if not data:
        raise FileRefused("file is empty")
    content_type = sniff(data)
    if content_type is None:
        raise FileRefused("this kind of file is not accepted (images, PDF, audio, video, text)")
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in ALLOWED[content_type]:
        raise FileRefused(
            f"the name ends in {suffix or '(nothing)'!s} but the content is {content_type}"
        )
    if content_type == "image/svg+xml":
        check_svg(data)
    image_limit = current_app.config["IMAGE_MAX_BYTES"]
    if content_type.startswith("image/") and len(data) > image_limit:
        raise FileRefused(f"image is too large ({len(data)} bytes; the limit is {image_limit})")
    # application/zip with an Office name: tell the browser the Office type.
    if content_type == "application/zip" and suffix in (".docx", ".xlsx", ".pptx"):
        content_type = next(t for t, exts in ALLOWED.items() if exts == (suffix,))
    return Checked(content_type, hashlib.sha256(data).hexdigest(), len(data))


# Raster images are decoded and written again, so what is stored is pixels and nothing else: a
# PNG that is also valid HTML (or carries a script after its end) loses everything hidden.
_REENCODE = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
MAX_PIXELS = 40_000_000


def reencode_image(data: bytes, content_type: str) -> bytes:
    """The image written again by Pillow in its own format; other types come back as they are.
    Raises FileRefused when Pillow cannot read it (a file that only looks like an image)."""
    target = _REENCODE.get(content_type)
    if target is None:
        return data
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise FileRefused(f"image has too many pixels (at most {MAX_PIXELS})")
            image.load()
            out = io.BytesIO()
            options: dict = {"optimize": True} if target in ("PNG", "JPEG") else {}
            if target == "JPEG":
                image = image.convert("RGB")
                options["quality"] = 90
            if target in ("GIF", "WEBP") and getattr(image, "n_frames", 1) > 1:
                options["save_all"] = True
            image.save(out, format=target, **options)
    except FileRefused:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise FileRefused("the image cannot be read") from None
    return out.getvalue()


def served_type(content_type: str) -> str:
    return SERVED_AS.get(content_type, content_type)


def store_dir() -> Path:
    path = Path(current_app.config["DATA_DIR"]) / "assets"
    path.mkdir(parents=True, exist_ok=True)
    return path


def blob_path(sha256: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("not a sha256")
    return store_dir() / sha256


def store(data: bytes, sha256: str) -> Path:
    """Write the bytes once (atomically); the same content is stored only once."""
    target = blob_path(sha256)
    if not target.exists():
        atomic_write(target, data)
    return target


SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")


def safe_asset_path(raw: str) -> str | None:
    """`assets/<name>` (subfolders allowed) with no `..`, no absolute path, no odd character;
    None when the path is not acceptable."""
    if not raw or "\\" in raw or raw.startswith("/"):
        return None
    parts = raw.split("/")
    if len(parts) < 2 or parts[0] != "assets":
        return None
    if any(p in ("", ".", "..") or not SAFE_NAME.match(p) for p in parts[1:]):
        return None
    return raw
