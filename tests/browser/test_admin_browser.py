"""The admin's people actions and the audit log, in a real Chromium (phone and PC)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible, external_requests, sign_in
from tests.fixtures.auth import PASSWORD


@pytest.mark.parametrize("width", ["page", "phone_page"])
def test_admin_switches_an_account_off_and_finds_it_in_the_audit_log(request, width, make_user):
    page = request.getfixturevalue(width)
    admin = make_user("admin")
    learner = make_user(full_name="เด็กชายสมชาย ใจดี")
    outside = external_requests(page)
    sign_in(page, admin.username, PASSWORD)
    page.goto(f"/people?q={learner.username}")
    assert_accessible(page)
    page.get_by_role("button", name="ปิดบัญชี").click()
    page.wait_for_url("**/people**")
    assert "ปิดบัญชีของ เด็กชายสมชาย ใจดี แล้ว" in page.get_by_role("status").inner_text()
    assert page.get_by_role("button", name="เปิดบัญชี").is_visible()

    page.goto("/admin/")
    page.get_by_role("link", name="บันทึกการตรวจสอบ").click()
    page.wait_for_url("**/admin/audit")
    assert_accessible(page)
    page.get_by_label("ชื่อผู้ใช้ (ผู้กระทำหรือผู้ถูกกระทำ)").fill(learner.username)
    page.get_by_role("button", name="กรอง").click()
    page.wait_for_url("**/admin/audit?**")
    row = page.get_by_role("row").filter(has_text="user.active")
    assert row.count() == 1
    assert admin.username in row.inner_text() and "active=False" in row.inner_text()
    assert outside == []
