"""Phones and sharing: the installable web app (manifest, service worker, offline page),
nothing kept after sign-out, the phone menu."""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image

from academy.core.web import CSP


def test_manifest_names_the_app_in_thai_with_served_icons(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["name"] == "อะคาเดมี" and manifest["lang"] == "th"
    assert manifest["theme_color"] == "#0b5c4b"
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    sizes = {}
    for icon in manifest["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200, icon["src"]
        if icon["type"] == "image/png":
            sizes[icon["sizes"]] = Image.open(io.BytesIO(image.data)).size
        image.close()
    assert sizes == {"192x192": (192, 192), "512x512": (512, 512)}


def test_every_page_links_the_manifest(client):
    page = client.get("/sign-in").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert '<meta name="theme-color" content="#0b5c4b">' in page


def _worker(client) -> str:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    return response.get_data(as_text=True)


def test_service_worker_is_served_from_the_root_and_always_revalidated(client):
    response = client.get("/sw.js")
    assert "no-cache" in response.headers["Cache-Control"]
    # Strict CSP stays: the worker is a file of ours, named by worker-src, nothing inline.
    assert "worker-src 'self'" in CSP and "'unsafe-inline'" not in CSP
    assert response.headers["Content-Security-Policy"] == CSP


def test_service_worker_shell_is_served_and_named_by_the_release(app, client):
    from academy.main import pwa

    script = _worker(client)
    with app.test_request_context():
        release = pwa.release()
    assert f"const RELEASE = {json.dumps(release)};" in script
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", script).group(1))
    assert "/offline" in shell
    assert any(url.endswith("/css/app.css") for url in shell)
    assert any(url.endswith("/fonts/NotoSansThai-Regular.woff2") for url in shell)
    assert any(url.endswith("/img/icon-512.png") for url in shell)
    assert not any(url.endswith(".ttf") for url in shell)  # PDF fonts stay on the server
    for url in shell:
        response = client.get(url)
        assert response.status_code == 200, url
        response.close()


def test_a_new_release_gives_the_worker_a_new_cache(app, client, monkeypatch):
    from academy.core import assets

    before = _worker(client)
    monkeypatch.setitem(assets._release, app.static_folder, "0123456789ab")
    after = _worker(client)
    assert before != after and "0123456789ab" in after


def test_offline_page_speaks_thai_and_english_and_names_nobody(client, learner):
    client.login(learner)
    page = client.get("/offline").get_data(as_text=True)
    assert "คุณออฟไลน์อยู่" in page and "You are offline" in page
    assert '<section lang="en">' in page
    assert learner.full_name not in page and "csrf_token" not in page


def test_sign_out_clears_the_browser(client, learner):
    client.login(learner)
    response = client.post("/sign-out")
    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_private_pages_stay_no_store(client, learner):
    client.login(learner)
    assert client.get("/account/password").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/manifest.webmanifest", "/offline"])
def test_public_app_files_may_be_cached_when_signed_out(client, path):
    assert "no-store" not in client.get(path).headers.get("Cache-Control", "")


def _menu(client) -> str:
    page = client.get("/account/password").get_data(as_text=True)
    return page.split('<nav class="site-nav"', 1)[1].split("</nav>", 1)[0]


def test_a_long_menu_folds_into_a_details_button(client, make_user):
    client.login(make_user("admin"))
    menu = _menu(client)
    assert '<details class="menu-fold">' in menu and "<summary>เมนู</summary>" in menu


def test_a_short_menu_does_not_fold(client):
    page = client.get("/sign-in").get_data(as_text=True)
    assert "menu-fold" not in page


def test_admins_see_learner_items_only_when_learning(client, make_user, make_course, db):
    from academy.courses.models import Enrolment

    admin = make_user("admin")
    client.login(admin)
    assert "ประกาศนียบัตรของฉัน" not in _menu(client) and "การเรียนของฉัน" not in _menu(client)
    assert "/admin/" in _menu(client)
    db.session.add(Enrolment(user_id=admin.id, course_id=make_course().id))
    db.session.flush()
    assert "ประกาศนียบัตรของฉัน" in _menu(client)


def test_learners_still_see_their_items(client, learner):
    client.login(learner)
    assert "ประกาศนียบัตรของฉัน" in _menu(client)
