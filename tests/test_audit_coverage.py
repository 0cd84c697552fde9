"""Admin and instructor actions on people leave an audit entry (academy/core/audit.py): the
class actions added by hardening (import, bulk password reset, removing a member, assigning
and removing an instructor); auth's own actions are tested in test_audit.py."""

from __future__ import annotations

import base64

from sqlalchemy import select

from academy.core.models import AuditEntry
from academy.extensions import db


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_class_actions_are_audited(client, world, make_user):
    class_id, learner = world.ids["class_id"], world.user("learner")
    client.login(world.user("admin"))
    csv = "username,ชื่อ-นามสกุล\nmalee.k,มาลี ใจดี\n".encode()
    data = base64.b64encode(csv).decode()
    assert (
        client.post(f"/classes/{class_id}/import/confirm", data={"data": data}).status_code == 200
    )
    assert client.post(f"/classes/{class_id}/reset-passwords").status_code == 200
    helper = make_user("instructor")
    client.post(f"/classes/{class_id}/instructors", data={"username": helper.username})
    client.post(f"/classes/{class_id}/instructors/{helper.id}/remove")
    client.post(f"/classes/{class_id}/members/{learner.id}/remove")
    assert _actions() == [
        "class.import",
        "class.passwords_reset",
        "class.instructor_add",
        "class.instructor_remove",
        "class.member_remove",
    ]
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert entries[0].details == {"learners": 1}
    assert all(e.actor_id == world.user("admin").id for e in entries)
    assert "password" not in str([e.details for e in entries]).replace("passwords_reset", "")


def test_certificate_revocation_and_reissue_are_audited(client, world):
    code = world.ids["code"]
    client.login(world.user("admin"))
    response = client.post(f"/admin/certificates/{code}/revoke", data={"reason": "ชื่อผิด"})
    assert response.status_code == 302
    entry = db.session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.target_type, entry.details) == (
        "certificate.revoke",
        "certificates",
        {"reason": "ชื่อผิด"},
    )


def test_certificate_reissue_is_audited(client, world):
    client.login(world.user("admin"))
    assert client.post(f"/admin/certificates/{world.ids['code']}/reissue").status_code == 302
    entry = db.session.scalars(select(AuditEntry)).one()
    assert entry.action == "certificate.reissue" and entry.details["new_code"]
