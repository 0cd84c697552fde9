"""The instructor studio: access, course/module/lesson editing, reorder, uploads, publish,
duplicate, co-authors, preview, tracks, and the demo seed."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from academy.courses import services
from academy.courses.models import Course, CourseAsset, CourseInstructor, Lesson, Module, Track
from academy.extensions import db
from academy.studio import services as authoring
from tests.fixtures.files import PNG, SVG


@pytest.fixture
def people(make_user):
    return {
        "learner": make_user("learner"),
        "instructor": make_user("instructor"),
        "other_instructor": make_user("instructor"),
        "admin": make_user("admin"),
    }


def as_(client, people, who):
    if who != "anonymous":
        client.login(people[who])
    return client


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("learner", 403), ("instructor", 200), ("admin", 200)],
)
@pytest.mark.parametrize("url", ["/studio/", "/studio/courses/new", "/studio/guide"])
def test_studio_pages_access(client, people, who, status, url):
    assert as_(client, people, who).get(url).status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("learner", 404), ("instructor", 200),
     ("other_instructor", 404), ("admin", 200)],
)  # fmt: skip
@pytest.mark.parametrize(
    "url",
    ["/studio/courses/{c}", "/studio/courses/{c}/files", "/studio/modules/{m}",
     "/studio/lessons/{l}", "/studio/modules/{m}/lessons/new"],
)  # fmt: skip
def test_course_editing_access(client, people, make_course, who, status, url):
    course = make_course(published=False, instructor=people["instructor"])
    module = course.modules[0]
    url = url.format(c=course.id, m=module.id, l=module.lessons[0].id)
    assert as_(client, people, who).get(url).status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    [("learner", 404), ("other_instructor", 404), ("instructor", 302), ("admin", 302)],
)
def test_only_authors_may_change_a_course(client, people, make_course, who, status):
    course = make_course(published=False, instructor=people["instructor"])
    response = as_(client, people, who).post(
        f"/studio/courses/{course.id}/status", data={"status": "published"}
    )
    assert response.status_code == status
    db.session.refresh(course)
    assert course.is_published == (status == 302)


@pytest.mark.parametrize(("who", "status"), [("learner", 403), ("instructor", 403), ("admin", 200)])
def test_tracks_page_is_for_admins(client, people, who, status):
    assert as_(client, people, who).get("/studio/tracks").status_code == status


def test_admin_adds_a_track(client, admin):
    client.login(admin)
    response = client.post(
        "/studio/tracks", data={"slug": "young-farmers", "name_th": "เกษตรกรรุ่นใหม่", "name_en": ""}
    )
    assert response.status_code == 302
    assert services.track_by_slug("young-farmers").name_th == "เกษตรกรรุ่นใหม่"
    again = client.post("/studio/tracks", data={"slug": "young-farmers", "name_th": "x"})
    assert again.status_code == 400
    assert db.session.scalar(select(func.count(Track.id))) == 5


def test_create_course_edit_and_publish(client, instructor):
    client.login(instructor)
    response = client.post(
        "/studio/courses/new",
        data={"slug": "photo-basics", "title_th": "ถ่ายรูปสินค้า", "title_en": "Photos",
              "track": "seller-academy", "language": "th", "duration_minutes": "45",
              "cover": (io.BytesIO(PNG), "ปก.png")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    course = services.course_by_slug("photo-basics")
    assert course.track.slug == "seller-academy" and course.status == "draft"
    assert course.cover_path == "assets/cover.png"
    assert db.session.scalar(select(CourseInstructor.user_id)) == instructor.id

    # Publishing an empty course is refused.
    client.post(f"/studio/courses/{course.id}/status", data={"status": "published"})
    db.session.refresh(course)
    assert course.status == "draft"

    client.post(f"/studio/courses/{course.id}/modules", data={"title_th": "แสง"})
    module = db.session.scalar(select(Module))
    response = client.post(
        f"/studio/modules/{module.id}/lessons/new",
        data={
            "title_th": "แสงธรรมชาติ",
            "minutes": "5",
            "body": "ใช้ **แสง** ![ปก](assets/cover.png)",
        },
    )
    assert response.status_code == 302
    lesson = db.session.scalar(select(Lesson))
    assert 'src="/courses/photo-basics/assets/cover.png"' in lesson.body_html
    client.post(f"/studio/courses/{course.id}/status", data={"status": "published"})
    db.session.refresh(course)
    assert course.is_published


def test_duplicate_slug_and_bad_input_are_explained(client, instructor, make_course):
    make_course(slug="taken")
    client.login(instructor)
    response = client.post(
        "/studio/courses/new",
        data={"slug": "taken", "title_th": "x", "language": "th", "track": ""},
    )
    assert response.status_code == 400 and "taken" not in [
        c.title_th for c in db.session.scalars(select(Course))
    ]
    response = client.post(
        "/studio/courses/new",
        data={"slug": "Bad Slug!", "title_th": "x", "language": "th", "track": ""},
    )
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Course.id))) == 1


def test_lesson_with_broken_asset_link_is_refused(client, instructor, make_course):
    course = make_course(instructor=instructor)
    lesson = course.modules[0].lessons[0]
    client.login(instructor)
    response = client.post(
        f"/studio/lessons/{lesson.id}",
        data={"title_th": "ใหม่", "body": "ย่อหน้า\n\n![x](assets/missing.png)"},
    )
    assert response.status_code == 400
    db.session.refresh(lesson)
    assert lesson.title_th != "ใหม่"


def test_preview_button_without_js_does_not_save(client, instructor, make_course):
    course = make_course(instructor=instructor)
    lesson = course.modules[0].lessons[0]
    client.login(instructor)
    page = client.post(
        f"/studio/lessons/{lesson.id}",
        data={"title_th": "ใหม่", "body": "**พรีวิว** <script>alert(1)</script>", "preview": "1"},
    ).get_data(as_text=True)
    assert "<strong>พรีวิว</strong>" in page and "<script>alert(1)" not in page
    db.session.refresh(lesson)
    assert lesson.title_th != "ใหม่"


def test_live_preview_endpoint_sanitises(client, people, make_course):
    course = make_course(instructor=people["instructor"])
    client.login(people["instructor"])
    html = client.post(
        f"/studio/courses/{course.id}/preview",
        data={"body": '# Hi\n<img src=x onerror="alert(1)"> [x](javascript:alert(1))'},
    ).get_data(as_text=True)
    assert "<h1>Hi</h1>" in html and "onerror" not in html and "javascript:" not in html
    client.login(people["other_instructor"])
    assert (
        client.post(f"/studio/courses/{course.id}/preview", data={"body": "x"}).status_code == 404
    )


def test_reorder_with_up_and_down(client, instructor, make_course, make_quiz_in):
    course = make_course(modules=2, lessons=3, instructor=instructor)
    quiz = make_quiz_in(course.modules[0])
    client.login(instructor)
    first, _second, third = course.modules[0].lessons
    client.post(f"/studio/lessons/{third.id}/move", data={"direction": "up"})
    client.post(f"/studio/quizzes/{quiz.id}/move", data={"direction": "up"})
    items = [i.key for i in services.outline(course)[0].items]
    assert items == ["m1-l1", "m1-l3", quiz.key, "m1-l2"]
    client.post(f"/studio/lessons/{first.id}/move", data={"direction": "up"})  # already first
    module2 = course.modules[1]
    client.post(f"/studio/modules/{module2.id}/move", data={"direction": "up"})
    assert [m.module.key for m in services.outline(course)] == ["m2", "m1"]


def test_delete_lesson_and_module(client, instructor, make_course):
    course = make_course(modules=2, lessons=2, instructor=instructor)
    client.login(instructor)
    lesson = course.modules[0].lessons[0]
    module2 = course.modules[1]
    assert client.post(f"/studio/lessons/{lesson.id}/delete").status_code == 302
    assert client.post(f"/studio/modules/{module2.id}/delete").status_code == 302
    assert [x.key for x in db.session.scalars(select(Lesson))] == ["m1-l2"]
    assert db.session.scalar(select(Lesson.position)) == 1


# --- uploads ----------------------------------------------------------------------------------


def _upload(client, course, name, data):
    return client.post(
        f"/studio/courses/{course.id}/files",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("photo.png", b"<!doctype html><html><script>alert(1)</script></html>", "not accepted"),
        ("photo.png", b"%PDF-1.4\n%%EOF\n", "content is application/pdf"),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "active content",
        ),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><a xlink:href="javascript:alert(1)">x</a></svg>',
            "cannot be read",
        ),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><image href="http://evil.example/a.png"/></svg>',
            "another file or site",
        ),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/onload=alert(1)>', "cannot be read"),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
            b'<use x:href="&#106;avascript:alert(1)"/></svg>',
            "active content",
        ),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><rect onclick="alert(1)"/></svg>',
            "onclick=",
        ),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject/></svg>',
            "foreignObject",
        ),
        ("run.exe", b"MZ\x90\x00" + b"\x00" * 100, "not accepted"),
        ("empty.txt", b"", "empty"),
    ],
)
def test_disguised_and_dangerous_uploads_are_refused(
    client, instructor, make_course, name, data, reason
):
    course = make_course(instructor=instructor)
    client.login(instructor)
    response = _upload(client, course, name, data)
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CourseAsset.id))) == 0


def test_oversized_uploads_are_refused(app, client, instructor, make_course):
    course = make_course(instructor=instructor)
    client.login(instructor)
    # Small limits keep the test light; the checks are the same at 5 and 50 MB.
    old = app.config["IMAGE_MAX_BYTES"], app.config["UPLOAD_MAX_BYTES"]
    app.config["IMAGE_MAX_BYTES"], app.config["UPLOAD_MAX_BYTES"] = 1000, 2000
    try:
        image = _upload(client, course, "big.png", PNG + b"\x00" * 1000)
        text = _upload(client, course, "notes.txt", b"a" * 2001)
        fits = _upload(client, course, "notes.txt", b"a" * 1500)
    finally:
        app.config["IMAGE_MAX_BYTES"], app.config["UPLOAD_MAX_BYTES"] = old
    assert image.status_code == 400 and "too large" in image.get_data(as_text=True)
    assert text.status_code == 400 and "too large" in text.get_data(as_text=True)
    assert fits.status_code == 302
    assert [a.path for a in db.session.scalars(select(CourseAsset))] == ["assets/notes.txt"]


@pytest.mark.parametrize("name", ["../../etc/passwd.png", "..\\..\\x.png", "/abs/p.png", "ภาพ.png"])
def test_upload_names_cannot_escape_assets(client, instructor, make_course, name):
    course = make_course(instructor=instructor)
    client.login(instructor)
    assert _upload(client, course, name, PNG).status_code == 302
    path = db.session.scalar(select(CourseAsset.path))
    assert path.startswith("assets/") and ".." not in path and "/" not in path[len("assets/") :]


def test_good_uploads_and_delete(client, instructor, make_course):
    course = make_course(instructor=instructor)
    client.login(instructor)
    assert _upload(client, course, "Logo.SVG", SVG).status_code == 302
    assert _upload(client, course, "tag.png", PNG).status_code == 302
    assets = {a.path: a for a in db.session.scalars(select(CourseAsset))}
    assert assets["assets/logo.svg"].content_type == "image/svg+xml"
    lesson = course.modules[0].lessons[0]
    authoring.save_lesson(
        course, course.modules[0], lesson, "x", None, None, "![t](assets/tag.png)"
    )
    db.session.commit()
    client.post(f"/studio/courses/{course.id}/files/{assets['assets/tag.png'].id}/delete")
    client.post(f"/studio/courses/{course.id}/files/{assets['assets/logo.svg'].id}/delete")
    assert [a.path for a in db.session.scalars(select(CourseAsset))] == ["assets/tag.png"]


# --- duplicate and co-authors -----------------------------------------------------------------


def test_duplicate_copies_everything_as_a_draft(client, instructor, make_course, make_quiz_in):
    course = make_course(modules=2, lessons=2, instructor=instructor)
    make_quiz_in(course)
    authoring.add_file(course, "tag.png", PNG)
    authoring.save_lesson(
        course,
        course.modules[0],
        course.modules[0].lessons[0],
        "x",
        None,
        None,
        "![t](assets/tag.png)",
    )
    db.session.commit()
    client.login(instructor)
    client.post(f"/studio/courses/{course.id}/duplicate")
    client.post(f"/studio/courses/{course.id}/duplicate")
    copy = services.course_by_slug(f"{course.slug}-copy")
    assert services.course_by_slug(f"{course.slug}-copy-2") is not None
    assert copy.status == "draft" and copy.title_th.endswith("(สำเนา)")
    assert [i.key for m in services.outline(copy) for i in m.items] == [
        i.key for m in services.outline(course) for i in m.items
    ]
    lesson = services.lesson_by_key(copy, course.modules[0].lessons[0].key)
    assert f"/courses/{copy.slug}/assets/tag.png" in lesson.body_html
    from academy.quizzes.models import Question

    assert db.session.scalar(select(func.count(Question.id))) == 6  # 2 per quiz, 3 quizzes


def test_co_authors(client, people, make_course):
    course = make_course(instructor=people["instructor"])
    client.login(people["instructor"])
    client.post(
        f"/studio/courses/{course.id}/authors", data={"username": people["learner"].username}
    )
    client.post(f"/studio/courses/{course.id}/authors", data={"username": "nobody"})
    client.post(
        f"/studio/courses/{course.id}/authors",
        data={"username": people["other_instructor"].username},
    )
    authors = {u.username for u in authoring.instructors_of(course)}
    assert authors == {people["instructor"].username, people["other_instructor"].username}
    client.login(people["other_instructor"])
    assert client.get(f"/studio/courses/{course.id}").status_code == 200
    client.post(f"/studio/courses/{course.id}/authors/{people['instructor'].id}/remove")
    client.post(f"/studio/courses/{course.id}/authors/{people['other_instructor'].id}/remove")
    assert [u.username for u in authoring.instructors_of(course)] == [
        people["other_instructor"].username
    ]


def test_studio_lists_only_my_courses(client, people, make_course):
    make_course(title_th="ของฉัน", instructor=people["instructor"])
    make_course(title_th="ของคนอื่น", instructor=people["other_instructor"])
    client.login(people["instructor"])
    page = client.get("/studio/").get_data(as_text=True)
    assert "ของฉัน" in page and "ของคนอื่น" not in page
    client.login(people["admin"])
    page = client.get("/studio/").get_data(as_text=True)
    assert "ของฉัน" in page and "ของคนอื่น" in page


def test_guide_in_both_languages(client, instructor):
    client.login(instructor)
    assert "คู่มือการเขียนบทเรียน" in client.get("/studio/guide").get_data(as_text=True)
    client.post("/language", data={"language": "en"})
    page = client.get("/studio/guide").get_data(as_text=True)
    assert "Authoring guide" in page and "!!! tip" in page


def test_seed_demo_loads_courses_and_makes_teacher_an_author(app, runner):
    from academy.studio.loader import course_folders

    result = runner.invoke(args=["academy", "seed-demo"])
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["academy", "seed-demo"])
    assert again.exit_code == 0, again.output
    slugs = sorted(db.session.scalars(select(Course.slug)))
    assert len(slugs) == len(course_folders())
    teacher_courses = db.session.scalar(select(func.count(CourseInstructor.course_id)))
    assert teacher_courses == len(slugs)
    # The default milestone paths of sellers and OTOP, once however often the seed runs.
    from academy.coaching.models import Milestone

    paths = db.session.execute(
        select(Track.slug, func.count()).join(Milestone, Milestone.track_id == Track.id)
        .group_by(Track.slug).order_by(Track.slug)
    ).all()  # fmt: skip
    assert paths == [("otop", 5), ("seller-academy", 5)]


def test_add_quiz_only_with_the_quiz_editor(app, client, instructor, make_course):
    from academy.quizzes.models import Quiz
    from academy.studio.course_views import quiz_editor

    course = make_course(modules=1, lessons=1, instructor=instructor)
    module = course.modules[0]
    client.login(instructor)
    page = client.get(f"/studio/courses/{course.id}").get_data(as_text=True)
    response = client.post(f"/studio/modules/{module.id}/quizzes", data={"title_th": "ทดสอบ"})
    editor = quiz_editor()
    if editor is None:
        assert "add-quiz" not in page and response.status_code == 404
        assert db.session.scalar(select(func.count(Quiz.id))) == 0
    else:
        quiz = db.session.scalar(select(Quiz))
        assert "add-quiz" in page and quiz.title_th == "ทดสอบ" and quiz.position == 2
        assert (
            response.headers["Location"].endswith(f"/{quiz.id}")
            or str(quiz.id) in response.headers["Location"]
        )


def test_publishing_and_authors_are_audited(client, people, make_course):
    from academy.core.models import AuditEntry

    course = make_course(published=False, instructor=people["instructor"])
    client.login(people["instructor"])
    client.post(f"/studio/courses/{course.id}/status", data={"status": "published"})
    client.post(
        f"/studio/courses/{course.id}/authors",
        data={"username": people["other_instructor"].username},
    )
    entries = [
        (e.action, e.actor_id, e.target_label)
        for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    ]
    assert entries == [
        ("course.publish", people["instructor"].id, course.slug),
        ("course.author_add", people["instructor"].id, course.slug),
    ]


def test_markdown_bomb_is_refused_on_save_and_in_the_preview(client, instructor, make_course):
    course = make_course(instructor=instructor)
    lesson = course.modules[0].lessons[0]
    bomb = "".join("    " * i + "- x\n" for i in range(2000))[:49_000]
    client.login(instructor)
    client.post("/language", data={"language": "en"})
    response = client.post(f"/studio/lessons/{lesson.id}", data={"title_th": "ใหม่", "body": bomb})
    assert response.status_code == 400 and "Line 18: Nested too deeply" in response.text
    db.session.refresh(lesson)
    assert lesson.title_th != "ใหม่"
    preview = client.post(f"/studio/courses/{course.id}/preview", data={"body": "[" * 40_000})
    assert preview.status_code == 200 and "Line 1: Too many [" in preview.text
    response = client.post(
        f"/studio/courses/{course.id}",
        data={"title_th": "x", "summary_th": "[" * 4000, "language": "th", "track": ""},
    )
    assert response.status_code == 400 and "Too many [" in response.text


def test_an_uploaded_image_is_stored_re_encoded(app, client, instructor, make_course):
    from PIL import Image

    from academy.courses import files
    from academy.courses.models import CourseAsset

    course = make_course(instructor=instructor)
    client.login(instructor)
    picture = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(picture, format="PNG")
    # A PNG that is also an HTML page: a browser sniffing it would run the script.
    polyglot = picture.getvalue() + b"<html><script>alert(1)</script></html>"
    assert _upload(client, course, "poly.png", polyglot).status_code == 302
    asset = db.session.scalar(select(CourseAsset).where(CourseAsset.path == "assets/poly.png"))
    stored = files.blob_path(asset.sha256).read_bytes()
    assert b"<script" not in stored and stored != polyglot
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "PNG" and image.size == (8, 8)


# --- the assignment editor (issue 13): the folder loader's rules, one set ----------------------


def _assignment_form(**changes) -> dict:
    form = {
        "title_th": "ถ่ายรูปสินค้าในแสงธรรมชาติ",
        "title_en": "A product photo in daylight",
        "instructions": "ถ่ายรูป **สินค้าขายดี** หนึ่งชิ้น ใกล้หน้าต่าง",
        "hand_in": ["photos", "links"],
        "photos": "3",
        "rows": "4",
        "c-0-title": "ถ่ายในแสงธรรมชาติ", "c-0-good": "ไม่มีเงาแข็ง", "c-0-type": "tick",
        "c-1-title": "มีป้ายราคา", "c-1-type": "tick", "c-1-optional": "1", "c-1-points": "2",
        "c-2-title": "ปิดการขาย", "c-2-type": "levels", "c-2-levels": "0 = ยังไม่ได้ปิด\n2 = ปิดได้บางชิ้น\n",
        "c-3-title": "",
        "pass": "all_required",
        "resubmissions": "2",
    }  # fmt: skip
    form.update(changes)
    return form


def test_an_assignment_written_in_the_studio_exports_as_the_loader_reads_it(
    client, people, make_course, tmp_path
):
    from academy.assignments.models import Assignment
    from academy.studio import export
    from tests.fixtures.courses import round_trip

    course = make_course(modules=1, lessons=1, instructor=people["instructor"])
    module = course.modules[0]
    as_(client, people, "instructor")
    response = client.post(f"/studio/modules/{module.id}/assignments/new", data=_assignment_form())
    assert response.status_code == 302, response.get_data(as_text=True)
    saved = db.session.scalars(select(Assignment)).one()
    assert (saved.kinds, saved.max_photos, saved.resubmissions) == (["photos", "links"], 3, 2)
    assert saved.criteria == [
        {"id": "c1", "title": "ถ่ายในแสงธรรมชาติ", "good": "ไม่มีเงาแข็ง"},
        {"id": "c2", "title": "มีป้ายราคา", "required": False, "points": 2},
        {"id": "c3", "title": "ปิดการขาย", "type": "levels",
         "levels": [{"points": 0, "label": "ยังไม่ได้ปิด"}, {"points": 2, "label": "ปิดได้บางชิ้น"}]},
    ]  # fmt: skip
    assert "<strong>สินค้าขายดี</strong>" in saved.instructions_html
    assert saved.position == 2  # after the module's lesson
    page = client.get(f"/studio/courses/{course.id}").get_data(as_text=True)
    assert f"/studio/assignments/{saved.id}" in page
    # The export is a file the folder loader reads back, and the round trip is byte-identical.
    export.export_course(course, tmp_path / "out")
    files = round_trip(tmp_path / "again", tmp_path / "out")
    [name] = [n for n in files if n.endswith(".assignment.md")]
    assert "criteria:\n- id: c1\n" in files[name].decode()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"c-0-type": "stars"}, "Criterion 1: choose a tick or levels."),
        ({"photos": "7"}, "Photos: from 1 to 6."),
        ({"hand_in": []}, "Choose what to hand in"),
        ({"c-2-levels": "2 = ปิดได้บางชิ้น"}, "Criterion 3: give at least two levels"),
        ({"c-2-levels": "2 = ก\n2 = ข"}, "Criterion 3: give at least two levels"),
        ({"c-1-points": "lots"}, "Criterion 2: points are a whole number"),
        ({"pass": "points", "pass_points": "99"}, "The points needed must be from 1"),
        ({"c-0-title": "", "c-1-title": "", "c-2-title": ""}, "Add at least one criterion"),
        ({"resubmissions": "-1"}, "Resubmissions: a whole number"),
        ({"instructions": "   "}, "Write the instructions."),
        ({"instructions": "![x](../secret.png)"}, "leaves the course folder"),
        ({"title_th": ""}, "Please fill in this field."),
    ],
)
def test_bad_assignment_settings_in_the_studio_say_why_and_save_nothing(
    client, people, make_course, changes, message
):
    from academy.assignments.models import Assignment

    course = make_course(modules=1, lessons=1, instructor=people["instructor"])
    as_(client, people, "instructor")
    client.set_cookie("lang", "en")
    url = f"/studio/modules/{course.modules[0].id}/assignments/new"
    response = client.post(url, data=_assignment_form(**changes))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0


def test_editing_keeps_the_criteria_ids_and_preview_saves_nothing(client, people, make_course):
    from academy.assignments.models import Assignment

    course = make_course(modules=1, lessons=1, instructor=people["instructor"])
    as_(client, people, "instructor")
    client.post(f"/studio/modules/{course.modules[0].id}/assignments/new", data=_assignment_form())
    saved = db.session.scalars(select(Assignment)).one()
    url = f"/studio/assignments/{saved.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'name="c-2-id" value="c3"' in page and "0 = ยังไม่ได้ปิด" in page
    # The learner's preview of the checklist, and nothing saved.
    preview = client.post(url, data=_assignment_form(preview="1", **{"c-0-title": "แสงดี"}))
    assert preview.status_code == 200 and "แสงดี" in preview.get_data(as_text=True)
    db.session.expire_all()
    assert saved.criteria[0]["title"] == "ถ่ายในแสงธรรมชาติ"
    # Renaming a criterion keeps its id (reviews are kept by it); emptying a row removes it.
    form = _assignment_form(**{"c-0-id": "c1", "c-1-id": "c2", "c-2-id": "c3",
                               "c-0-title": "แสงดี", "c-1-title": ""})  # fmt: skip
    assert client.post(url, data=form).status_code == 302
    db.session.expire_all()
    assert [(c["id"], c["title"]) for c in saved.criteria] == [("c1", "แสงดี"), ("c3", "ปิดการขาย")]
