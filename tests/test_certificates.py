from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading
import zipfile
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import pytest
from sqlalchemy import func, select

from academy.certificates import design, issuing, rendering, verification
from academy.certificates.models import REPLACED, REVOKED, VALID, Certificate, group_code
from academy.classes.models import Class, ClassCourse, ClassInstructor, ClassMember
from academy.core.errors import ServiceError
from academy.core.pdf import PDFError, render_pdf
from academy.extensions import db

STACKED = "เด็กหญิงกฤษณ์ปู่ น้ำทิพย์ที่สุด"


def count(model=Certificate):
    return db.session.scalar(select(func.count()).select_from(model))


# --- Issuing ---------------------------------------------------------------------------------


def test_completion_issues_one_certificate(learner, make_course, complete_course):
    course = make_course()
    first = complete_course(learner, course, score=87.5)
    again = complete_course(learner, course)
    assert first.id == again.id and count() == 1
    assert first.learner_name == learner.full_name
    assert first.course_title_th == course.title_th
    assert first.issuers == [{"th": "กรุงเทพมหานคร", "en": "Bangkok Metropolitan Administration"}]
    assert first.score == 87.5 and first.status == VALID
    assert len(first.code) == 10 and set(first.code) <= set(issuing.CODE_ALPHABET)
    assert issuing.normalize_code(first.display_code.lower()) == first.code


def test_configured_issuers(app, learner, make_course, complete_course):
    old = app.config["CERTIFICATE_ISSUERS"]
    app.config["CERTIFICATE_ISSUERS"] = [{"th": "สำนักการศึกษา", "en": "Education Office"}]
    try:
        cert = complete_course(learner, make_course())
    finally:
        app.config["CERTIFICATE_ISSUERS"] = old
    assert cert.issuers == [{"th": "สำนักการศึกษา", "en": "Education Office"}]


def test_concurrent_completion_gives_one_certificate(app, learner, make_course):
    course = make_course()
    user_id, course_id = learner.id, course.id
    barrier = threading.Barrier(2)
    errors = []

    def worker():
        try:
            from academy.auth.models import User
            from academy.courses.models import Course

            barrier.wait()
            with app.app_context(), app.test_request_context(method="POST"):
                user = db.session.get(User, user_id)
                c = db.session.get(Course, course_id)
                issuing.issue(user, c)
                db.session.commit()
                db.session.remove()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    db.session.rollback()
    assert count() == 1


def test_integrity_error_keeps_outer_transaction(learner, make_course):
    course = make_course()
    existing = Certificate(
        code="AAAAAAAAAA",
        user_id=learner.id,
        course_id=course.id,
        learner_name="x",
        course_title_th="x",
        issuers=[],
        design={},
    )
    db.session.add(existing)
    db.session.commit()
    # Simulate the race: the pre-check finds nothing (another transaction inserts first).
    original = issuing.valid_certificate
    calls = []

    def first_miss(user_id, course_id):
        calls.append(1)
        return None if len(calls) == 1 else original(user_id, course_id)

    issuing.valid_certificate = first_miss
    try:
        result = issuing.issue(learner, course)
    finally:
        issuing.valid_certificate = original
    assert result.id == existing.id
    learner.full_name = "still in the outer transaction"
    db.session.commit()
    assert count() == 1


def test_revoke_and_reissue(learner, make_course, complete_course):
    cert = complete_course(learner, make_course())
    with pytest.raises(ServiceError):
        issuing.revoke(cert, "  ")
    learner.full_name = "ชื่อที่แก้แล้ว"
    new = issuing.reissue(cert)
    db.session.commit()
    assert cert.status == REPLACED and cert.replaced_by_id == new.id
    assert new.learner_name == "ชื่อที่แก้แล้ว" and new.status == VALID
    issuing.revoke(new, "ทุจริตในการสอบ")
    db.session.commit()
    assert new.status == REVOKED and new.revoked_at is not None


def test_empty_name_uses_username(make_user, make_course, complete_course):
    user = make_user(full_name="   ")
    cert = complete_course(user, make_course())
    assert cert.learner_name == user.username


