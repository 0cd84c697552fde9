"""The only path from user-written text to HTML: Python-Markdown, then the nh3 sanitiser.

Lesson text, question text, summaries and feedback all go through `render_markdown`, so there is
one place to decide what HTML a learner's browser may receive.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import markdown as md
import nh3
from markupsafe import Markup

EXTENSIONS = [
    "tables",
    "fenced_code",
    "footnotes",
    "admonition",
    "sane_lists",
    "attr_list",
    "def_list",
]

ALLOWED_TAGS = {
    "a", "abbr", "audio", "b", "blockquote", "br", "caption", "code", "dd", "del", "details",
    "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "s", "small", "source", "span",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    "u", "ul", "video",
}  # fmt: skip

ALLOWED_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "loading"},
    "audio": {"src", "controls", "preload"},
    "video": {"src", "controls", "preload", "poster", "width", "height"},
    "source": {"src", "type"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start"},
}

_HAS_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")

URL_SCHEMES = {"http", "https", "mailto", "tel"}


def _no_script_urls(tag: str, attribute: str, value: str) -> str | None:
    # nh3 already drops unknown schemes; this also drops data: and protocol-relative URLs in
    # media, which could smuggle SVG with script or reach another host from a school LAN.
    if attribute in ("src", "href", "poster"):
        stripped = value.strip().lower()
        if stripped.startswith(("data:", "//", "javascript:", "vbscript:")):
            return None
    return value


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_no_script_urls,
        strip_comments=True,
    )


def render_markdown(text: str | None, rewrite_url: Callable[[str], str] | None = None) -> Markup:
    """Markdown to safe HTML. `rewrite_url` maps relative asset paths (e.g. `assets/a.png`) to
    the URLs the app serves them from; it runs before sanitising, so its output is checked too."""
    if not text:
        return Markup("")
    converter = md.Markdown(extensions=EXTENSIONS, output_format="html")
    if rewrite_url is not None:
        converter.treeprocessors.register(_UrlRewriter(converter, rewrite_url), "academy_urls", 0)
    html = converter.convert(text)
    return Markup(sanitize_html(html))  # noqa: S704 - sanitised by nh3 just above


class _UrlRewriter(md.treeprocessors.Treeprocessor):
    def __init__(self, converter: md.Markdown, rewrite: Callable[[str], str]) -> None:
        super().__init__(converter)
        self.rewrite = rewrite

    def run(self, root):
        for element in root.iter():
            for attribute in ("src", "href", "poster"):
                value = element.get(attribute)
                if value and not _HAS_SCHEME.match(value) and not value.startswith(("#", "/")):
                    element.set(attribute, self.rewrite(value))
            if element.tag == "img":
                element.set("loading", "lazy")
        return None
