"""Sign-in, registration, passwords, throttling, account management and its access table."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from academy.auth.models import RecoveryCode, User, UserSession
from academy.core.settings import SELF_REGISTRATION, set_setting
from tests.fixtures.auth import PASSWORD

# A recovery code as the page shows it: two groups of five letters nobody misreads.
CODE = re.compile(r'<code class="secret" lang="en">([A-HJ-NP-Z2-9]{5}-[A-HJ-NP-Z2-9]{5})</code>')


def sign_in(client, username, password=PASSWORD, **kw):
    return client.post("/sign-in", data={"username": username, "password": password}, **kw)


def test_sign_in_and_out(client, learner):
    response = sign_in(client, learner.username)
    assert response.status_code == 302
    assert client.get("/account/password").status_code == 200
    response = client.post("/sign-out")
    assert response.status_code == 302
    # After sign-out the private page sends the browser to sign-in, never the old page.
    response = client.get("/account/password")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_username_is_case_insensitive_and_trimmed(client, make_user):
    make_user(username="somchai")
    assert sign_in(client, "  SomChai ").status_code == 302


@pytest.mark.parametrize(
    ("username", "password"),
    [("nobody", PASSWORD), ("{learner}", "wrong-password"), ("{learner}", "")],
)
def test_wrong_credentials_get_one_message(client, learner, username, password):
    response = sign_in(client, username.format(learner=learner.username), password)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in body or "กรุณากรอกชื่อผู้ใช้และรหัสผ่าน" in body


def test_failed_sign_ins_are_slowed_per_account(app, client, learner):
    limit = app.config["SIGNIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        assert sign_in(client, learner.username, "wrong-password").status_code == 400
    response = sign_in(client, learner.username)  # even the right password waits now
    assert response.status_code == 400
    assert "เข้าสู่ระบบไม่สำเร็จหลายครั้งเกินไป" in response.get_data(as_text=True)


def test_failed_sign_ins_are_slowed_per_address(app, client, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNIN_MAX_FAILURES_PER_ADDRESS", 3)
    user = make_user()
    for n in range(3):
        sign_in(client, f"someone{n}", "wrong-password")
    response = sign_in(client, user.username)
    assert response.status_code == 400
    assert "เข้าสู่ระบบไม่สำเร็จหลายครั้งเกินไป" in response.get_data(as_text=True)
    other = app.test_client()
    other_address = {"REMOTE_ADDR": "10.9.9.9"}
    assert sign_in(other, user.username, environ_base=other_address).status_code == 302


def test_deactivated_account_cannot_sign_in(client, make_user, db):
    user = make_user(active=False)
    assert sign_in(client, user.username).status_code == 400


def test_missing_csrf_token_is_refused(client, learner):
    response = client.post(
        "/sign-in", data={"username": learner.username, "password": PASSWORD}, csrf=False
    )
    assert response.status_code == 400
    assert "แบบฟอร์มนี้หมดอายุแล้ว" in response.get_data(as_text=True)


def test_tampered_session_cookie_is_ignored(client, learner):
    client.login(learner)
    cookie = client.get_cookie("session")
    client.set_cookie("session", cookie.value[:-3] + "abc")
    response = client.get("/account/password")
    assert response.status_code == 302  # treated as signed out, not an error


def test_seller_registers_and_is_signed_in(client, db):
    response = client.post(
        "/register",
        data={
            "full_name": "น้ำฝน ที่โบ๊เบ๊",
            "username": "Namfon.shop",
            "shop_name": "ร้านน้ำฝน",
            "phone": "0812345678",
            "password": "long-enough-1",
            "confirm": "long-enough-1",
        },
    )
    # The recovery codes, shown this once; the seller is signed in already.
    assert response.status_code == 200
    assert len(CODE.findall(response.get_data(as_text=True))) == 8
    assert "no-store" in response.headers["Cache-Control"]
    user = db.session.scalar(select(User).where(User.username == "namfon.shop"))
    assert user.learner_kind == "seller" and user.shop_name == "ร้านน้ำฝน"
    assert client.get("/account/password").status_code == 200


def test_registering_from_the_join_poster_lands_on_join(client, db):
    # The poster's QR: /join?code=... -> sign-in (next=...) -> "register here" keeps the next.
    page = client.get("/sign-in?next=/join?code%3DABC123").get_data(as_text=True)
    assert 'href="/register?next=/join?code%3DABC123"' in page
    data = {
        "full_name": "ดวงใจ ขายดี", "username": "duangjai", "password": "long-enough-1",
        "confirm": "long-enough-1",
    }  # fmt: skip
    # The recovery codes come first; their "continue" goes on to the join page.
    response = client.post("/register?next=/join?code%3DABC123", data=data)
    assert 'href="/join?code=ABC123"' in response.get_data(as_text=True)
    evil = client.application.test_client().post(
        "/register?next=https://evil.example/", data={**data, "username": "duangjai2"}
    )
    assert 'class="button wide" href="/"' in evil.get_data(as_text=True)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("username", "สมชาย", "ห้ามใช้ตัวอักษรไทย"),
        ("username", "has space", "ห้ามเว้นวรรค"),
        ("username", "ab", "3 ถึง 32"),
        ("username", "taken", "มีผู้ใช้แล้ว"),
        ("full_name", "x" * 201, "200"),
        ("password", "short", "8"),
    ],
)
def test_registration_refuses_bad_input_and_saves_nothing(
    client, db, make_user, field, value, message
):
    make_user(username="taken")
    data = {
        "full_name": "ผู้ขาย",
        "username": "newseller",
        "password": "long-enough-1",
        "confirm": "long-enough-1",
    }
    data[field] = value
    if field == "password":
        data["confirm"] = value
    response = client.post("/register", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_admin_can_close_registration(client, db):
    set_setting(SELF_REGISTRATION, "0")
    db.session.commit()
    assert client.get("/register").status_code == 403


def test_change_password_ends_other_sessions(app, client, learner):
    other_pc = app.test_client().login(learner)
    client.login(learner)
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": "brand-new-pw", "confirm": "brand-new-pw"},
    )
    assert response.status_code == 302
    assert client.get("/account/password").status_code == 200  # this browser stays in
    assert other_pc.get("/account/password").status_code == 302  # the other is signed out
    client.post("/sign-out")
    assert sign_in(client, learner.username, "brand-new-pw").status_code == 302


def test_change_password_wrong_current(client, learner):
    client.login(learner)
    response = client.post(
        "/account/password",
        data={
            "current_password": "nope-nope",
            "password": "brand-new-pw",
            "confirm": "brand-new-pw",
        },
    )
    assert response.status_code == 400
    assert "รหัสผ่านปัจจุบันไม่ถูกต้อง" in response.get_data(as_text=True)


def test_instructor_creates_student_and_sees_temporary_password_once(client, instructor, db):
    client.login(instructor)
    response = client.post(
        "/people/new",
        data={"full_name": "ด.ญ. ปู่น้ำ", "username": "p5-01", "role": "learner",
              "learner_kind": "student"},
    )  # fmt: skip
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    student = db.session.scalar(select(User).where(User.username == "p5-01"))
    assert student.must_change_password
    assert response.headers["Cache-Control"] == "no-store"
    assert 'class="secret"' in body
    # The student signs in with it and is sent to choose a password.
    temp = body.split('class="secret">')[1].split("<")[0]
    student_client = client.application.test_client()
    response = sign_in(student_client, "p5-01", temp)
    assert response.headers["Location"].endswith("/account/password")


def test_instructor_cannot_create_admins(client, instructor, db):
    client.login(instructor)
    response = client.post(
        "/people/new", data={"full_name": "x", "username": "sneaky", "role": "admin"}
    )
    assert response.status_code == 400
    assert db.session.scalar(select(User).where(User.username == "sneaky")) is None


def test_reset_password_signs_the_learner_out(app, client, instructor, learner, make_class):
    make_class(instructor=instructor, members=[learner])
    learner_pc = app.test_client().login(learner)
    client.login(instructor)
    response = client.post(f"/people/{learner.id}/reset-password")
    assert response.status_code == 200
    assert learner_pc.get("/account/password").status_code == 302


def test_create_user_cli(runner, db):
    result = runner.invoke(
        args=["academy", "create-user", "kru.somsri", "--role", "instructor", "--password-stdin"],
        input="secret-password\n",
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User.role).where(User.username == "kru.somsri")) == "instructor"
    result = runner.invoke(
        args=["academy", "create-user", "kru.somsri", "--password-stdin"], input="secret-password\n"
    )
    assert result.exit_code != 0
    assert "already taken" in result.output or "มีผู้ใช้แล้ว" in result.output


def test_seed_demo_is_idempotent(runner, db):
    for _ in range(2):
        result = runner.invoke(args=["academy", "seed-demo"])
        assert result.exit_code == 0, result.output
    roles = dict(db.session.execute(select(User.username, User.role)).all())
    assert roles["admin"] == "admin" and roles["teacher"] == "instructor"
    assert roles["student"] == "learner" and roles["seller"] == "learner"


# Access table for this feature's pages: who gets what.
ANON, LEARNER, INSTRUCTOR, ADMIN = "anonymous", "learner", "instructor", "admin"
ACCESS = [
    # method, url, {role: expected status}
    ("GET", "/sign-in", {ANON: 200, LEARNER: 302, INSTRUCTOR: 302, ADMIN: 302}),
    ("GET", "/register", {ANON: 200, LEARNER: 302, INSTRUCTOR: 302, ADMIN: 302}),
    ("GET", "/account/password", {ANON: 302, LEARNER: 200, INSTRUCTOR: 200, ADMIN: 200}),
    ("GET", "/people", {ANON: 302, LEARNER: 403, INSTRUCTOR: 200, ADMIN: 200}),
    ("GET", "/people/new", {ANON: 302, LEARNER: 403, INSTRUCTOR: 200, ADMIN: 200}),
    # The instructor teaches the learner's class; another instructor's learner is out of reach.
    ("POST", "/people/{learner}/reset-password", {ANON: 302, LEARNER: 403, INSTRUCTOR: 200, ADMIN: 200}),
    ("POST", "/people/{outsider}/reset-password", {ANON: 302, LEARNER: 403, INSTRUCTOR: 404, ADMIN: 200}),
    ("POST", "/people/{admin}/reset-password", {ANON: 302, LEARNER: 403, INSTRUCTOR: 404, ADMIN: 200}),
    ("GET", "/admin/", {ANON: 302, LEARNER: 403, INSTRUCTOR: 403, ADMIN: 200}),
]  # fmt: skip


@pytest.mark.parametrize(("method", "url", "expected"), ACCESS)
@pytest.mark.parametrize("role", [ANON, LEARNER, INSTRUCTOR, ADMIN])
def test_access(client, make_user, make_class, method, url, expected, role):
    people = {r: make_user(r) for r in ("learner", "instructor", "admin")}
    outsider = make_user("learner")
    make_class(instructor=people["instructor"], members=[people["learner"]])
    if role != ANON:
        client.login(people[role] if role != "learner" else make_user(role))
    target = url.format(
        learner=people["learner"].id, admin=people["admin"].id, outsider=outsider.id
    )
    response = client.open(target, method=method)
    assert response.status_code == expected[role], f"{role} {method} {target}"


def test_instructors_list_only_the_learners_they_teach(client, make_user, make_class):
    teacher, taught, elsewhere = make_user("instructor"), make_user("learner"), make_user("learner")
    make_class(instructor=teacher, members=[taught])
    make_class(instructor=make_user("instructor"), members=[elsewhere])
    page = client.login(teacher).get("/people").get_data(as_text=True)
    assert taught.username in page and elsewhere.username not in page


def test_people_list_pages_keep_the_search(client, admin, make_user):
    for n in range(55):
        make_user(full_name=f"นักเรียน ค้นหา {n}")
    client.login(admin)
    first = client.get("/people?q=ค้นหา").get_data(as_text=True)
    assert "หน้า 1 จาก 2" in first
    assert "/people?page=2&amp;q=" in first
    second = client.get("/people?page=2&q=ค้นหา").get_data(as_text=True)
    assert "หน้า 2 จาก 2" in second and "ก่อนหน้า" in second


@pytest.mark.parametrize(
    "target",
    [
        "/\\evil.example/",
        "\\\\evil.example/",
        "//evil.example/",
        "/\\/evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "\t//evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/%2Fevil.example",
        "/%5Cevil.example",
        "/%255Cevil.example",
        "%2F%2Fevil.example",
        "/%09/evil.example",
        "evil.example",
    ],
)
def test_sign_in_never_follows_next_off_site(client, learner, target):
    response = client.post(
        "/sign-in",
        query_string={"next": target},
        data={"username": learner.username, "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/courses", "/courses/วิชา?tab=1", "/people?q=a%20b"])
def test_sign_in_follows_next_on_this_site(client, learner, target):
    response = sign_in(client, learner.username, query_string={"next": target})
    assert unquote(response.headers["Location"]) == unquote(target)


def test_a_copied_cookie_is_refused_after_sign_out(app, client, learner):
    # A shared school PC: the next learner (or anyone who copied the cookie) replays it.
    assert sign_in(client, learner.username).status_code == 302
    copied = client.get_cookie("session").value
    phone = app.test_client()
    assert sign_in(phone, learner.username).status_code == 302
    assert client.post("/sign-out").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", copied)
    response = replay.get("/account/password")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    # Signing out on the PC does not end the session on the learner's phone.
    assert phone.get("/account/password").status_code == 200


def test_sign_out_everywhere_ends_every_session_of_the_person(app, client, learner, db):
    assert sign_in(client, learner.username).status_code == 302
    phone = app.test_client()
    assert sign_in(phone, learner.username).status_code == 302
    page = client.get("/account/password").get_data(as_text=True)
    assert "/sign-out?everywhere=1" in page
    assert client.post("/sign-out?everywhere=1").status_code == 302
    assert phone.get("/account/password").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_sessions_end_after_their_lifetime(app, client, learner, db):
    assert sign_in(client, learner.username).status_code == 302
    row = db.session.scalar(select(UserSession))
    row.created_at = row.created_at - app.permanent_session_lifetime - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/account/password").status_code == 302


def test_a_cookie_without_a_server_session_is_refused(app, learner):
    # What a session cookie held before sessions were recorded: the user id and version only.
    forged = app.test_client()
    with forged.session_transaction() as session:
        session["_user_id"] = learner.get_id()
        session["_fresh"] = True
    assert forged.get("/account/password").status_code == 302


# --- Throttling that a stranger cannot turn against the owner (docs/security.md) -------------
SCHOOL = {"REMOTE_ADDR": "203.0.113.10"}  # the school's NAT address
TOO_MANY = "เข้าสู่ระบบไม่สำเร็จหลายครั้งเกินไป"


def _fail(app, username, times, address):
    stranger = app.test_client()
    for _ in range(times):
        response = sign_in(stranger, username, "wrong-password", environ_base=address)
        assert response.status_code == 400
    return stranger


def test_a_stranger_elsewhere_cannot_lock_the_owner_out(app, learner):
    stranger = _fail(app, learner.username, 12, {"REMOTE_ADDR": "198.51.100.7"})
    # The stranger is held back, even with the right password...
    response = sign_in(stranger, learner.username, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert TOO_MANY in response.get_data(as_text=True)
    # ...the owner at school, who never signed in on this PC, is not.
    assert sign_in(app.test_client(), learner.username, environ_base=SCHOOL).status_code == 302


def test_guessing_from_many_addresses_meets_the_account_bound(app, learner):
    owner_phone = app.test_client()
    assert sign_in(owner_phone, learner.username).status_code == 302
    owner_phone.post("/sign-out")
    per_pair = app.config["SIGNIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS"]
    for n in range(app.config["SIGNIN_MAX_FAILURES_PER_ACCOUNT"] // per_pair):
        _fail(app, learner.username, per_pair, {"REMOTE_ADDR": f"198.51.100.{n + 1}"})
    response = sign_in(app.test_client(), learner.username, environ_base=SCHOOL)
    assert TOO_MANY in response.get_data(as_text=True)  # a browser never used: held back
    # The owner's own phone, where they signed in before, is not.
    assert sign_in(owner_phone, learner.username).status_code == 302


def test_a_classmate_in_the_same_room_cannot_lock_out_the_owners_browser(app, learner, make_user):
    owner = app.test_client()
    assert sign_in(owner, learner.username, environ_base=SCHOOL).status_code == 302
    owner.post("/sign-out")
    _fail(app, learner.username, 8, SCHOOL)  # the next PC, the same NAT address
    assert sign_in(owner, learner.username, environ_base=SCHOOL).status_code == 302
    # At a PC the owner never used, they wait, unless the teacher resets the password.
    other_pc = app.test_client()
    response = sign_in(other_pc, learner.username, environ_base=SCHOOL)
    assert TOO_MANY in response.get_data(as_text=True)
    teacher = make_user("admin")
    reset = app.test_client().login(teacher).post(f"/people/{learner.id}/reset-password")
    temp = reset.get_data(as_text=True).split('class="secret">')[1].split("<")[0]
    assert sign_in(other_pc, learner.username, temp, environ_base=SCHOOL).status_code == 302


def test_a_device_cookie_has_its_own_limit_and_cannot_be_forged(app, learner):
    owner = app.test_client()
    assert sign_in(owner, learner.username).status_code == 302
    owner.post("/sign-out")
    for _ in range(app.config["SIGNIN_MAX_FAILURES_PER_DEVICE"]):
        assert sign_in(owner, learner.username, "wrong-password").status_code == 400
    # Its budget spent, the browser counts as a stranger: the pair limit is untouched so far.
    assert sign_in(owner, learner.username).status_code == 302
    forged = app.test_client()
    forged.set_cookie("signin_devices", owner.get_cookie("signin_devices").value[:-4] + "AAAA")
    _fail(app, learner.username, 5, {"REMOTE_ADDR": "127.0.0.1"})
    response = sign_in(forged, learner.username)
    assert TOO_MANY in response.get_data(as_text=True)


def test_a_room_of_40_behind_one_address_signs_in_after_mistyping(app, make_user):
    room = [make_user("learner") for _ in range(40)]
    per_pair = app.config["SIGNIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS"]
    pcs = [app.test_client() for _ in room]
    for pc, learner in zip(pcs, room, strict=True):
        for _ in range(per_pair - 1):  # 4 typos each: 160 failures from one address
            assert sign_in(pc, learner.username, "typo", environ_base=SCHOOL).status_code == 400
    for pc, learner in zip(pcs, room, strict=True):
        assert sign_in(pc, learner.username, environ_base=SCHOOL).status_code == 302
    # The per-account protection is as strong in the room: a fifth typo holds that account.
    unlucky = make_user("learner")
    _fail(app, unlucky.username, per_pair, SCHOOL)
    response = sign_in(app.test_client(), unlucky.username, environ_base=SCHOOL)
    assert TOO_MANY in response.get_data(as_text=True)


def test_exempt_networks_have_no_per_address_limit(app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNIN_MAX_FAILURES_PER_ADDRESS", 3)
    monkeypatch.setitem(app.config, "SIGNIN_EXEMPT_NETWORKS", "203.0.113.0/28, 10.0.0.0/8")
    user = make_user()
    for n in range(4):
        _fail(app, f"nobody{n}", 1, SCHOOL)
        _fail(app, f"nobody{n}", 1, {"REMOTE_ADDR": "192.0.2.1"})
    assert sign_in(app.test_client(), user.username, environ_base=SCHOOL).status_code == 302
    response = sign_in(app.test_client(), user.username, environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert TOO_MANY in response.get_data(as_text=True)


def test_prune_throttle_drops_only_old_failures(runner, db):
    # Counted failures used to stay for ever (prune was never called); the nightly command
    # drops those older than every window and keeps the ones still counting.
    from datetime import timedelta

    from academy.core.db import utcnow
    from academy.core.models import ThrottleFailure

    now = utcnow()
    db.session.add_all([
        ThrottleFailure(key="signin:old", failed_at=now - timedelta(days=2)),
        ThrottleFailure(key="signin:recent", failed_at=now - timedelta(minutes=1)),
    ])  # fmt: skip
    db.session.commit()
    result = runner.invoke(args=["academy", "prune-throttle"])
    assert result.exit_code == 0, result.output
    assert "1 old row(s) dropped" in result.output
    db.session.expire_all()
    assert [f.key for f in db.session.scalars(db.select(ThrottleFailure))] == ["signin:recent"]


# --- Recovery codes (issue 13): a seller without e-mail sets a new password with one ----------


def _register(client) -> list[str]:
    client.set_cookie("lang", "en")  # messages matched in English; test_i18n checks the Thai
    page = client.post(
        "/register",
        data={"full_name": "มาลี", "username": "malee.shop", "password": "long-enough-1",
              "confirm": "long-enough-1"},
    ).get_data(as_text=True)  # fmt: skip
    client.post("/sign-out", data={})
    return CODE.findall(page)


def _recover(client, code: str, password: str = "brand-new-pass", username: str = "malee.shop"):  # noqa: S107
    form = {"username": username, "code": code, "password": password, "confirm": password}
    return client.post("/recover", data=form)


def test_a_recovery_code_sets_a_new_password_once(app, client, db):
    from academy.auth.services import verify_password
    from academy.core.models import AuditEntry

    codes = _register(client)
    assert len(set(codes)) == 8
    stored = db.session.scalars(select(RecoveryCode.digest)).all()
    assert len(stored) == 8 and not any(c.replace("-", "") in "".join(stored) for c in codes)
    # Typed in lower case with a space instead of the dash: still the code.
    response = _recover(client, codes[3].lower().replace("-", " "))
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    user = db.session.scalar(select(User).where(User.username == "malee.shop"))
    assert verify_password(user, "brand-new-pass")
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.recover")).one()
    assert entry.details == {"codes_left": 7}
    client.post("/sign-out", data={})
    # The same code again is spent.
    again = _recover(client, codes[3], "another-pass-9")
    assert again.status_code == 400 and "do not match" in again.get_data(as_text=True)
    db.session.expire_all()
    assert not verify_password(user, "another-pass-9")


@pytest.mark.parametrize(
    ("username", "code", "password", "message"),
    [
        ("malee.shop", "AAAAA-AAAAA", "brand-new-pass", "do not match"),
        ("nobody.here", None, "brand-new-pass", "do not match"),
        ("malee.shop", None, "short", "8"),
    ],
)
def test_bad_recovery_says_why_and_changes_nothing(client, db, username, code, password, message):
    from academy.auth.services import verify_password

    codes = _register(client)
    response = _recover(client, code or codes[0], password, username)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.username == "malee.shop"))
    assert verify_password(user, "long-enough-1")
    assert (
        db.session.scalar(
            select(func.count()).select_from(RecoveryCode).where(RecoveryCode.used_at.is_not(None))
        )
        == 0
    )


def test_guessing_recovery_codes_is_throttled(app, client, db):
    codes = _register(client)
    for _ in range(app.config["SIGNIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS"]):
        assert _recover(client, "AAAAA-AAAAA").status_code == 400
    # Now even the right code waits: the guesses are held back for the window.
    held = _recover(client, codes[0])
    assert held.status_code == 400 and "wait" in held.get_data(as_text=True).lower()


def test_new_recovery_codes_replace_the_old_ones(client, db):
    old = _register(client)
    user = db.session.scalar(select(User).where(User.username == "malee.shop"))
    client.login(user)
    page = client.post("/account/recovery-codes", data={}).get_data(as_text=True)
    new = CODE.findall(page)
    assert len(new) == 8 and not set(new) & set(old)
    client.post("/sign-out", data={})
    assert _recover(client, old[0]).status_code == 400
    assert _recover(client, new[0]).status_code == 302


@pytest.fixture
def hashes_running(monkeypatch):
    """The most Argon2 computations that ran at the same moment, counted where the hashing
    happens, in the argon2 library (the real computation runs; none of our code is touched)."""
    import threading

    import argon2._password_hasher as hasher_module

    counts = {"running": 0, "peak": 0}
    lock = threading.Lock()

    def counted(real):
        def run(*args, **kwargs):
            with lock:
                counts["running"] += 1
                counts["peak"] = max(counts["peak"], counts["running"])
            try:
                return real(*args, **kwargs)
            finally:
                with lock:
                    counts["running"] -= 1

        return run

    for name in ("hash_secret", "verify_secret"):
        monkeypatch.setattr(hasher_module, name, counted(getattr(hasher_module, name)))
    return counts


def _together(n: int, work) -> list:
    """Run work(i) in n threads released at the same instant; their results in order."""
    import threading

    start = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        start.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("at_once", [1, 2])
def test_concurrent_password_checks_hash_a_bounded_number_at_once(
    app, make_user, monkeypatch, hashes_running, at_once
):
    # Argon2id takes 19 MiB per hash and releases the GIL: twelve sign-ins checking passwords
    # together in one process used to hash twelve at once (12 x 19 MiB; the peak was 12). They
    # now queue for PASSWORD_HASHES_AT_ONCE slots.
    from academy.auth.services import hash_password, verify_password

    monkeypatch.setitem(app.config, "PASSWORD_HASHES_AT_ONCE", at_once)
    user = make_user()
    stored, password = user.password_hash, PASSWORD

    def check(i: int) -> bool:
        with app.app_context():
            if i % 3 == 0:  # new accounts hash too (a class import, a password change)
                return verify_password(User(password_hash=hash_password(password)), password)
            return verify_password(User(password_hash=stored), password)

    assert _together(12, check) == [True] * 12
    assert 1 <= hashes_running["peak"] <= at_once, hashes_running


def test_a_storm_of_sign_ins_all_succeed_within_the_bound(
    app, make_user, monkeypatch, hashes_running
):
    # The whole sign-in, twelve browsers at the same instant: every one signs in (in turn), and
    # the hashes never overlap beyond the bound. (On SQLite the sign-in's write transaction
    # queues them anyway; on PostgreSQL only the bound does: the peak was 12 before it.)
    monkeypatch.setitem(app.config, "PASSWORD_HASHES_AT_ONCE", 1)
    names = [make_user().username for _ in range(12)]
    clients = [app.test_client() for _ in names]
    for client in clients:
        client.get("/sign-in")
    statuses = _together(len(names), lambda i: sign_in(clients[i], names[i]).status_code)
    assert statuses == [302] * len(names)
    assert hashes_running["peak"] == 1, hashes_running


# A fresh interpreter: the malloc settings are the process's, and the pytest process has
# hashed passwords before. Each thread hashes in turn (one slot), as a worker's threads do.
_HASHES_IN_THREADS = """
import json, sys, threading
from academy import create_app
from academy.auth.services import hash_password

def rss_mb():
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024

app = create_app({"TESTING": True, "SECRET_KEY": "x"}, instance_path=sys.argv[1])
hash_password("warm up the hasher")
before = rss_mb()

def hash_twice():
    with app.app_context():
        hash_password("correct horse battery")
        hash_password("correct horse battery")

threads = [threading.Thread(target=hash_twice) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"grew_mb": rss_mb() - before}))
"""


def test_password_hashes_give_their_memory_back_when_done(tmp_path):
    # Each Argon2id hash takes a 19 MiB block. glibc used to keep one such block in every
    # thread that had hashed (4 threads: about 76 MB more, for the life of the worker); the
    # app now has malloc map and unmap large blocks (academy/core/memory.py).
    env = {**os.environ, "ACADEMY_LOG_LEVEL": "ERROR"}
    env.pop("MALLOC_ARENA_MAX", None)
    done = subprocess.run(
        [sys.executable, "-c", _HASHES_IN_THREADS, str(tmp_path)],
        capture_output=True, text=True, env=env, check=True, cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    grew = json.loads(done.stdout.strip().splitlines()[-1])["grew_mb"]
    assert grew < 19, f"the process kept {grew:.0f} MB after its hashes"
