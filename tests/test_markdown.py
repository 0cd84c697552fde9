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
