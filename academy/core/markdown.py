"""The only path from user-written text to HTML: Python-Markdown, then the nh3 sanitiser.

Lesson text, question text, summaries and feedback all go through `render_markdown`, so there is
one place to decide what HTML a learner's browser may receive.
"""

from __future__ import annotations

import bisect
import re
import time
from collections.abc import Callable
from typing import Any

import markdown as md
import nh3
from flask import current_app, has_app_context
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

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


# --- Limits -----------------------------------------------------------------------------------
# Python-Markdown is quadratic or worse on some inputs (100,000 nested list items took 28 s;
# 100,000 open brackets run for hours), and a Python thread cannot be stopped from outside.
# So the text is measured first, in linear time, against bounds that make those inputs
# impossible, and a deadline checked between the parser's steps stops anything we did not
# foresee. A refused text is never half-rendered: the caller gets MarkdownRefused.

MAX_CHARS = 50_000  # the longest lesson in courses/ is under 7,000 characters
MAX_NESTING = 16  # lists inside lists and quotes inside quotes, per line
# Each unclosed or long-open bracket makes the link parser scan on to its partner or the end
# of the paragraph: the sum of those scans (characters) is bounded. A text of ordinary links
# costs about its own length; 100,000 "[" cost 5,000,000,000.
SCAN_BUDGET = 500_000
# Headings and rules split their paragraph and hand the rest back to the parser, which copies
# it: (such lines) x (paragraph length) is bounded too (25,000 "# h" lines took 8 s).
SPLIT_BUDGET = 20_000_000
MAX_FOOTNOTES = 200  # each one costs more than linear time (2,500 took 2.7 s)
TIME_LIMIT = 3.0  # seconds; a lesson at MAX_CHARS renders in well under one

_PARAGRAPH_BREAK = r"\n[ \t]*\n"
_BRACKETS = re.compile(_PARAGRAPH_BREAK + r"|[\[\]]")
_PARENS = re.compile(_PARAGRAPH_BREAK + r"|[()]")
_SPLITTING_LINE = re.compile(
    r"^ {0,3}(?:#{1,6}(?:[ \t]|$)|([*_-])(?:[ \t]*\1){2,}[ \t]*$|=+[ \t]*$)", re.M
)
_FOOTNOTE = re.compile(r"^ {0,3}\[\^[^\]\n]+\]:", re.M)
_TAG_START = re.compile(r"<[A-Za-z/!?]")
_LINE_PREFIX = re.compile(r"[ \t>]*")
_FENCE = re.compile(r"^(`{3,}|~{3,})", re.M)


class MarkdownRefused(ValueError):
    """Text we will not render. `message` names the problem (and the line, when one line is
    to blame) in the reader's language; `english` is the reason alone, for logs and the
    command line, which print file and line themselves."""

    def __init__(self, reason: Any, line: int | None = None) -> None:
        self.reason = reason
        self.line = line
        super().__init__(self.english)

    @property
    def message(self) -> str:
        if self.line is None:
            return str(self.reason)
        return gettext("Line %(line)d: %(reason)s", line=self.line, reason=self.reason)

    @property
    def english(self) -> str:
        if not has_app_context() or "babel" not in current_app.extensions:
            return str(self.reason._args[0] % self.reason._kwargs)
        with force_locale("en"):
            return str(self.reason)


def _setting(name: str, default: Any) -> Any:
    return current_app.config.get(name, default) if has_app_context() else default


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _fenced(text: str) -> list[tuple[int, int]]:
    """Fenced code blocks (start, end): taken out before parsing, so their indentation is free."""
    spans, opening = [], None
    for match in _FENCE.finditer(text):
        if opening is None:
            opening = match
        elif match.group(1)[0] == opening.group(1)[0] and len(match.group(1)) >= len(
            opening.group(1)
        ):
            spans.append((opening.start(), match.end()))
            opening = None
    return spans


def _deepest_line(text: str, limit: int) -> int | None:
    fences = _fenced(text)
    # Each level takes at least one character ("\t" or ">"): only lines with a long prefix
    # can be too deep, and the regex finds those without a Python loop over every line.
    for match in re.finditer(rf"^[ \t>]{{{limit + 1},}}", text, re.M):
        if any(start <= match.start() < end for start, end in fences):
            continue
        prefix = _LINE_PREFIX.match(text, match.start()).group(0)
        levels = prefix.count(">") + len(prefix.replace(">", "").expandtabs(4)) // 4
        if levels > limit:
            return _line_of(text, match.start())
    return None


def _scan_cost(text: str, tokens: re.Pattern[str], opener: str, budget: int) -> tuple[int, int]:
    """(cost, position): the characters the parser would scan looking for the partners of
    `opener` (each open one scans on to its partner or to the end of its paragraph); stops
    counting as soon as the budget is passed."""
    cost = depth = last = 0
    for match in tokens.finditer(text):
        position = match.start()
        cost += depth * (position - last)
        last = position
        if cost > budget:
            return cost, position
        token = match.group(0)
        if token == opener:
            depth += 1
        elif len(token) == 1:
            depth = max(depth - 1, 0)
        else:
            depth = 0  # a blank line ends the paragraph, and every scan with it
    return cost + depth * (len(text) - last), len(text)


def _tag_scan_cost(text: str, budget: int) -> tuple[int, int]:
    """The raw-HTML reader scans from each `<tag` to its `>` (or the end): the sum, bounded."""
    closes = [m.start() for m in re.finditer(">", text)]
    cost = 0
    for match in _TAG_START.finditer(text):
        index = bisect.bisect_left(closes, match.start())
        end = closes[index] if index < len(closes) else len(text)
        cost += end - match.start()
        if cost > budget:
            return cost, match.start()
    return cost, len(text)


