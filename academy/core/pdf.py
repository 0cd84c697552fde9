"""The one way to make a PDF: WeasyPrint, the app's bundled fonts, and no network.

The URL fetcher only hands WeasyPrint files from the folders the caller allows (the template's
own folder and the bundled fonts) and data: URLs that we generated ourselves (QR codes). Anything
else, a remote URL or a file:// path outside those folders, fails the render loudly instead of
silently reaching the network from a school server.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from PIL import ImageFile

# WeasyPrint is imported by the first PDF, not with the app: it weighs ~26 MB in every server
# process, and most processes never draw a certificate (issue 15, memory). Importing it sets
# Pillow's LOAD_TRUNCATED_IMAGES for the whole process (weasyprint/images.py); it is set here,
# with the app, so uploaded images are read the same before and after a process's first PDF.
ImageFile.LOAD_TRUNCATED_IMAGES = True

FONTS_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"


class PDFError(RuntimeError):
    pass


@cache
def _local_only_fetcher() -> type:
    """The URL fetcher class: files under the allowed folders and data: URLs only."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalOnlyFetcher(URLFetcher):
        def __init__(self, allowed_dirs: list[Path]) -> None:
            super().__init__(fail_on_errors=True)
            self.allowed = [d.resolve() for d in allowed_dirs]

        def fetch(self, url: str, headers=None) -> URLFetcherResponse:
            if url.startswith("data:"):
                return super().fetch(url)
            parsed = urlparse(url)
            if parsed.scheme != "file":
                raise PDFError(f"refused to fetch {url!r}: only bundled files may be used")
            path = Path(unquote(parsed.path)).resolve()
            if not any(path.is_relative_to(d) for d in self.allowed) or not path.is_file():
                raise PDFError(f"refused to fetch {url!r}: outside the allowed folders")
            return URLFetcherResponse(url, body=path.read_bytes())

    return LocalOnlyFetcher


_font_config: Any = None


def render_pdf(
    html: str,
    base_dir: Path,
    stylesheets: list[Path] | None = None,
    extra_dirs: list[Path] | None = None,
) -> bytes:
    """Render HTML (already escaped by Jinja) to PDF bytes. Relative URLs resolve in base_dir."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import FatalURLFetchingError

    global _font_config
    # One FontConfiguration per process: building it scans fontconfig, which costs more than a
    # whole certificate page.
    if _font_config is None:
        _font_config = FontConfiguration()
    allowed = [base_dir, FONTS_DIR, *(extra_dirs or [])]
    fetcher = _local_only_fetcher()(allowed)
    document = HTML(string=html, base_url=str(base_dir) + "/", url_fetcher=fetcher)
    try:
        css = [
            CSS(filename=str(s), url_fetcher=fetcher, font_config=_font_config)
            for s in (stylesheets or [])
        ]
    except FatalURLFetchingError as exc:
        raise PDFError(str(exc.__cause__ or exc)) from exc
    try:
        return document.write_pdf(stylesheets=css, font_config=_font_config)
    except FatalURLFetchingError as exc:
        # The refusal (PDFError) is what callers handle, whichever layer WeasyPrint wraps it in.
        cause = exc.__cause__ or exc.__context__
        raise PDFError(str(cause or exc)) from exc
