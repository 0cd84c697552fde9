"""Phones and sharing: the installable web app (manifest, service worker, offline page),
nothing kept after sign-out, the phone menu."""

from __future__ import annotations

import html
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


# --- Certificates shared ---------------------------------------------------------------------


def _meta(page: str, prop: str) -> str:
    found = re.search(rf'<meta property="{prop}" content="([^"]*)">', page)
    assert found, prop
    return html.unescape(found.group(1))


def test_verify_page_has_a_link_preview_with_the_certificate_image(
    client, learner, make_course, complete_course
):
    from academy.certificates import images

    cert = complete_course(learner, make_course())
    page = client.get(f"/verify/{cert.display_code}").get_data(as_text=True)
    assert learner.full_name in _meta(page, "og:title")
    assert cert.course_title_th in _meta(page, "og:title")
    assert _meta(page, "og:url") == f"http://localhost/verify/{cert.display_code}"
    image_url = _meta(page, "og:image")
    assert image_url.startswith(f"http://localhost/verify/{cert.display_code}/image.png")
    response = client.get(image_url.removeprefix("http://localhost"))
    assert response.status_code == 200 and response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    assert image.width == 1200 and image.height > 600  # an A4 landscape page
    stored = images.preview_path(cert)
    assert stored.is_file() and stored.parent == images.pdf_path(cert).parent
    # Stored once: the second request reads the file, it is not drawn again.
    before = stored.stat().st_mtime_ns
    client.get(image_url.removeprefix("http://localhost")).close()
    assert stored.stat().st_mtime_ns == before
    download = client.get(f"/verify/{cert.display_code}/image.png?download=1")
    assert "attachment" in download.headers["Content-Disposition"]
    assert (
        download.headers["Content-Disposition"].endswith('.png"')
        or ".png" in (download.headers["Content-Disposition"])
    )


def test_share_links_are_plain_links_without_third_party_script(
    client, learner, make_course, complete_course
):
    cert = complete_course(learner, make_course())
    page = client.get(f"/verify/{cert.display_code}").get_data(as_text=True)
    target = f"http%3A%2F%2Flocalhost%2Fverify%2F{cert.display_code}"
    assert f'href="https://social-plugins.line.me/lineit/share?url={target}"' in page
    assert f'href="https://www.facebook.com/sharer/sharer.php?u={target}"' in page
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts and all(src.startswith("/static/") for src in scripts)
    assert "data-copy=" in page


