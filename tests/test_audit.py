"""The audit log and the admin actions on people: role, switch off/on, sign out everywhere."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from academy.auth.models import User
from academy.core import audit
from academy.core.models import AuditEntry


def entries(db, action=None):
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return db.session.scalars(query).all()


def test_record_keeps_actor_target_details_and_address(app, db, admin, learner):
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        from flask_login import login_user

        login_user(admin)
        audit.record("certificate.revoke", learner, reason="typo in name")
        db.session.commit()
    (entry,) = entries(db)
    assert (entry.actor_id, entry.actor_username) == (admin.id, admin.username)
    assert (entry.target_type, entry.target_id, entry.target_label) == (
        "users",
        learner.id,
        learner.username,
    )
    assert entry.details == {"reason": "typo in name"}
    assert entry.address == "10.1.2.3"


def test_record_refuses_secrets_in_details(db):
    with pytest.raises(ValueError, match="secrets"):
        audit.record("user.create", temp_password="abc")


def test_record_is_saved_only_with_the_action(db, learner):
    audit.record("user.role", learner, old="learner", new="admin")
    db.session.rollback()
    assert entries(db) == []


def test_admin_changes_a_role_and_it_is_audited(client, db, admin, learner):
    client.login(admin)
    learner_pc = client.application.test_client().login(learner)
    response = client.post(f"/people/{learner.id}/role", data={"role": "instructor"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, learner.id).role == "instructor"
    (entry,) = entries(db, audit.ROLE_CHANGE)
    assert entry.details == {"old": "learner", "new": "instructor"}
    assert entry.actor_username == admin.username
    # Sessions opened under the old role end.
    assert learner_pc.get("/account/password").status_code == 302


def test_admin_cannot_change_own_role_or_demote_the_last_admin(client, db, admin):
    client.login(admin)
    response = client.post(
        f"/people/{admin.id}/role", data={"role": "learner"}, follow_redirects=True
    )
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(User, admin.id).role == "admin"
    assert entries(db) == []


def test_unknown_role_is_refused(client, db, admin, learner):
    client.login(admin)
    assert client.post(f"/people/{learner.id}/role", data={"role": "root"}).status_code == 400
    assert entries(db) == []


def test_switch_off_and_on(client, app, db, admin, learner):
    client.login(admin)
    learner_pc = app.test_client().login(learner)
    assert client.post(f"/people/{learner.id}/active", data={"active": "0"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, learner.id).active is False
    assert learner_pc.get("/account/password").status_code == 302
    assert client.post(f"/people/{learner.id}/active", data={"active": "1"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, learner.id).active is True
    assert [e.details for e in entries(db, audit.ACTIVE_CHANGE)] == [
        {"active": False},
        {"active": True},
    ]


def test_admin_cannot_switch_off_themselves(client, db, admin):
    client.login(admin)
    client.post(f"/people/{admin.id}/active", data={"active": "0"})
    db.session.expire_all()
    assert db.session.get(User, admin.id).active is True


def test_sign_out_everywhere(client, app, db, admin, learner):
    learner_phone = app.test_client().login(learner)
    assert learner_phone.get("/account/password").status_code == 200
    client.login(admin)
    assert client.post(f"/people/{learner.id}/sign-out-everywhere").status_code == 302
    assert learner_phone.get("/account/password").status_code == 302
    assert len(entries(db, audit.SIGN_OUT_EVERYWHERE)) == 1


def test_reset_and_create_are_audited_without_the_password(
    client, db, instructor, learner, make_class
):
    make_class(instructor=instructor, members=[learner])
    client.login(instructor)
    response = client.post(f"/people/{learner.id}/reset-password")
    assert response.status_code == 200
    response = client.post(
        "/people/new", data={"full_name": "ด.ญ. มาลี", "username": "malee", "role": "learner"}
    )
    assert response.status_code == 200
    reset, created = entries(db)
    assert (reset.action, reset.target_id) == (audit.PASSWORD_RESET, learner.id)
    assert (created.action, created.target_label, created.details) == (
        audit.USER_CREATE,
        "malee",
        {"role": "learner"},
    )
    assert reset.actor_username == instructor.username


def test_registration_toggle_is_audited(client, db, admin):
    client.login(admin)
    client.post("/admin/", data={})  # unticked: registration closes
    client.post("/admin/", data={})  # no change: nothing recorded
    (entry,) = entries(db, audit.SETTING_CHANGE)
    assert entry.details == {"key": "self_registration", "value": False}


def test_audit_page_filters_and_pages(client, db, admin, make_user):
    people = [make_user() for _ in range(3)]
    for person in people:
        audit.record(audit.PASSWORD_RESET, person, actor=admin)
    for n in range(55):
        audit.record("course.publish", None, actor=admin, n=n)
    db.session.commit()
    client.login(admin)
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "58" in html and "course.publish" in html
    html = client.get(f"/admin/audit?person={people[0].username}").get_data(as_text=True)
    assert html.count("user.password_reset</code>") == 1
    html = client.get("/admin/audit?action=course.publish&page=2").get_data(as_text=True)
    assert html.count("course.publish</code>") == 5
    assert client.get("/admin/audit?since=2000-01-01&until=2000-01-02").status_code == 200
    html = client.get("/admin/audit?since=2000-01-01&until=2000-01-02").get_data(as_text=True)
    assert "user.password_reset</code>" not in html
    assert client.get("/admin/audit?since=nonsense").status_code == 200


ANON, LEARNER, INSTRUCTOR, ADMIN = "anonymous", "learner", "instructor", "admin"
ACCESS = [
    ("GET", "/admin/audit", {ANON: 302, LEARNER: 403, INSTRUCTOR: 403, ADMIN: 200}),
    ("POST", "/people/{learner}/role", {ANON: 302, LEARNER: 403, INSTRUCTOR: 403, ADMIN: 302}),
    ("POST", "/people/{learner}/active", {ANON: 302, LEARNER: 403, INSTRUCTOR: 403, ADMIN: 302}),
    ("POST", "/people/{learner}/sign-out-everywhere", {ANON: 302, LEARNER: 403, INSTRUCTOR: 403, ADMIN: 302}),
    ("POST", "/people/999999/sign-out-everywhere", {ANON: 302, LEARNER: 403, INSTRUCTOR: 403, ADMIN: 404}),
]  # fmt: skip


@pytest.mark.parametrize(("method", "url", "expected"), ACCESS)
@pytest.mark.parametrize("role", [ANON, LEARNER, INSTRUCTOR, ADMIN])
def test_access(client, make_user, method, url, expected, role):
    people = {r: make_user(r) for r in ("learner", "instructor", "admin")}
    if role != ANON:
        client.login(people[role])
    target = url.format(learner=people["learner"].id)
    data = {"role": "learner", "active": "1"} if method == "POST" else None
    response = client.open(target, method=method, data=data)
    assert response.status_code == expected[role], f"{role} {method} {target}"
