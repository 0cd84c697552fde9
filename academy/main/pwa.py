"""The installable web app: the manifest, the service worker's app shell and the offline page.

The service worker is a template (academy/main/templates/main/sw.js) filled with the release
digest and the shell's URLs, so a deploy that changes any static file gives the worker a new
cache name and the old cache is dropped; there is no build step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app, url_for
from flask_babel import force_locale, gettext

from academy.core import __version__
from academy.core.assets import release_digest, static_url

THEME_COLOUR = "#0b5c4b"  # --brand in app.css
ICON_SIZES = (192, 512)
# What every page needs to draw: stylesheets, scripts, the page fonts (the .ttf files are for
# PDFs only) and the icons. Lesson files and pages are not part of the shell.
_SHELL_PATTERNS = ("css/*.css", "js/*.js", "fonts/*.woff2", "img/*")


def release() -> str:
    """The cache name's version: any change of a static file or of the app changes it."""
    return f"{__version__}-{release_digest(current_app.static_folder or '')}"


def shell_files() -> list[str]:
    root = Path(current_app.static_folder or "")
    names = {
        p.relative_to(root).as_posix() for pattern in _SHELL_PATTERNS for p in root.glob(pattern)
    }
    return sorted(names)


def shell_urls() -> list[str]:
    return [static_url(name) for name in shell_files()] + [url_for("main.offline")]


def shell_bytes() -> int:
    """What the shell keeps in the browser, for the docs and the report (the offline page aside)."""
    root = Path(current_app.static_folder or "")
    return sum((root / name).stat().st_size for name in shell_files())


def manifest() -> dict[str, Any]:
    # The installed app's name is Thai: the people who install it read Thai first.
    with force_locale("th"):
        name = gettext("Academy")
        description = gettext("Learning for Bangkok's sellers, students and communities.")
    return {
        "name": name,
        "short_name": name,
        "description": description,
        "lang": "th",
        "dir": "ltr",
        "start_url": url_for("main.home"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOUR,
        "icons": [
            {
                "src": static_url(f"img/icon-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "any",
            }
            for size in ICON_SIZES
        ]
        + [{"src": static_url("img/icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }


def offline_texts() -> list[dict[str, str]]:
    """The offline page says the same in Thai and in English: it is cached once for everyone."""
    texts = []
    for language in ("th", "en"):
        with force_locale(language):
            texts.append(
                {
                    "lang": language,
                    "heading": gettext("You are offline"),
                    "body": gettext(
                        "This page is not saved on this device. Pages you opened before may "
                        "still work; try again when the internet is back."
                    ),
                    "retry": gettext("Try again"),
                }
            )
    return texts