@pytest.mark.parametrize(
    "typed",
    ["k7m4-p9x2-qr", " K7M4 P9X2 QR ", "K7M4—P9X2—QR", "าึทภขยตป/ขๆพ"],
)
def test_normalize_code(typed):
    assert issuing.normalize_code(typed) == "K7M4P9X2QR"


def test_cli_issue_and_render(runner, learner, make_course):
    course = make_course()
    result = runner.invoke(args=["academy", "issue-certificate", learner.username, course.slug])
    assert result.exit_code == 0, result.output
    assert "issued" in result.output and count() == 1
    result = runner.invoke(args=["academy", "issue-certificate", learner.username, course.slug])
    assert "already issued" in result.output and count() == 1
    result = runner.invoke(args=["academy", "issue-certificate", "nobody", course.slug])
    assert result.exit_code != 0 and "nobody" in result.output
    # Outside a request only the operator knows the public address.
    result = runner.invoke(args=["academy", "render-certificates"])
    assert result.exit_code != 0 and "PUBLIC_BASE_URL" in result.output
    base = "https://academy.example.th"
    result = runner.invoke(args=["academy", "render-certificates", "--base-url", base])
    assert "rendered 1" in result.output
    cert = db.session.scalar(select(Certificate))
    assert rendering.pdf_path(cert).is_file() and cert.pdf_link_base == base


# --- Verification ----------------------------------------------------------------------------