def _split_cost(text: str, budget: int) -> tuple[int, int]:
    cost = start = 0
    for paragraph in re.split(_PARAGRAPH_BREAK, text):
        lines = len(_SPLITTING_LINE.findall(paragraph))
        cost += lines * len(paragraph)
        if cost > budget:
            return cost, start
        start += len(paragraph) + 2
    return cost, len(text)


def check_markdown(text: str | None) -> None:
    """Raise MarkdownRefused when `text` is too large or built to keep the parser busy."""
    if not text:
        return
    max_chars = _setting("MARKDOWN_MAX_CHARS", MAX_CHARS)
    if len(text) > max_chars:
        raise MarkdownRefused(
            _l(
                "The text is too long: %(n)d characters (at most %(max)d).",
                n=len(text),
                max=max_chars,
            )
        )
    max_nesting = _setting("MARKDOWN_MAX_NESTING", MAX_NESTING)
    line = _deepest_line(text, max_nesting)
    if line is not None:
        raise MarkdownRefused(
            _l(
                "Nested too deeply (lists or quotes at most %(max)d levels).",
                max=max_nesting,
            ),
            line,
        )
    for tokens, opener, sign in ((_BRACKETS, "[", "["), (_PARENS, "(", "(")):
        cost, position = _scan_cost(text, tokens, opener, SCAN_BUDGET)
        if cost > SCAN_BUDGET:
            line = _line_of(text, position)
            raise MarkdownRefused(
                _l(
                    "Too many %(sign)s without a closing partner in one paragraph. Close "
                    "them, or put a blank line between paragraphs.",
                    sign=sign,
                ),
                line,
            )
    if len(_FOOTNOTE.findall(text)) > MAX_FOOTNOTES:
        raise MarkdownRefused(_l("Too many footnotes (at most %(max)d).", max=MAX_FOOTNOTES))
    cost, position = _split_cost(text, SPLIT_BUDGET)
    if cost > SPLIT_BUDGET:
        line = _line_of(text, min(position, len(text)))
        raise MarkdownRefused(
            _l(
                "Too many headings or rules in one paragraph. Put a blank line after each of them.",
            ),
            line,
        )
    cost, position = _tag_scan_cost(text, SCAN_BUDGET)
    if cost > SCAN_BUDGET:
        line = _line_of(text, position)
        raise MarkdownRefused(_l("Too many < without a closing >."), line)


class _Deadline(Exception):
    pass


def _with_deadline(converter: md.Markdown, seconds: float) -> None:
    """Check the clock before every step of the parser (each block, each inline match), so a
    slow text stops itself within one step of the deadline: a thread cannot be killed."""
    deadline = time.monotonic() + seconds

    def guard(step: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if time.monotonic() > deadline:
                raise _Deadline
            return step(*args, **kwargs)

        return guarded

    for processor in converter.preprocessors:
        processor.run = guard(processor.run)
    for processor in converter.parser.blockprocessors:
        processor.test = guard(processor.test)
        processor.run = guard(processor.run)
    for pattern in converter.inlinePatterns:
        pattern.handleMatch = guard(pattern.handleMatch)
    for processor in converter.treeprocessors:
        processor.run = guard(processor.run)


def render_markdown(
    text: str | None,
    rewrite_url: Callable[[str], str] | None = None,
    *,
    fallback: bool = False,
) -> Markup:
    """Markdown to safe HTML. `rewrite_url` maps relative asset paths (e.g. `assets/a.png`) to
    the URLs the app serves them from; it runs before sanitising, so its output is checked too.

    Text beyond the limits raises MarkdownRefused (saving, importing, previewing: the writer
    sees why). Pages that show stored text pass `fallback=True`: such text (stored before the
    limits) is then shown escaped, as plain text, instead of failing the page."""
    if not text:
        return Markup("")
    key = None
    if rewrite_url is None and len(text) <= _RENDERED_TEXT_MAX:
        key = (text, fallback, *(_setting(name, None) for name in _LIMIT_SETTINGS))
        hit = _rendered.get(key)
        if hit is not None:
            return hit
    try:
        check_markdown(text)
        converter = md.Markdown(extensions=EXTENSIONS, output_format="html")
        if rewrite_url is not None:
            rewriter = _UrlRewriter(converter, rewrite_url)
            converter.treeprocessors.register(rewriter, "academy_urls", 0)
        _with_deadline(converter, _setting("MARKDOWN_TIME_LIMIT", TIME_LIMIT))
        try:
            html = converter.convert(text)
        except (_Deadline, RecursionError):
            key = None  # a busy moment, not the text: try again next time
            raise MarkdownRefused(
                _l("This text takes too long to format. Please split it or simplify it.")
            ) from None
    except MarkdownRefused:
        if not fallback:
            raise
        result = Markup('<pre class="plain-text">%s</pre>') % escape(text)
    else:
        result = Markup(sanitize_html(html))  # noqa: S704 - sanitised by nh3 just above
    if key is not None:
        if len(_rendered) >= _RENDERED_MAX:
            _rendered.clear()
        _rendered[key] = result
    return result


# Pages render the same stored texts (a course's summary) on every view: ~1 ms each. Texts
# without a URL rewriter are kept per process by their text and the limits they were checked
# against; a text that ran out of time is not kept (the machine was busy, not the text wrong).
_rendered: dict[tuple[Any, ...], Markup] = {}
_RENDERED_MAX = 1024
_RENDERED_TEXT_MAX = 20000
_LIMIT_SETTINGS = ("MARKDOWN_MAX_CHARS", "MARKDOWN_MAX_NESTING", "MARKDOWN_TIME_LIMIT")


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
