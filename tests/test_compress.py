"""gzip of rendered text responses (academy/core/compress.py)."""

from __future__ import annotations

import gzip


def test_pages_are_gzipped_for_clients_that_ask(client, learner):
    client.login(learner)
    plain = client.get("/account/password")
    response = client.get("/account/password", headers={"Accept-Encoding": "gzip, deflate"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"] and "Cookie" in response.headers["Vary"]
    assert response.headers["Cache-Control"] == "no-store"
    body = gzip.decompress(response.data)
    assert len(response.data) < len(body) / 2
    # The same page (the CSRF token differs per render, so compare the parts around it).
    assert body.split(b"csrf_token")[0] == plain.data.split(b"csrf_token")[0]


def test_no_gzip_without_accept_encoding_or_for_small_bodies(client):
    assert "Content-Encoding" not in client.get("/").headers
    response = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers  # 32 bytes of JSON: not worth it


def test_static_files_pass_through(client):
    page = client.get("/").get_data(as_text=True)
    url = page.split('<link rel="stylesheet" href="')[1].split('"')[0]
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers  # nginx or the year-long cache handle it
    response.close()
