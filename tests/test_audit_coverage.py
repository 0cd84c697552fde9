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


def _entries(*actions: str) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    if actions:
        query = query.where(AuditEntry.action.in_(actions))
    return list(db.session.scalars(query))


def test_schools_rooms_programmes_and_classes_are_audited(client, make_user, make_class_course):
    admin = make_user("admin")
    client.login(admin)
    assert client.post("/admin/schools", data={"name": "โรงเรียนวัดดอน"}).status_code == 302
    (school_id,) = db.session.scalars(select(AuditEntry.target_id)).all()
    form = {"school-name": "โรงเรียนวัดดอน", "school-district": "ยานนาวา"}
    assert client.post(f"/admin/schools/{school_id}", data=form).status_code == 302
    # Saving without a change is not a change.
    assert client.post(f"/admin/schools/{school_id}", data=form).status_code == 302
    room = {"room-name": "ห้องคอม 1", "room-seats": "40"}
    assert client.post(f"/admin/schools/{school_id}", data=room).status_code == 302
    programme = {"name": "ตลาดนัดคลองเตย", "kind": "market"}
    assert client.post("/admin/programmes", data=programme).status_code == 302
    room_id = _entries("room.create")[0].target_id
    new = {"name": "ม.2/1", "place": f"room:{room_id}"}
    assert client.post("/classes/new", data=new).status_code == 302
    entries = _entries()
    assert [(e.action, e.target_type) for e in entries] == [
        ("school.create", "schools"),
        ("school.change", "schools"),
        ("room.create", "rooms"),
        ("programme.create", "programmes"),
        ("class.create", "classes"),
    ]
    assert entries[0].details == {"name": "โรงเรียนวัดดอน", "district": None}
    assert entries[1].details == {"district": [None, "ยานนาวา"]}
    assert entries[2].details == {"name": "ห้องคอม 1", "seats": 40, "school_id": school_id}
    assert entries[4].target_label == "ม.2/1" and entries[4].details["room_id"] == room_id
    assert all(e.actor_id == admin.id for e in entries)


def test_class_changes_are_audited(client, world, make_class_course):
    class_id = world.ids["class_id"]
    client.login(world.user("teacher"))
    course = make_class_course()
    client.post(f"/classes/{class_id}/courses", data={"course": course.id})
    client.post(f"/classes/{class_id}/courses/{course.id}/remove")
    client.post(f"/classes/{class_id}/code", data={"expires_on": "2099-12-31"})
    client.login(world.user("admin"))
    other = world.ids["other_class_id"]
    learner = world.user("learner")
    client.post(f"/classes/{class_id}/members/{learner.id}/move", data={"target": other})
    assert [(e.action, e.details) for e in _entries()] == [
        ("class.course_add", {"course": course.slug, "enrolled": 2}),
        ("class.course_remove", {"course_id": course.id}),
        ("class.join_code", {"expires_on": "2099-12-31"}),
        ("class.member_move", {"class_id": class_id, "target_class_id": other}),
    ]


def test_quiz_and_question_edits_are_audited(client, world):
    quiz_id, question_id = world.ids["quiz_id"], world.ids["question_id"]
    client.login(world.user("teacher"))
    settings = {"title_th": "แบบทดสอบใหม่", "pass_mark": "70", "attempts_allowed": "2",
                "time_limit_minutes": "0", "draw_count": "0", "grading": "best",
                "show_feedback": "after_submit"}  # fmt: skip
    assert client.post(f"/quizzes/{quiz_id}/settings", data=settings).status_code == 302
    question = {"title": "ใหม่", "points": "1", "text": "2+2?", "answers": "=4"}
    response = client.post(f"/quizzes/{quiz_id}/questions/new?type=short", data=question)
    assert response.status_code == 302
    created = _entries("question.create")[0].target_id
    question["text"] = "3+1?"
    edit = client.post(f"/quizzes/{quiz_id}/questions/{created}/edit", data=question)
    assert edit.status_code == 302, edit.get_data(as_text=True)
    client.post(f"/quizzes/{quiz_id}/questions/{question_id}/move", data={"direction": "down"})
    gift = "::G1:: 1+1? {=2}\n\n::G2:: 2+1? {=3}\n"
    assert client.post(f"/quizzes/{quiz_id}/import", data={"text": gift}).status_code == 302
    client.post(f"/quizzes/{quiz_id}/questions/{question_id}/delete")
    entries = _entries()
    assert [e.action for e in entries] == [
        "quiz.settings",
        "question.create",
        "question.change",
        "question.move",
        "quiz.import",
        "question.delete",
    ]
    assert entries[0].details["title_th"][1] == "แบบทดสอบใหม่"
    assert entries[4].details["questions"] == 2
    assert entries[2].target_id == created and entries[5].target_id == question_id


def test_essay_marks_are_audited(client, world):
    from academy.quizzes import services
    from academy.quizzes.models import Attempt

    learner = world.user("learner")
    services.submit(db.session.get(Attempt, world.ids["attempt_id"]), learner)
    client.login(world.user("teacher"))
    response_id = world.ids["response_id"]
    data = {f"r{response_id}-percent": "80", f"r{response_id}-comment": "ดี"}
    assert client.post(f"/responses/{response_id}/mark", data=data).status_code == 302
    (entry,) = _entries()
    assert (entry.action, entry.target_type, entry.target_id) == (
        "response.mark", "responses", response_id
    )  # fmt: skip
    assert entry.details["fraction"] == 0.8
    assert entry.details["learner_id"] == world.user("learner").id
    assert entry.actor_id == world.user("teacher").id