def test_verify_states(client, learner, make_course, complete_course):
    cert = complete_course(learner, make_course())
    page = client.get(f"/verify/{cert.display_code}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert cert.learner_name in text and cert.course_title_th in text
    assert "กรุงเทพมหานคร" in text
    new = issuing.reissue(cert)
    db.session.commit()
    text = client.get(f"/verify/{cert.code.lower()}").get_data(as_text=True)
    assert new.display_code in text
    issuing.revoke(new, "ตรวจพบการคัดลอก")
    db.session.commit()
    text = client.get(f"/verify/{new.code}").get_data(as_text=True)
    assert "ตรวจพบการคัดลอก" in text


def test_verify_form(client, learner, make_course, complete_course):
    cert = complete_course(learner, make_course())
    assert client.get("/verify").status_code == 200
    response = client.post("/verify", data={"code": cert.display_code.lower().replace("-", " ")})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/verify/{cert.display_code}")
    response = client.post("/verify", data={"code": "<b>NOPE</b>"})
    assert response.status_code == 404
    assert "<b>NOPE" not in response.get_data(as_text=True)


def test_unknown_code_is_plain_404(client, learner, make_course, complete_course):
    complete_course(learner, make_course())
    response = client.get("/verify/ZZZZ-ZZZZ-ZZ")
    assert response.status_code == 404
    assert learner.full_name not in response.get_data(as_text=True)


def test_guessing_is_throttled(app, client):
    limit = app.config["CERTIFICATE_VERIFY_MAX_FAILURES"]
    for i in range(limit):
        assert client.get(f"/verify/ZZZZZZZZ{i:02d}").status_code == 404
    response = client.get("/verify/ZZZZZZZZZZ")
    assert response.status_code == 429
    assert client.post("/verify", data={"code": "ZZZZ"}).status_code == 429


def test_assertion_json(client, learner, make_course, complete_course):
    course = make_course()
    cert = complete_course(learner, course)
    for url in (f"/verify/{cert.code}.json", f"/verify/{cert.code}/badge.json"):
        data = client.get(url).get_json()
        assert data["@context"] == "https://w3id.org/openbadges/v2"
        assert data["type"] == "Assertion"
        assert data["id"].endswith(f"/verify/{cert.code}.json")
        assert data["verification"] == {"type": "hosted"}
        assert data["revoked"] is False
        assert data["recipient"]["hashed"] is True
        assert data["recipient"]["identity"].startswith("sha256$")
        assert learner.full_name not in json.dumps(data, ensure_ascii=False)
        assert data["badge"]["type"] == "BadgeClass"
        assert data["issuedOn"].endswith("Z")
    issuing.revoke(cert, "reason x")
    db.session.commit()
    data = client.get(f"/verify/{cert.code}.json").get_json()
    assert data["revoked"] is True and data["revocationReason"] == "reason x"
    badge = client.get(f"/courses/{course.slug}/badge.json").get_json()
    assert badge["type"] == "BadgeClass" and badge["name"] == course.title_en
    assert client.get("/certificates/issuer.json").get_json()["type"] == "Issuer"


# --- Access ----------------------------------------------------------------------------------


@pytest.fixture
def world(make_user, make_course, complete_course):
    owner = make_user("learner")
    other = make_user("learner")
    teacher = make_user("instructor")
    stranger = make_user("instructor")
    boss = make_user("admin")
    course = make_course()
    klass = Class(name="ม.1/1")
    db.session.add(klass)
    db.session.flush()
    db.session.add_all(
        [
            ClassMember(class_id=klass.id, user_id=owner.id),
            ClassInstructor(class_id=klass.id, user_id=teacher.id),
            ClassCourse(class_id=klass.id, course_id=course.id),
        ]
    )
    db.session.commit()
    cert = complete_course(owner, course)
    return {
        "owner": owner,
        "other": other,
        "teacher": teacher,
        "stranger": stranger,
        "admin": boss,
        "cert": cert,
        "class": klass,
        "course": course,
    }


PAGES = {
    "detail": "/certificates/{code}",
    "pdf": "/certificates/{code}.pdf",
    "zip": "/classes/{class_id}/certificates.zip",
    "admin": "/admin/certificates",
    "preview": "/courses/{slug}/certificate-preview.pdf",
}
ACCESS = [
    ("detail", None, 302),
    ("detail", "owner", 200),
    ("detail", "other", 404),
    ("detail", "teacher", 200),
    ("detail", "stranger", 404),
    ("detail", "admin", 200),
    ("pdf", None, 302),
    ("pdf", "other", 404),
    ("pdf", "owner", 200),
    ("zip", None, 302),
    ("zip", "owner", 404),
    ("zip", "stranger", 404),
    ("zip", "teacher", 200),
    ("zip", "admin", 200),
    ("admin", None, 302),
    ("admin", "owner", 403),
    ("admin", "teacher", 403),
    ("admin", "admin", 200),
    ("preview", "owner", 404),
    ("preview", "admin", 200),
]


@pytest.mark.parametrize(("page", "who", "status"), ACCESS)
def test_access(client, world, page, who, status):
    if who:
        client.login(world[who])
    url = PAGES[page].format(
        code=world["cert"].code, class_id=world["class"].id, slug=world["course"].slug
    )
    assert client.get(url).status_code == status


def test_mine_lists_own_certificates(client, world):
    client.login(world["owner"])
    text = client.get("/certificates").get_data(as_text=True)
    assert world["cert"].display_code in text
    client.login(world["other"])
    assert world["cert"].display_code not in client.get("/certificates").get_data(as_text=True)


def test_admin_revoke_and_reissue_pages(client, world):
    cert = world["cert"]
    client.login(world["admin"])
    response = client.post(f"/admin/certificates/{cert.code}/revoke", data={"reason": ""})
    assert response.status_code == 302 and cert.status == VALID
    response = client.post(f"/admin/certificates/{cert.code}/reissue")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).status == REPLACED
    client.login(world["owner"])
    assert (
        client.post(f"/admin/certificates/{cert.code}/revoke", data={"reason": "x"}).status_code
        == 403
    )
    text = client.get("/admin/certificates?q=" + world["owner"].username)
    assert text.status_code == 403


def test_class_zip(client, world, make_user, make_course, complete_course):
    second = make_user("learner")
    db.session.add(ClassMember(class_id=world["class"].id, user_id=second.id))
    db.session.commit()
    complete_course(second, world["course"])
    client.login(world["teacher"])
    response = client.get(f"/classes/{world['class'].id}/certificates.zip")
    names = sorted(zipfile.ZipFile(BytesIO(response.data)).namelist())
    slug = world["course"].slug
    assert names == sorted(f"{u.username}-{slug}.pdf" for u in (world["owner"], second))


# --- The PDF ---------------------------------------------------------------------------------


