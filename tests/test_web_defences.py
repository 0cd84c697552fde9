"""Web defences, checked on every route: CSRF on every state-changing request, security headers
on every response, session cookie flags, no inline script/handler/style in any template,
sessions ended by a password change and by an admin, a friendly 413 for oversized bodies."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from academy import ROOT, create_app
from academy.core.web import CSP, SVG_CSP
from tests.fixtures.access_table import ACCESS, QUERY
from tests.fixtures.auth import PASSWORD
from tests.fixtures.hardening import endpoint_rules, fill_url

POSTS = sorted(key for key in ACCESS if key[1] != "GET")
GETS = sorted(key for key in ACCESS if key[1] == "GET")
# The school servers' API (academy/sync) takes no cookie: it authenticates each call by the
# server's bearer secret, so a forged cross-site request carries nothing it accepts. Without the
# secret it refuses whoever is signed in in the browser (a join without a valid token: 400).
BEARER_ONLY = {
    endpoint: 400 if endpoint == "sync.api_join" else 401
    for endpoint, _method in POSTS
    if endpoint.startswith("sync.api_")
}


@pytest.mark.parametrize("role", ["anonymous", "learner", "admin"])
def test_every_post_without_a_csrf_token_is_refused(app, client, world, role):
    if role != "anonymous":
        client.login(world.user(role))
    refused = {}
    for endpoint, method in POSTS:
        url = fill_url(endpoint_rules(app)[(endpoint, method)], world)
        response = client.open(url, method=method, data={"x": "1"}, csrf=False)
        refused[endpoint] = response.status_code
    assert refused == {endpoint: BEARER_ONLY.get(endpoint, 400) for endpoint, _ in POSTS}


def test_json_answers_need_the_csrf_header_too(app, client, world):
    client.login(world.user("learner"))
    url = f"/attempts/{world.ids['attempt_id']}/responses"
    answer = {"question_id": world.ids["question_id"], "value": 0}
    response = client.post(url, json=answer, csrf=False, headers={"Accept": "application/json"})
    assert response.status_code == 400 and response.get_json()["error"] == "csrf"
    assert client.post(url, json=answer).status_code == 200


def _check_headers(response, where):
    response.close()
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    if response.mimetype == "image/svg+xml":
        # An SVG opened on its own is a sandboxed document that may run nothing at all.
        assert csp == SVG_CSP, where
    else:
        assert csp == CSP, where
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") == "same-origin", where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("X-XSS-Protection") == "0", where
    assert "Strict-Transport-Security" not in headers  # plain HTTP on the school LAN


@pytest.mark.parametrize("role", ["anonymous", "learner", "teacher", "admin"])
def test_security_headers_on_every_response(app, client, world, role):
    if role != "anonymous":
        client.login(world.user(role))
    for endpoint, method in GETS:
        url = fill_url(endpoint_rules(app)[(endpoint, method)], world) + QUERY.get(endpoint, "")
        _check_headers(client.get(url), f"{role} GET {url}")
    for url in ("/no-such-page", "/static/css/app.css", "/attempts/999999"):
        _check_headers(client.get(url), f"{role} GET {url}")
    _check_headers(client.post("/sign-out", csrf=False), f"{role} POST without token")


def _set_cookie(response, name="session"):
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "="))


def test_session_cookie_is_httponly_and_samesite_lax(client, learner):
    response = client.post("/sign-in", data={"username": learner.username, "password": PASSWORD})
    assert response.status_code == 302
    cookie = _set_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP on a school LAN unless told otherwise


def test_session_cookie_is_secure_when_configured(tmp_path, monkeypatch, database_url):
    monkeypatch.setenv("ACADEMY_SESSION_COOKIE_SECURE", "true")
    monkeypatch.setenv("ACADEMY_REMEMBER_COOKIE_SECURE", "true")
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": database_url},
        instance_path=str(tmp_path),
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.test_request_context("/", base_url="https://academy.example"):
        from flask import session

        session["x"] = 1
        response = app.make_response("ok")
        app.session_interface.save_session(app, session, response)
    cookie = _set_cookie(response)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with app.app_context():
        page = app.test_client().get("/healthz", base_url="https://academy.example")
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"


TEMPLATES = sorted(p for p in (ROOT / "academy").rglob("templates/**/*.html"))
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTR = re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE)
STYLE_TAG = re.compile(r"<style[\s>]", re.IGNORECASE)


def test_templates_exist():
    assert len(TEMPLATES) > 20


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_inline_script_handler_or_style_in_templates(path: Path):
    text = path.read_text()
    for pattern, what in (
        (INLINE_SCRIPT, "<script> without src"),
        (HANDLER, "on*= handler attribute"),
        (STYLE_ATTR, "style= attribute"),
        (STYLE_TAG, "<style> element"),
    ):
        match = pattern.search(text)
        assert match is None, f"{what} in {path.name}: {match and match.group(0)}"


def test_password_change_ends_every_other_session(app, client, learner):
    other_pc = app.test_client()
    other_pc.post("/sign-in", data={"username": learner.username, "password": PASSWORD})
    assert other_pc.get("/account/password").status_code == 200
    client.post("/sign-in", data={"username": learner.username, "password": PASSWORD})
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": "new-pass-99", "confirm": "new-pass-99"},
    )
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:400]
    gone = other_pc.get("/account/password")
    assert gone.status_code == 302 and "/sign-in" in gone.headers["Location"]


def test_admin_signs_a_person_out_everywhere(app, client, admin, learner):
    pcs = [app.test_client() for _ in range(2)]
    for pc in pcs:
        pc.post("/sign-in", data={"username": learner.username, "password": PASSWORD})
        assert pc.get("/account/password").status_code == 200
    client.login(admin)
    assert client.post(f"/people/{learner.id}/sign-out-everywhere").status_code == 302
    for pc in pcs:
        gone = pc.get("/account/password")
        assert gone.status_code == 302 and "/sign-in" in gone.headers["Location"]


@pytest.mark.parametrize("language", ["th", "en"])
def test_oversized_request_gets_a_friendly_413(app, client, world, language):
    client.login(world.user("teacher"))
    client.post("/language", data={"language": language})
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    try:
        response = client.post(
            f"/classes/{world.ids['class_id']}/import",
            data={"file": (__import__("io").BytesIO(b"a" * 20_000), "big.csv")},
            content_type="multipart/form-data",
        )
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert response.mimetype == "text/html" and "Traceback" not in page
    assert ("ใหญ่" in page) if language == "th" else ("large" in page.lower())


@pytest.mark.parametrize(
    "url",
    [
        "/classes/99999999999999999999999",
        "/quizzes/9223372036854775808",
        "/attempts/99999999999999999999999/result",
        "/classes?school=99999999999999999999999",
        "/reports/?course=99999999999999999999999",
    ],
)
def test_ids_beyond_64_bits_are_not_found(client, admin, url):
    client.login(admin)
    assert client.get(url).status_code == 404


def test_form_ids_beyond_64_bits_are_not_found(client, world):
    client.login(world.user("admin"))
    url = f"/classes/{world.ids['class_id']}/courses"
    assert client.post(url, data={"course": "99999999999999999999999"}).status_code == 404


def test_nul_in_any_input_is_refused_before_anything_is_written(client, db, admin):
    from sqlalchemy import func, select

    from academy.auth.models import User

    client.login(admin)
    before = db.session.scalar(select(func.count(User.id)))
    response = client.post(
        "/people/new", data={"full_name": "bad\x00name", "username": "nul-user", "role": "learner"}
    )
    assert response.status_code == 400
    assert client.get("/people?q=a\x00b").status_code == 400
    response = client.post("/language", json={"language": "th\u0000"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(User.id))) == before


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ('{"question_id": 1, "value": ' + "[" * 100_000 + "]" * 100_000 + "}", "deep"),
        ('{"question_id": 1, "value": ' + "{" * 100_000 + "}", "deep"),
        ('{"question_id": 1, "value": "' + "a" * 300_000 + '"}', "large"),
    ],
)
def test_deep_or_huge_json_is_a_clear_400(app, client, world, body, word):
    client.login(world.user("learner"))
    client.post("/language", data={"language": "en"})
    response = client.post(
        f"/attempts/{world.ids['attempt_id']}/responses",
        data=body,
        content_type="application/json",
        csrf=False,
        headers={"Accept": "application/json", "X-CSRFToken": client.csrf_token()},
    )
    assert response.status_code == 400
    assert word in response.get_json()["error"]


def test_json_nesting_check_counts_levels_and_ignores_strings():
    from academy.core.web import json_nesting_ok

    assert json_nesting_ok('{"a": [[1, {"b": "[[[[[[[["}]]}', 4)
    assert not json_nesting_ok('{"a": [[1, {"b": "x"}]]}', 3)
    assert json_nesting_ok('"just a string with ] and \\" quote"', 1)
    assert not json_nesting_ok("[[]", 5)


def test_a_cross_site_post_never_replaces_the_session_cookie(app, client, world):
    """A link in a chat posts a form to us from another site: the browser leaves the learner's
    session cookie out (SameSite=Lax), we refuse the request (no CSRF token), and the error
    page must set no cookie, or the browser would swap the learner's session for it."""
    victim = world.user("learner")
    client.login(victim)
    stranger_site = app.test_client()  # what the browser sends cross-site: no cookie at all
    set_cookies = {}
    for endpoint, method in POSTS:
        url = fill_url(endpoint_rules(app)[(endpoint, method)], world)
        response = stranger_site.open(url, method=method, data={"x": "1"}, csrf=False)
        assert response.status_code == BEARER_ONLY.get(endpoint, 400), url
        set_cookies[url] = response.headers.getlist("Set-Cookie")
    for url, method in (("/no-such-page", "GET"), ("/no-such-page", "POST"),
                        ("/sign-out", "GET")):  # fmt: skip
        response = stranger_site.open(url, method=method, csrf=False)
        assert response.status_code >= 400
        set_cookies[f"{method} {url}"] = response.headers.getlist("Set-Cookie")
    assert {url: c for url, c in set_cookies.items() if c} == {}
    assert stranger_site.get_cookie("session") is None
    assert client.get("/account/password").status_code == 200  # still signed in
    # A page that works still starts a session (the sign-in form needs its CSRF token).
    assert _set_cookie(app.test_client().get("/sign-in"))
