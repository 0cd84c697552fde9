"""The studio's course ZIP at 360 px: an instructor checks a ZIP, sees every problem of a
hostile one, uploads a good one and downloads it again."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from playwright.sync_api import expect

from academy import ROOT
from tests.browser.conftest import PHONE, assert_accessible, sign_in
from tests.fixtures.auth import PASSWORD

SHOTS = Path(os.environ.get("ACADEMY_SHOTS", "/tmp/academy-shots"))
STARTER = ROOT / "courses" / "otop-online-marketing"


def _zip(extra: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(STARTER.rglob("*")):
            if path.is_file():
                archive.write(path, f"{STARTER.name}/{path.relative_to(STARTER).as_posix()}")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def test_upload_check_and_download_a_course_zip_on_a_phone(
    browser, live_server, make_user, tmp_path
):
    teacher = make_user("instructor")
    context = browser.new_context(
        viewport=PHONE, base_url=live_server, is_mobile=True, accept_downloads=True,
        service_workers="block",
    )  # fmt: skip
    page = context.new_page()
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        sign_in(page, teacher.username, PASSWORD)
        page.goto("/studio/")
        page.get_by_role("link", name="อัปโหลดคอร์ส (ZIP)").click()
        hostile = tmp_path / "hostile.zip"
        hostile.write_bytes(_zip({"../../etc/passwd": b"root", "/etc/shadow": b"x"}))
        page.get_by_label("ไฟล์ ZIP ของคอร์ส").set_input_files(str(hostile))
        page.get_by_role("button", name="ตรวจอย่างเดียว").click()
        problems = page.locator(".zip-problems")
        expect(problems).to_contain_text("../../etc/passwd: a path that leaves the course folder")
        expect(problems).to_contain_text("/etc/shadow: an absolute path")
        page.screenshot(path=str(SHOTS / "studio-zip-refused-360.png"), full_page=True)
        assert_accessible(page)

        good = tmp_path / "good.zip"
        good.write_bytes(_zip())
        page.get_by_label("ไฟล์ ZIP ของคอร์ส").set_input_files(str(good))
        page.get_by_role("button", name="ตรวจอย่างเดียว").click()
        expect(page.get_by_role("status").filter(has_text="ไม่พบปัญหา")).to_be_visible()
        page.screenshot(path=str(SHOTS / "studio-zip-checked-360.png"), full_page=True)
        page.get_by_label("ไฟล์ ZIP ของคอร์ส").set_input_files(str(good))
        page.get_by_role("button", name="อัปโหลด", exact=True).click()
        expect(page.get_by_text("สร้างคอร์สจากไฟล์ ZIP แล้ว")).to_be_visible()
        with page.expect_download() as download:
            page.get_by_role("link", name="ดาวน์โหลดเป็น ZIP").click()
        assert download.value.suggested_filename == f"{STARTER.name}.zip"
        saved = tmp_path / "downloaded.zip"
        download.value.save_as(saved)
        with zipfile.ZipFile(saved) as archive:
            names = {i.filename for i in archive.infolist()}
        assert f"{STARTER.name}/course.yml" in names
        page.screenshot(path=str(SHOTS / "studio-zip-course-360.png"), full_page=True)
    finally:
        context.close()