def _pdf(cert, tmp_path):
    path = tmp_path / "c.pdf"
    path.write_bytes(rendering.render(cert))
    return path


def _info(path):
    return subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize(
    "name",
    [
        STACKED,
        "กฤษณ์" * 60,
        "Somchai <script>alert(1)</script> & สมชาย 🙂",
        "x" * 300,
    ],
)
def test_pdf_one_page_fonts_and_text(app, make_user, make_course, complete_course, tmp_path, name,
                                     time_machine):  # fmt: skip
    # Issued at 00:30 on 1 January in Bangkok, still 31 December 2026 in UTC: the certificate
    # carries the Bangkok date, in the Buddhist Era.
    time_machine.move_to(datetime(2026, 12, 31, 17, 30, tzinfo=UTC), tick=False)
    user = make_user(full_name=name[:200])
    course = make_course(title_th="หลักสูตร" * 35, title_en="A very long course title " * 10)
    cert = complete_course(user, course)
    path = _pdf(cert, tmp_path)
    info = _info(path)
    assert "Pages:           1" in info
    assert "Title:" in info and "Author:          Bangkok Metropolitan Administration" in info
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(" yes " in row for row in rows)
    assert any("Cert-Serif-Thai" in row for row in rows)
    text = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True
    ).stdout
    assert cert.display_code in text
    if name == STACKED:
        # Stacked marks come back intact. (SARA AM after a tone mark, as in น้ำ, is drawn
        # right but extracts as นา: the font decomposes it into two glyphs, and the PDF's
        # ToUnicode map cannot say so; a known limit of glyph-based text extraction.)
        assert "เด็กหญิงกฤษณ์ปู่" in text and "ทิพย์ที่สุด" in text
        assert "ให้ไว้ ณ วันที่ 1 มกราคม 2570" in text


def test_the_widest_code_prints_on_one_line(make_user, make_course, complete_course, tmp_path):
    # Codes are random: one of wide letters (W, M) broke at its dash onto two lines, so the
    # printed code could not be read off or typed in one go.
    cert = complete_course(make_user(full_name="x" * 200), make_course())
    cert.code = "WWWWMMMMWW"
    db.session.flush()
    text = subprocess.run(
        ["pdftotext", "-raw", str(_pdf(cert, tmp_path)), "-"], capture_output=True, text=True
    ).stdout
    assert "WWWW-MMMM-WW\n" in text


def test_pdf_qr_decodes_to_verify_url(learner, make_course, complete_course, tmp_path):
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    cert = complete_course(learner, make_course())
    path = _pdf(cert, tmp_path)
    subprocess.run(["pdftoppm", "-png", "-r", "150", str(path), str(tmp_path / "p")], check=True)
    image = Image.open(next(tmp_path.glob("p*.png")))
    results = zxingcpp.read_barcodes(image)
    assert [r.text for r in results] == [verification.verify_url(cert.code)]


def test_stored_pdf_served_again(client, learner, make_course, complete_course):
    cert = complete_course(learner, make_course())
    client.login(learner)
    first = client.get(f"/certificates/{cert.code}.pdf")
    assert first.status_code == 200 and first.data.startswith(b"%PDF")
    path = rendering.pdf_path(cert)
    mtime = os.stat(path).st_mtime_ns
    second = client.get(f"/certificates/{cert.code}.pdf")
    assert second.data == first.data
    assert os.stat(path).st_mtime_ns == mtime
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).pdf_sha256


@pytest.mark.parametrize("url", ["http://example.com/x.png", "file:///etc/passwd"])
def test_pdf_refuses_outside_resources(tmp_path, url):
    html = f'<html><body><img src="{url}"></body></html>'
    with pytest.raises(PDFError):
        render_pdf(html, tmp_path)


# --- Design ----------------------------------------------------------------------------------


def _png(size=(40, 20)):
    from PIL import Image

    out = BytesIO()
    Image.new("RGB", size, "navy").save(out, "PNG")
    return out.getvalue()


