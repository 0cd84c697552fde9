"""The one Markdown renderer: features render, scripts never survive."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from academy.core.markdown import render_markdown

XSS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<svg><script>alert(1)</script></svg>",
    '<svg onload="alert(1)"></svg>',
    '<iframe src="https://evil.example"></iframe>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '<object data="x.swf"></object>',
    "<p><b>unclosed <i>broken <script>alert(1)",
    '<form action="https://evil.example"><input></form>',
    "<video src=x onerror=alert(1)></video>",
    '<a href="//evil.example">protocol-relative</a>',
]


@pytest.mark.parametrize("payload", XSS)
def test_no_script_survives(payload):
    html = str(render_markdown(payload)).lower()
    for bad in ("<script", "onerror", "onload", "javascript:", "<iframe", "<object", "style=",
                "<form", "data:", "//evil"):  # fmt: skip
        assert bad not in html


def test_features_render():
    html = str(
        render_markdown(
            "| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode\n```\n\nข้อความ[^1]\n\n[^1]: เชิงอรรถ\n\n"
            '!!! tip "เคล็ดลับ"\n    ใช้แสงธรรมชาติ\n'
        )
    )
    assert "<table>" in html and "<pre><code>" in html
    assert 'class="footnote"' in html or "footnote" in html
    assert 'class="admonition tip"' in html and "เคล็ดลับ" in html


def test_external_links_are_safe_and_assets_are_rewritten():
    html = str(
        render_markdown("[site](https://example.com) ![pic](assets/a.png)", lambda p: "/f/" + p)
    )
    assert 'rel="noopener noreferrer nofollow"' in html
    assert 'src="/f/assets/a.png"' in html and 'loading="lazy"' in html


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_renders_without_script(text):
    html = str(render_markdown(text + "<script>x</script>")).lower()
    assert "<script" not in html


# --- Limits: text built to keep the parser busy is refused at once, with the reason ---------

NESTED_LIST = "".join("    " * i + "- x\n" for i in range(150))[:49_000]
BRACKETS = "[" * 99_990 + "x" + "](" * 1000
BOMBS = {
    "nested list": (NESTED_LIST, "Nested too deeply", 18),
    "nested quotes": (">" * 40_000 + " x", "Nested too deeply", 1),
    "brackets": (BRACKETS[:49_000], "Too many [", 1),
    "parentheses": ("x" + "](" * 20_000, "Too many (", 1),
    "headings": ("# h\n" * 12_000, "Too many headings", 1),
    "open tags": ("<a " * 16_000, "Too many <", 1),
    "footnotes": "".join(f"x[^{i}]\n\n[^{i}]: y\n\n" for i in range(201)),
    "too long": (BRACKETS, "too long: 101991 characters", None),
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_markdown_bombs_are_refused_with_the_reason(app, name):
    from academy.core.markdown import MarkdownRefused

    case = BOMBS[name]
    text, reason, line = case if isinstance(case, tuple) else (case, "Too many footnotes", None)
    with pytest.raises(MarkdownRefused) as refused:
        render_markdown(text)
    assert reason in refused.value.english and refused.value.line == line


def test_ordinary_markdown_near_the_limits_still_renders(app):
    text = "\n\n".join(
        [
            "".join("    " * i + f"- level {i}\n" for i in range(16)),
            ">" * 16 + " deep quote",
            " ".join(f"[link {i}](https://example.org/{i}) (note {i})" for i in range(300)),
            "# Title\n\ntext\n\n## Part\n\n---\n\n<details><summary>more</summary>x</details>",
            "```\n" + "".join(" " * 80 + "code\n" for _ in range(5)) + "```",
        ]
    )
    html = str(render_markdown(text))
    assert html.count("<ul>") == 16 and html.count('href="https://example.org/') == 300
    assert "<details>" in html and "<pre>" in html


def test_a_render_past_its_time_limit_stops_itself(app):
    from academy.core.markdown import MarkdownRefused

    app.config["MARKDOWN_TIME_LIMIT"] = 0
    try:
        with pytest.raises(MarkdownRefused) as refused:
            render_markdown("# heading\n\n*some* text")
    finally:
        del app.config["MARKDOWN_TIME_LIMIT"]
    assert "too long to format" in refused.value.english


def test_pages_show_a_refused_stored_text_as_plain_text(app):
    html = str(render_markdown("<b>" + BRACKETS[:49_000], fallback=True))
    assert html.startswith('<pre class="plain-text">&lt;b&gt;[[[') and "<b>" not in html


def test_a_kept_rendering_is_checked_again_under_other_limits(app, monkeypatch):
    # Renderings are kept per process (issue 15) by text and limits: a text shown under one
    # limit is refused, not served from the cache, once the limit is lower.
    from academy.core.markdown import MarkdownRefused

    text = "*kept* " * 20
    assert "<em>kept</em>" in str(render_markdown(text))
    assert render_markdown(text) == render_markdown(text)
    monkeypatch.setitem(app.config, "MARKDOWN_MAX_CHARS", 50)
    with pytest.raises(MarkdownRefused):
        render_markdown(text)
    assert str(render_markdown(text, fallback=True)).startswith('<pre class="plain-text">')


def test_a_render_that_ran_out_of_time_is_not_kept(app, monkeypatch):
    # A busy moment is not the text's fault: the next view formats it again.
    text = "# timed\n\n*once*"
    monkeypatch.setitem(app.config, "MARKDOWN_TIME_LIMIT", 0)
    assert str(render_markdown(text, fallback=True)).startswith('<pre class="plain-text">')
    monkeypatch.setitem(app.config, "MARKDOWN_TIME_LIMIT", 5)
    assert "<h1>timed</h1>" in str(render_markdown(text, fallback=True))