def test_a_revoked_certificate_preview_says_revoked(
    client, db, learner, make_course, complete_course
):
    from academy.certificates import images, issuing

    cert = complete_course(learner, make_course())
    valid_image = client.get(f"/verify/{cert.display_code}/image.png").data
    issuing.revoke(cert, "ตรวจพบการคัดลอก")
    db.session.commit()
    page = client.get(f"/verify/{cert.display_code}").get_data(as_text=True)
    assert "เพิกถอน" in _meta(page, "og:description")
    image_url = _meta(page, "og:image").removeprefix("http://localhost")
    assert "revoked" in image_url  # a new address: a card cached for the valid one is not reused
    assert "lineit/share" not in page  # nothing to share
    revoked_image = client.get(image_url).data
    assert revoked_image != valid_image
    assert images.preview_path(cert).name == f"{cert.code}-revoked.png"
    # The stamp is a red band across the middle of the picture.
    picture = Image.open(io.BytesIO(revoked_image)).convert("RGB")
    red, green, blue = picture.getpixel((picture.width // 20, picture.height // 2))
    assert red > 150 and green < 60 and blue < 80


def test_a_learner_hides_their_name_from_the_public_page(
    app, client, learner, make_user, make_course, complete_course
):
    cert = complete_course(learner, make_course())
    client.login(learner)
    assert "ไม่แสดงชื่อของฉันในหน้าสาธารณะ" in client.get("/certificates").get_data(as_text=True)
    response = client.post(f"/certificates/{cert.code}/name", data={"hidden": "1"})
    assert response.status_code == 302
    anonymous = app.test_client()
    page = anonymous.get(f"/verify/{cert.display_code}").get_data(as_text=True)
    assert learner.full_name not in page  # not in the page, the card or the title
    assert "ผู้เรียนเลือกไม่แสดงชื่อ" in page and "og:image" not in page
    assert cert.course_title_th in page  # it still verifies
    assert anonymous.get(f"/verify/{cert.display_code}/image.png").status_code == 404
    client.post(f"/certificates/{cert.code}/name", data={"hidden": "0"})
    assert learner.full_name in anonymous.get(f"/verify/{cert.display_code}").get_data(as_text=True)


def test_only_the_learner_may_hide_their_name(
    client, learner, make_user, make_course, complete_course
):
    cert = complete_course(learner, make_course())
    for other in (make_user(), make_user("admin")):
        client.login(other)
        assert (
            client.post(f"/certificates/{cert.code}/name", data={"hidden": "1"}).status_code == 404
        )
    client.logout()
    page = client.get(f"/verify/{cert.display_code}").get_data(as_text=True)
    assert learner.full_name in page


# --- "Keep this course on this phone": the manifest and the queued marks ----------------------

JSON = {"Accept": "application/json"}


def _kept_course(make_course, authoring_files: dict[str, bytes] | None = None, **options):
    """A published course whose first lesson shows the given files (name -> bytes)."""
    from academy.courses import services
    from academy.studio import services as authoring

    course = make_course(modules=1, lessons=3, **options)
    if authoring_files:
        lesson = course.modules[0].lessons[0]
        for name, data in authoring_files.items():
            authoring.add_file(course, name, data)
        links = "\n\n".join(
            f"![รูป](assets/{n})" if n.endswith((".png", ".svg")) else f"[ไฟล์](assets/{n})"
            for n in authoring_files
        )
        lesson.body = f"{lesson.body}\n\n{links}"
        known = {f"assets/{n}" for n in authoring_files}
        lesson.body_html = services.render_lesson(course.slug, lesson.body, known)
        from academy.extensions import db

        db.session.commit()
    return course


def _manifest(client, course) -> dict:
    response = client.get(f"/courses/{course.slug}/offline.json")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def test_manifest_lists_the_pages_and_files_with_their_sizes(client, make_course, make_user, enrol):
    from tests.fixtures.files import PDF, PNG, SVG

    course = _kept_course(make_course, {"tag.png": PNG, "plan.svg": SVG, "form.pdf": PDF})
    learner = make_user()
    enrol(learner, course)
    client.login(learner)
    manifest = _manifest(client, course)
    slug = course.slug
    assert [p["url"] for p in manifest["pages"]] == [f"/courses/{slug}"] + [
        f"/courses/{slug}/lessons/m1-l{n}" for n in (1, 2, 3)
    ]
    assert manifest["pages"][1]["title"] == "บทเรียน 1.1"
    files = {f["url"]: f for f in manifest["files"]}
    assert set(files) == {f"/courses/{slug}/assets/tag.png", f"/courses/{slug}/assets/plan.svg"}
    served = client.get(f"/courses/{slug}/assets/tag.png")
    assert files[f"/courses/{slug}/assets/tag.png"]["bytes"] == len(served.data)
    served.close()
    # A PDF opens in another app: it needs the network and the phone is told so.
    assert manifest["left_out"] == [
        {"url": f"/courses/{slug}/assets/form.pdf", "bytes": len(PDF), "reason": "download"}
    ]
    pages = sum(p["bytes"] for p in manifest["pages"])
    assert manifest["bytes"] == pages + sum(f["bytes"] for f in manifest["files"])
    assert manifest["fits"] is True and manifest["limit"] == 50 * 1024 * 1024
    assert _manifest(client, course)["version"] == manifest["version"]


def test_manifest_version_changes_when_the_course_changes(client, make_course, make_user, enrol):
    from academy.courses import services
    from academy.extensions import db
    from academy.studio import services as authoring
    from tests.fixtures.files import PNG

    course = _kept_course(make_course)
    learner = make_user()
    enrol(learner, course)
    client.login(learner)
    first = _manifest(client, course)["version"]
    lesson = course.modules[0].lessons[1]
    lesson.body = lesson.body + "\n\nแก้ไขแล้ว"
    lesson.body_html = services.render_lesson(course.slug, lesson.body, set())
    db.session.commit()
    second = _manifest(client, course)["version"]
    assert second != first
    # A file whose content changes under the same name changes the version too.
    authoring.add_file(course, "tag.png", PNG)
    lesson.body += "\n\n![](assets/tag.png)"
    lesson.body_html = services.render_lesson(course.slug, lesson.body, {"assets/tag.png"})
    db.session.commit()
    third = _manifest(client, course)["version"]
    assert third != second
    # In English the saved pages are English pages: another copy.
    client.post("/language", data={"language": "en"})
    assert _manifest(client, course)["version"] != third


def test_manifest_keeps_small_videos_and_refuses_a_course_over_the_limit(
    app, client, make_course, make_user, enrol
):
    from academy.courses.models import CourseAsset
    from academy.extensions import db

    course = _kept_course(make_course)
    lesson = course.modules[0].lessons[0]
    for name, size in (("small.mp4", 1000), ("big.mp4", 9 * 1024 * 1024)):
        db.session.add(
            CourseAsset(course_id=course.id, path=f"assets/{name}", content_type="video/mp4",
                        size=size, sha256="0" * 64)
        )  # fmt: skip
        lesson.body_html += f'<video src="/courses/{course.slug}/assets/{name}"></video>'
    db.session.commit()
    learner = make_user()
    enrol(learner, course)
    client.login(learner)
    manifest = _manifest(client, course)
    assert [f["url"].rsplit("/", 1)[1] for f in manifest["files"]] == ["small.mp4"]
    assert manifest["left_out"][0]["reason"] == "large_video"
    app.config["OFFLINE_COURSE_MAX_BYTES"] = 10_000
    try:
        manifest = _manifest(client, course)
    finally:
        app.config["OFFLINE_COURSE_MAX_BYTES"] = 50 * 1024 * 1024
    assert manifest["fits"] is False and manifest["bytes"] > 10_000


def test_manifest_of_a_sequential_course_holds_the_open_lessons(
    client, make_course, make_user, enrol
):
    course = _kept_course(make_course, sequential=True)
    learner = make_user()
    enrol(learner, course)
    client.login(learner)
    manifest = _manifest(client, course)
    assert [p["url"].rsplit("/", 1)[1] for p in manifest["pages"][1:]] == ["m1-l1"]
    assert manifest["locked"] == 2
    client.post(f"/courses/{course.slug}/lessons/m1-l1/done")
    after = _manifest(client, course)
    assert len(after["pages"]) == 3 and after["version"] != manifest["version"]


def test_manifest_is_for_enrolled_learners_of_open_courses(client, make_course, make_user, enrol):
    course = _kept_course(make_course)
    draft = _kept_course(make_course, published=False)
    learner = make_user()
    enrol(learner, course)
    url = f"/courses/{course.slug}/offline.json"
    # Signed out (a phone whose session ended): the sign-in page, which keep.js recognises.
    response = client.get(url, headers=JSON)
    assert response.status_code == 302 and "/sign-in" in response.location
    client.login(make_user())  # signed in, not enrolled
    response = client.get(url)
    assert response.status_code == 403
    assert response.get_json()["error"] == "ลงทะเบียนเรียนคอร์สนี้ก่อน จึงจะเก็บไว้ในโทรศัพท์ได้"
    client.login(learner)
    assert client.get(f"/courses/{draft.slug}/offline.json").status_code == 404
    assert client.get("/courses/no-such-course/offline.json").status_code == 404


def _done_rows(user) -> set[str]:
    from sqlalchemy import select

    from academy.courses.models import Lesson
    from academy.extensions import db
    from academy.progress.models import LessonProgress

    return set(
        db.session.scalars(
            select(Lesson.key)
            .join(LessonProgress, LessonProgress.lesson_id == Lesson.id)
            .where(LessonProgress.user_id == user.id, LessonProgress.done_at.is_not(None))
        )
    )


def test_a_queued_mark_is_recorded_and_answers_json(client, make_course, make_user, enrol):
    course = _kept_course(make_course)
    learner = make_user()
    enrol(learner, course)
    client.login(learner)
    for key in ("m1-l1", "m1-l2", "m1-l2"):  # sent twice (a retry): recorded once
        response = client.post(f"/courses/{course.slug}/lessons/{key}/done", headers=JSON)
        assert response.status_code == 200
        assert response.get_json() == {"done": True, "message": "บันทึกว่าเรียนจบแล้ว"}
    assert _done_rows(learner) == {"m1-l1", "m1-l2"}


def test_a_queued_mark_for_what_changed_offline_gets_a_reason(
    client, make_course, make_user, enrol
):
    from academy.courses.models import DRAFT, Lesson
    from academy.extensions import db

    course = _kept_course(make_course)
    sequential = _kept_course(make_course, sequential=True)
    learner = make_user()
    enrol(learner, course)
    enrol(learner, sequential)
    client.login(learner)
    gone = db.session.scalar(
        db.select(Lesson).where(Lesson.course_id == course.id, Lesson.key == "m1-l3")
    )
    db.session.delete(gone)
    db.session.commit()
    response = client.post(f"/courses/{course.slug}/lessons/m1-l3/done", headers=JSON)
    assert response.status_code == 404
    assert "ไม่มีบทเรียนนี้ในคอร์สแล้ว" in response.get_json()["error"]
    response = client.post(f"/courses/{sequential.slug}/lessons/m1-l3/done", headers=JSON)
    assert response.status_code == 403 and "ยังล็อกอยู่" in response.get_json()["error"]
    course.status = DRAFT
    db.session.commit()
    response = client.post(f"/courses/{course.slug}/lessons/m1-l1/done", headers=JSON)
    assert response.status_code == 404 and "ปิด" in response.get_json()["error"]
    assert _done_rows(learner) == set()
    client.logout()
    response = client.post(f"/courses/{sequential.slug}/lessons/m1-l1/done", headers=JSON)
    assert response.status_code == 302 and "/sign-in" in response.location