def test_design_applies_to_new_certificates_only(make_user, make_course, complete_course, tmp_path):
    course = make_course()
    before = complete_course(make_user(), course)
    design.save_design(
        course,
        title_th="วุฒิบัตร",
        title_en="Certificate of Achievement",
        accent_color="#123ABC",
        issuers_text="สำนักงานเขต | District Office",
        signatories=[design.SignatoryInput("นางสาวสมหญิง", "ผู้อำนวยการ", _png())],
        new_logos=[_png((80, 80))],
        remove_logos=[],
    )
    db.session.commit()
    after = complete_course(make_user(), course)
    assert before.design["accent_color"] == "#0b5c4b"
    assert after.design["accent_color"] == "#123abc"
    assert after.issuers == [{"th": "สำนักงานเขต", "en": "District Office"}]
    text = subprocess.run(
        ["pdftotext", str(_pdf(after, tmp_path)), "-"], capture_output=True, text=True
    ).stdout
    assert "วุฒิบัตร" in text
    # The text layer may map SARA AA's glyph back to SARA AM (it is shared by both; see the
    # known limit in docs/certificates.md); the printed page is right, so compare modulo that.
    assert "นางสาวสมหญิง" in text.replace("\u0e33", "\u0e32")


@pytest.mark.parametrize(
    ("color", "data"), [("red", None), ("#12345", None), ("#123456", b"not an image")]
)
def test_design_bad_input(make_course, color, data):
    course = make_course()
    with pytest.raises(ServiceError):
        design.save_design(
            course,
            title_th=None,
            title_en=None,
            accent_color=color,
            issuers_text="",
            signatories=[],
            new_logos=[data] if data else [],
            remove_logos=[],
        )


def test_design_page(client, make_user, make_course):
    from academy.courses.models import CourseInstructor

    course = make_course()
    author = make_user("instructor")
    other = make_user("instructor")
    db.session.add(CourseInstructor(course_id=course.id, user_id=author.id))
    db.session.commit()
    url = f"/courses/{course.slug}/certificate-design"
    client.login(other)
    assert client.get(url).status_code == 404
    client.login(author)
    assert client.get(url).status_code == 200
    response = client.post(url, data={"accent_color": "red", "issuers": ""})
    assert response.status_code == 400
    data = {
        "accent_color": "#aa3300",
        "title_th": "วุฒิบัตร",
        "issuers": "เขตบางรัก | Bang Rak District",
        "sig0_name": "ครูสมศรี",
        "sig0_role": "ครูประจำชั้น",
        "sig0_image": (BytesIO(_png()), "sig.png"),
    }
    response = client.post(url, data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    snapshot = design.design_snapshot(course)
    assert snapshot["accent_color"] == "#aa3300"
    assert snapshot["signatories"][0]["signature"].endswith(".png")
    bad = dict(data, sig0_image=(BytesIO(b"<?php evil ?>"), "sig.png"))
    assert client.post(url, data=bad, content_type="multipart/form-data").status_code == 400


def test_pdf_is_rendered_after_the_completing_response(client, make_user, make_course):
    """Completing a course over HTTP issues the certificate in that request and renders its PDF
    once the response has gone, so the first download and a class ZIP find it stored."""
    learner, course = make_user(), make_course(modules=1, lessons=1)
    client.login(learner)
    assert client.post(f"/courses/{course.slug}/enrol").status_code == 302
    response = client.post(f"/courses/{course.slug}/lessons/m1-l1/done")
    assert response.status_code == 302
    response.close()  # the server closes the response once it is sent
    certificate = issuing.valid_certificate(learner.id, course.id)
    assert certificate is not None
    path = rendering.pdf_path(certificate)
    assert path.is_file() and path.read_bytes().startswith(b"%PDF")
    db.session.refresh(certificate)
    assert certificate.pdf_sha256 is not None


# --- Open Badges -----------------------------------------------------------------------------

OB_SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "openbadges-2.0.schema.json").read_text(encoding="utf-8")
)


def ob_validate(data: dict, kind: str) -> None:
    schema = {**OB_SCHEMA, "$ref": f"#/$defs/{kind}"}
    jsonschema.Draft202012Validator(schema).validate(data)


def test_badge_json_validates_against_open_badges_2(client, learner, make_course, complete_course):
    course = make_course()
    cert = complete_course(learner, course)
    ob_validate(client.get(f"/verify/{cert.code}.json").get_json(), "assertion")
    ob_validate(client.get(f"/courses/{course.slug}/badge.json").get_json(), "badgeClass")
    ob_validate(client.get("/certificates/issuer.json").get_json(), "profile")
    issuing.revoke(cert, "reason x")
    db.session.commit()
    ob_validate(client.get(f"/verify/{cert.code}.json").get_json(), "assertion")


def test_the_schema_refuses_what_no_backpack_accepts() -> None:
    name_hash = {"type": "name", "hashed": True, "identity": "sha256$" + "0" * 64}
    with pytest.raises(jsonschema.ValidationError):
        ob_validate(name_hash, "identityObject")
    with pytest.raises(jsonschema.ValidationError):
        ob_validate({"type": "email", "hashed": True, "identity": "a@b.example"}, "identityObject")


@pytest.mark.parametrize(
    ("typed", "kind", "identity"),
    [
        ("  Somchai@Example.CO.TH ", "email", "somchai@example.co.th"),
        ("https://somchai.example/me", "url", "https://somchai.example/me"),
    ],
)
def test_learner_claims_the_badge_with_a_hashed_identity(client, world, typed, kind, identity):
    cert = world["cert"]
    client.login(world["owner"])
    page = client.get(f"/certificates/{cert.code}").get_data(as_text=True)
    assert f"/certificates/{cert.code}/badge-recipient" in page
    response = client.post(f"/certificates/{cert.code}/badge-recipient", data={"recipient": typed})
    assert response.status_code == 302
    data = client.get(f"/verify/{cert.code}.json").get_json()
    ob_validate(data, "assertion")
    recipient = data["recipient"]
    expected = hashlib.sha256((identity + recipient["salt"]).encode()).hexdigest()
    assert recipient == {
        "type": kind,
        "hashed": True,
        "salt": recipient["salt"],
        "identity": f"sha256${expected}",
    }
    assert identity not in json.dumps(data)
    assert cert.code in client.get(f"/certificates/{cert.code}").get_data(as_text=True)
    # An empty address forgets it again.
    client.post(f"/certificates/{cert.code}/badge-recipient", data={"recipient": ""})
    db.session.refresh(cert)
    assert cert.badge_recipient is None and cert.badge_recipient_type is None


@pytest.mark.parametrize("typed", ["somchai", "ftp://x.example/", "a@b", "javascript:alert(1)"])
def test_badge_recipient_refuses_what_is_not_an_address(client, world, typed):
    cert = world["cert"]
    client.login(world["owner"])
    response = client.post(f"/certificates/{cert.code}/badge-recipient", data={"recipient": typed})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    db.session.refresh(cert)
    assert cert.badge_recipient is None


@pytest.mark.parametrize(("who", "status"), [(None, 302), ("other", 404), ("teacher", 403)])
def test_only_the_holder_sets_the_badge_recipient(client, world, who, status):
    cert = world["cert"]
    if who:
        client.login(world[who])
    url = f"/certificates/{cert.code}/badge-recipient"
    assert client.post(url, data={"recipient": "x@y.example"}).status_code == status
    db.session.refresh(cert)
    assert cert.badge_recipient is None


def test_badge_image_is_a_safe_svg(client, make_course):
    course = make_course(title_en='Bad <script>alert("x")</script> & co')
    response = client.get(f"/courses/{course.slug}/badge.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    root = ElementTree.fromstring(response.get_data())  # noqa: S314 (our own output)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    tags = {element.tag.split("}")[1] for element in root.iter()}
    assert tags <= {"svg", "title", "circle", "path"}
    for element in root.iter():
        assert not [name for name in element.attrib if name.lower().startswith("on")]
    assert root.find("{http://www.w3.org/2000/svg}title").text == course.title_en
    assert client.get("/courses/no-such-course/badge.svg").status_code == 404


# --- The printed address (issue 12: QR codes that led to http://localhost) -------------------


def printed_links(pdf: bytes, tmp_path) -> tuple[list[str], list[str]]:
    """The verify links printed in a certificate PDF, and what its QR code decodes to."""
    import re

    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    path = tmp_path / "read.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    # The link wraps in its narrow box: join the lines back.
    text = re.sub(r"\s*\n\s*", "", text)
    for old in tmp_path.glob("qr*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "150", str(path), str(tmp_path / "qr")], check=True)
    with Image.open(next(tmp_path.glob("qr*.png"))) as image:
        codes = [r.text for r in zxingcpp.read_barcodes(image)]
    # pdftotext also drops a hyphen at a line's end ("AN8J-" + "AV4S-6F"): put it back.
    links = [
        f"{site}/verify/{group_code(code.replace('-', ''))}"
        for site, code in re.findall(
            r"(https?://\S*?)/verify/([0-9A-Z]{4}-?[0-9A-Z]{4}-?[0-9A-Z]{2})", text
        )
    ]
    return links, codes


def _stored_with_localhost(learner, make_course, complete_course):
    """A certificate stored as before the fix: drawn outside any request, address unknown."""
    cert = complete_course(learner, make_course())
    rendering.stored_pdf(cert)  # no request, nothing configured: http://localhost
    cert.pdf_link_base = None  # stored before the address was recorded
    db.session.commit()
    return cert


def test_a_wrong_stored_link_is_drawn_again_on_download(
    client, learner, make_course, complete_course, tmp_path
):
    cert = _stored_with_localhost(learner, make_course, complete_course)
    expected = f"http://school.example.th/verify/{cert.display_code}"
    before = rendering.pdf_path(cert).read_bytes()
    assert printed_links(before, tmp_path) != ([expected], [expected])
    client.login(learner)
    for host in ("school.example.th", "10.0.0.5"):  # the browser reaches the server by them
        client.set_cookie("session", client.get_cookie("session").value, domain=host)
    response = client.get(f"/certificates/{cert.code}.pdf", base_url="http://school.example.th")
    assert response.status_code == 200
    assert printed_links(response.data, tmp_path) == ([expected], [expected])
    assert rendering.pdf_path(cert).read_bytes() == response.data  # stored for good
    db.session.refresh(cert)
    assert cert.pdf_link_base == "http://school.example.th"
    # Another name for the same server does not draw it again.
    again = client.get(f"/certificates/{cert.code}.pdf", base_url="http://10.0.0.5")
    assert again.data == response.data


def test_render_certificates_fix_links_after_an_upgrade(
    runner, learner, make_course, complete_course, tmp_path
):
    cert = _stored_with_localhost(learner, make_course, complete_course)
    base = "https://academy.example.th"
    result = runner.invoke(
        args=["academy", "render-certificates", "--fix-links", "--base-url", base]
    )
    assert result.exit_code == 0, result.output
    assert "rendered 1 stored certificate(s) again" in result.output
    expected = f"{base}/verify/{cert.display_code}"
    stored = rendering.pdf_path(cert).read_bytes()
    assert printed_links(stored, tmp_path) == ([expected], [expected])
    result = runner.invoke(
        args=["academy", "render-certificates", "--fix-links", "--base-url", base]
    )
    assert "rendered 0 stored certificate(s) again" in result.output


@pytest.mark.parametrize("value", ["academy.example.th", "ftp://x.example", "https://"])
def test_a_bad_public_base_url_stops_start_up(tmp_path, value):
    from academy import ConfigError, create_app
    from tests.conftest import TEST_CONFIG

    # A database of its own: start-up stops before anyone could close the app's connections.
    url = f"sqlite:///{tmp_path / 'start.db'}"
    config = dict(TEST_CONFIG, SQLALCHEMY_DATABASE_URI=url, PUBLIC_BASE_URL=value)
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        create_app(config, instance_path=str(tmp_path))


def _gunicorn_world(tmp_path, database_url: str) -> tuple[dict, str]:
    """A course of one lesson and a learner with a password, in a database of its own."""
    from academy import create_app
    from academy.auth.services import create_user
    from academy.courses.models import PUBLISHED, Course, Lesson, Module

    instance = tmp_path / "instance"
    config = {"TESTING": False, "SECRET_KEY": "gunicorn-certificates",
              "SQLALCHEMY_DATABASE_URI": database_url}  # fmt: skip
    app = create_app(config, instance_path=str(instance))
    with app.app_context():
        db.create_all()
        course = Course(slug="qr", title_th="วิชาคิวอาร์", status=PUBLISHED)
        course.modules.append(Module(key="m1", position=1, title_th="บท"))
        db.session.add(course)
        db.session.flush()
        db.session.add(Lesson(course_id=course.id, module_id=course.modules[0].id, key="m1-l1",
                              position=1, title_th="บทเรียน", body="x", body_html="<p>x</p>"))  # fmt: skip
        create_user("somchai", "สมชาย ใจดี", password="first-password-1")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    env = dict(
        os.environ,
        ACADEMY_INSTANCE_PATH=str(instance),
        ACADEMY_SECRET_KEY="gunicorn-certificates",
        DATABASE_URL=database_url,
        WEB_CONCURRENCY="1",
    )
    env.pop("ACADEMY_PUBLIC_BASE_URL", None)  # the default settings, as the issue found them
    return env, str(instance / "data" / "certificates")


def run_certificate_through_gunicorn(tmp_path, database_url: str) -> None:
    import time
    import urllib.request

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from academy import ROOT
    from academy.serve import command_for
    from tests.fixtures.servers import Browser, free_port

    env, pdfs = _gunicorn_world(tmp_path, database_url)
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log:
        # The default server, as `make run` starts it (academy/serve.py).
        server = subprocess.Popen(
            command_for("default", "127.0.0.1", port),
            cwd=ROOT, env=env, stdout=log, stderr=log,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                assert server.poll() is None, log_path.read_text()
                try:
                    with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                assert time.monotonic() < deadline, "the server did not answer in 30 s"
                time.sleep(0.1)
            browser = Browser()
            token = browser.csrf(base + "/sign-in")
            status, _page, _ = browser.open(base + "/sign-in", {"csrf_token": token,
                "username": "somchai", "password": "first-password-1"})  # fmt: skip
            assert status == 302
            token = browser.csrf(base + "/account/password")
            assert browser.open(base + "/courses/qr/enrol", {"csrf_token": token})[0] == 302
            status, _p, _l = browser.open(base + "/courses/qr/lessons/m1-l1/done",
                                          {"csrf_token": token})  # fmt: skip
            assert status == 302
            # Drawn after the response, outside the request: wait until it is stored and
            # committed (a download before that would draw it once more, rightly).
            engine = create_engine(make_url(database_url))
            deadline = time.monotonic() + 60
            while True:
                with engine.connect() as conn:
                    row = conn.execute(text("SELECT code, pdf_link_base FROM certificates")).first()
                if row is not None and row[1] is not None:
                    break
                assert time.monotonic() < deadline, "no PDF stored in 60 s"
                time.sleep(0.2)
            engine.dispose()
            code = row[0]
            stored_path = Path(pdfs) / f"{code}.pdf"
            expected = f"{base}/verify/{group_code(code)}"
            stored = stored_path.read_bytes()
            assert printed_links(stored, tmp_path) == ([expected], [expected])
            opener = browser.opener
            with opener.open(f"{base}/certificates/{code}.pdf", timeout=30) as response:
                downloaded = response.read()
            assert downloaded == stored
            with urllib.request.urlopen(f"{base}/verify/{group_code(code)}", timeout=30) as page:
                assert page.status == 200  # what a phone that scans the code reaches
        finally:
            server.terminate()
            server.wait(20)
    assert "PUBLIC_BASE_URL is not set" in log_path.read_text()


@pytest.mark.slow
def test_qr_code_and_link_lead_to_the_server_under_gunicorn_sqlite(tmp_path):
    run_certificate_through_gunicorn(tmp_path, f"sqlite:///{tmp_path / 'qr.db'}")


@pytest.mark.slow
@pytest.mark.postgres_only
def test_qr_code_and_link_lead_to_the_server_under_gunicorn_postgresql(tmp_path, worker_name):
    from tests.fixtures.databases import postgres_database

    run_certificate_through_gunicorn(tmp_path, postgres_database(f"academy_qr_{worker_name}"))
