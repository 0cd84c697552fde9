"""Assignments: the checklist rules, handing in (photos, links, text; all or nothing; one per
tap), reviewing (who, which version, one review), and completion through progress, on the
real database with real Pillow."""

from __future__ import annotations

import io
import re
from datetime import UTC

import pytest
from flask_babel import force_locale
from PIL import Image
from sqlalchemy import func, select

from academy.assignments import links, photos, rubric, services
from academy.assignments.models import (
    NEEDS_CHANGES,
    NOT_HANDED_IN,
    PASSED,
    WAITING,
    Assignment,
    Review,
    Submission,
    SubmissionPhoto,
)
from academy.assignments.services import Upload
from academy.certificates.models import Certificate
from academy.core.errors import ServiceError
from academy.core.learning import learner_state
from academy.courses.services import flat_items, outline
from academy.extensions import db
from academy.progress.models import CourseProgress
from tests.fixtures.assignments import LEVELS, photo_bytes
from tests.fixtures.courses import round_trip, write_course
from tests.fixtures.progress import complete_lesson, enrol


@pytest.fixture(autouse=True)
def english(request):
    """Messages are matched in English here; test_i18n checks that each has its Thai."""
    if "app" not in request.fixturenames:
        yield
        return
    with force_locale("en"):
        yield


TICKS_DONE = {"light": {"done": True}, "background": {"done": True}, "extra": {"done": False}}
NOT_YET = {
    "light": {"done": True},
    "background": {"done": False, "comment": "ใช้ผ้าขาวรองพื้น"},
    "extra": {"done": False},
}


# --------------------------------------------------------------------------- the rubric


def test_all_required_ticks_pass_and_optional_ticks_do_not_matter():
    criteria = rubric.parse_criteria(
        [
            {"id": "a", "title": "A"},
            {"id": "b", "title": "B"},
            {"id": "c", "title": "C", "required": False},
        ]
    )
    rule = rubric.ALL_REQUIRED
    ok = rubric.judge(
        criteria, rule, 0, {"a": {"done": True}, "b": {"done": True}, "c": {"done": False}}
    )
    assert (ok.met, ok.points, ok.max_points, ok.missing) == (True, 2, 3, [])
    not_yet = rubric.judge(
        criteria, rule, 0, {"a": {"done": True}, "b": {"done": False}, "c": {"done": True}}
    )
    assert (not_yet.met, not_yet.missing) == (False, ["B"])


def test_points_threshold_with_levels():
    criteria = rubric.parse_criteria(LEVELS)
    assert rubric.max_points(criteria) == 5
    rubric.check_pass_rule(criteria, rubric.POINTS, 4)
    assert rubric.judge(
        criteria, rubric.POINTS, 4, {"close": {"points": 4}, "greet": {"done": False}}
    ).met
    low = rubric.judge(
        criteria, rubric.POINTS, 4, {"close": {"points": 2}, "greet": {"done": True}}
    )
    assert (low.met, low.points) == (False, 3)


@pytest.mark.parametrize(
    "results, reason",
    [
        ({"close": {"points": 4}}, "'ทักทาย' has no answer"),
        ({"close": {"points": 3}, "greet": {"done": True}}, "choose one of its levels"),
        ({"close": {"points": 4}, "greet": {"done": "yes"}}, "choose done or not yet"),
        ({"close": {"points": True}, "greet": {"done": True}}, "choose one of its levels"),
    ],
)
def test_a_review_cannot_skip_or_invent_a_result(results, reason):
    with pytest.raises(rubric.RubricError, match=reason):
        rubric.judge(rubric.parse_criteria(LEVELS), rubric.POINTS, 4, results)


@pytest.mark.parametrize(
    "raw, reason, path",
    [
        ([], "at least one criterion", ("criteria",)),
        ([{"id": "a", "title": "A", "type": "stars"}], "unknown criterion type 'stars'", ("criteria", 0, "type")),
        ([{"id": "a", "title": "A"}, {"id": "a", "title": "B"}], "duplicate id 'a'", ("criteria", 1, "id")),
        ([{"id": "A!", "title": "A"}], "'id' must be", ("criteria", 0, "id")),
        ([{"id": "a"}], "'title' is missing", ("criteria", 0)),
        ([{"id": "a", "title": "A", "colour": "red"}], "unknown setting 'colour'", ("criteria", 0, "colour")),
        ([{"id": "a", "title": "A", "type": "levels", "levels": [{"points": 1, "label": "x"}]}],
         "at least two levels", ("criteria", 0, "levels")),
        ([{"id": "a", "title": "A", "type": "levels", "points": 3,
           "levels": [{"points": 0, "label": "x"}, {"points": 1, "label": "y"}]}],
         "'points' belongs to ticks", ("criteria", 0, "points")),
        ([{"id": "a", "title": "A", "required": "yes"}], "'required' must be true or false",
         ("criteria", 0, "required")),
    ],
)  # fmt: skip
def test_bad_criteria_are_named(raw, reason, path):
    with pytest.raises(rubric.RubricError, match=reason) as caught:
        rubric.parse_criteria(raw)
    assert caught.value.path == path


def test_criteria_round_trip_through_their_plain_form():
    criteria = rubric.parse_criteria(
        [*LEVELS, {"id": "x", "title": "X", "required": False, "points": 2, "good": "g"}]
    )
    assert rubric.parse_criteria([c.to_dict() for c in criteria]) == criteria


def test_pass_rules_are_checked():
    ticks = rubric.parse_criteria([{"id": "a", "title": "A", "required": False}])
    with pytest.raises(rubric.RubricError, match="at least one required tick"):
        rubric.check_pass_rule(ticks, rubric.ALL_REQUIRED, 0)
    with pytest.raises(rubric.RubricError, match="from 1 to 1"):
        rubric.check_pass_rule(ticks, rubric.POINTS, 2)
    with pytest.raises(rubric.RubricError, match="unknown pass rule"):
        rubric.check_pass_rule(ticks, "most", 0)


# --------------------------------------------------------------------------- photos and links


def test_a_phone_photo_is_upright_small_and_has_no_exif_or_gps(app):
    # Orientation 6: the camera held upright, the pixels stored lying on their side.
    raw = photo_bytes((4000, 3000), orientation=6, gps=True)
    assert b"PhoneMaker" in raw
    photo = photos.process(raw, "IMG_0001.jpg")
    image = Image.open(io.BytesIO(photo.data))
    assert image.format == "JPEG"
    assert (image.width, image.height) == (1200, 1600)
    assert not image.getexif()
    assert b"PhoneMaker" not in photo.data and b"Exif" not in photo.data
    assert len(photo.data) < len(raw)


def test_png_with_transparency_becomes_a_jpeg(app):
    out = io.BytesIO()
    Image.new("RGBA", (50, 40), (255, 0, 0, 0)).save(out, "PNG")
    photo = photos.process(out.getvalue(), "a.png")
    assert (photo.width, photo.height) == (50, 40)
    assert Image.open(io.BytesIO(photo.data)).mode == "RGB"


@pytest.mark.parametrize(
    "data, message",
    [
        (b"%PDF-1.4 not a photo at all" * 10, "IMG.jpg is not a photo"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "IMG.jpg is not a photo"),
        (b"x" * (50 * 1024 * 1024), "IMG.jpg is 50.0 MB; photos may be at most 25 MB"),
    ],
)
def test_bad_photos_are_refused_by_name(app, data, message):
    with pytest.raises(ServiceError, match=message):
        photos.process(data, "IMG.jpg")


@pytest.mark.parametrize(
    "link",
    [
        "https://www.tiktok.com/@shop/live/replay/123",
        "https://shopee.co.th/product/1/2",
        "https://liff.line.me/abc",
        "https://8.8.8.8/x",
    ],
)
def test_public_https_links_are_accepted(app, link):
    assert links.check_link(f"  {link} ") == link


@pytest.mark.parametrize(
    "link, message",
    [
        ("javascript:alert(1)", "must start with https://"),
        ("http://10.0.0.1", "must start with https://"),
        ("https://10.0.0.1/admin", "private or local address"),
        ("https://127.0.0.1", "private or local address"),
        ("https://[::1]/", "private or local address"),
        ("https://192.168.1.1", "private or local address"),
        ("https://169.254.169.254/latest", "private or local address"),
        ("https://localhost:8000", "private or local address"),
        ("https://printer/", "private or local address"),
        ("https://user:pw@shopee.co.th/", "user name or password"),
        ("https://", "not a web address"),
        ("https://a b.com", "not a web address"),
        ("https://shopee.co.th:port/", "not a web address"),
    ],
)
def test_bad_links_are_refused_with_the_reason(app, link, message):
    with pytest.raises(ServiceError, match=message):
        links.check_link(link)


def test_host_of_a_link(app):
    assert links.host_of("https://www.tiktok.com/@a/live") == "tiktok.com"


# --------------------------------------------------------------------------- handing in


@pytest.fixture
def setup(make_course, make_assignment, make_user, make_class):
    """A course with one lesson and a photo + link assignment; a learner in a class coached by
    an instructor; the course written by another instructor."""
    author = make_user("instructor")
    course = make_course(modules=1, lessons=1, instructor=author)
    assignment = make_assignment(course, kinds=("photos", "links"))
    learner = make_user("learner")
    coach = make_user("instructor")
    enrol(learner, course)
    make_class(instructor=coach, members=[learner])
    return course, assignment, learner, coach, author


def hand_in(learner, assignment, token="t1", **kwargs):  # noqa: S107 - a form token
    kwargs.setdefault("photos", [Upload("IMG_1.jpg", photo_bytes((800, 600)))])
    kwargs.setdefault("links", ["https://www.tiktok.com/@me/live/1"])
    submission = services.hand_in(learner, assignment, token=token, **kwargs)
    db.session.commit()
    return submission


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_hand_in_stores_a_version_with_clean_photos(app, setup):
    _course, assignment, learner, *_ = setup
    submission = hand_in(learner, assignment)
    assert (submission.version, submission.status) == (1, WAITING)
    assert submission.links == ["https://www.tiktok.com/@me/live/1"]
    [photo] = submission.photos
    stored = photos.photo_path(photo.sha256).read_bytes()
    assert Image.open(io.BytesIO(stored)).size == (800, 600) == (photo.width, photo.height)
    assert services.state_of(assignment, learner.id) == WAITING


def test_a_double_tap_makes_one_version(app, setup):
    _course, assignment, learner, *_ = setup
    first = hand_in(learner, assignment, token="same")
    second = hand_in(learner, assignment, token="same")
    assert first.id == second.id and count(Submission) == 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"photos": [], "links": []}, "Nothing was handed in"),
        ({"photos": [Upload("x.jpg", b"")], "links": [" "]}, "Nothing was handed in"),
        ({"photos": []}, "Add the photo"),
        ({"links": []}, "Give the link"),
        ({"links": ["javascript:alert(1)"]}, "must start with https://"),
        ({"links": ["http://10.0.0.1"]}, "must start with https://"),
        ({"text": "hello"}, "does not take text"),
        ({"photos": [Upload(f"{i}.jpg", photo_bytes((40, 30))) for i in range(7)]},
         "7 photos: this assignment takes at most 3"),
        # The bad one is last: the good ones before it are not kept.
        ({"photos": [Upload("ok.jpg", photo_bytes((40, 30))), Upload("notes.jpg", b"GIF89 fake")]},
         "notes.jpg is not a photo"),
        ({"photos": [Upload("big.jpg", b"\xff" * (50 * 1024 * 1024))]}, "big.jpg is 50.0 MB"),
    ],
)  # fmt: skip
def test_bad_hand_ins_say_why_and_save_nothing(app, setup, kwargs, message):
    _course, assignment, learner, *_ = setup
    with pytest.raises(ServiceError, match=message):
        hand_in(learner, assignment, **kwargs)
    db.session.rollback()
    assert count(Submission) == 0 and count(SubmissionPhoto) == 0


def test_seven_photos_are_refused_even_when_the_assignment_says_more(
    app, make_course, make_assignment, learner
):
    course = make_course(modules=1, lessons=1)
    assignment = make_assignment(course, kinds=("photos",), max_photos=9)
    enrol(learner, course)
    with pytest.raises(ServiceError, match="at most 6"):
        hand_in(learner, assignment, links=[], photos=[Upload("a.jpg", photo_bytes((20, 20)))] * 7)


def test_only_enrolled_learners_hand_in(app, setup, make_user):
    _course, assignment, *_ = setup
    with pytest.raises(ServiceError, match="not enrolled"):
        hand_in(make_user("learner"), assignment)


def test_messages_are_thai_by_default(app, setup):
    _course, assignment, learner, *_ = setup
    with force_locale("th"), pytest.raises(ServiceError) as caught:
        hand_in(learner, assignment, links=["http://10.0.0.1"])
    assert "https://" in caught.value.message and "must start" not in caught.value.message


def test_no_new_version_while_one_waits(app, setup):
    _course, assignment, learner, *_ = setup
    hand_in(learner, assignment, token="a")
    with pytest.raises(ServiceError, match="Version 1 is still waiting"):
        hand_in(learner, assignment, token="b")


# --------------------------------------------------------------------------- reviewing


def review(reviewer, submission, results=TICKS_DONE, passed=True, comment="ดีมาก"):
    record = services.review(reviewer, submission, results=results, comment=comment, passed=passed)
    db.session.commit()
    return record


def test_coach_author_and_admin_review_others_do_not(app, setup, make_user, admin):
    _course, assignment, learner, coach, author = setup
    submission = hand_in(learner, assignment)
    stranger = make_user("instructor")
    assert services.may_review(coach, submission)
    assert services.may_review(author, submission)
    assert services.may_review(admin, submission)
    assert not services.may_review(stranger, submission)
    assert not services.may_review(learner, submission)
    assert not services.may_review(make_user("learner"), submission)
    with pytest.raises(ServiceError, match="You do not coach this learner"):
        review(stranger, submission)
    db.session.rollback()
    assert count(Review) == 0


def test_needs_changes_then_hand_in_again_then_pass_completes_the_course(app, setup):
    course, assignment, learner, coach, _author = setup
    complete_lesson(learner, course.modules[0].lessons[0])
    first = hand_in(learner, assignment, token="a")
    review(coach, first, NOT_YET, passed=False, comment="แก้พื้นหลัง")
    assert services.state_of(assignment, learner.id) == NEEDS_CHANGES
    progress = db.session.get(CourseProgress, (learner.id, course.id))
    assert (progress.items_done, progress.items_total, progress.completed_at) == (1, 2, None)

    second = hand_in(learner, assignment, token="b")
    assert second.version == 2
    # The first version and its review stay readable.
    assert [s.version for s in services.versions(assignment, learner.id)] == [2, 1]
    old = services.review_of(first)
    assert old.results["background"] == {"done": False, "comment": "ใช้ผ้าขาวรองพื้น"}
    assert old.passed is False

    review(coach, second)
    db.session.expire_all()
    assert services.state_of(assignment, learner.id) == PASSED
    progress = db.session.get(CourseProgress, (learner.id, course.id))
    assert progress.completed_at is not None and progress.items_done == 2
    assert db.session.scalar(
        select(Certificate).where(
            Certificate.user_id == learner.id, Certificate.course_id == course.id
        )
    )


def test_a_course_with_an_assignment_does_not_complete_on_lessons_alone(app, setup):
    course, _assignment, learner, *_ = setup
    complete_lesson(learner, course.modules[0].lessons[0])
    assert db.session.get(CourseProgress, (learner.id, course.id)).completed_at is None


def test_passing_needs_the_checklist_met(app, setup):
    _course, assignment, learner, coach, _author = setup
    submission = hand_in(learner, assignment)
    with pytest.raises(
        ServiceError, match="The checklist is not met, so it cannot pass: พื้นหลังเรียบ"
    ):
        review(coach, submission, NOT_YET, passed=True)
    db.session.rollback()
    assert services.state_of(assignment, learner.id) == WAITING and count(Review) == 0


@pytest.mark.parametrize(
    "results, message",
    [
        ({"light": {"done": True}}, "Give a result for every criterion: พื้นหลังเรียบ"),
        ({**TICKS_DONE, "ghost": {"done": True}}, "Unknown criterion: ghost"),
    ],
)
def test_a_review_must_answer_every_criterion(app, setup, results, message):
    _course, assignment, learner, coach, _author = setup
    submission = hand_in(learner, assignment)
    with pytest.raises(ServiceError, match=message):
        review(coach, submission, results)


def test_needs_changes_says_what_to_change(app, setup):
    _course, assignment, learner, coach, _author = setup
    submission = hand_in(learner, assignment)
    with pytest.raises(ServiceError, match="write a comment"):
        review(
            coach, submission, {k: {"done": False} for k in TICKS_DONE}, passed=False, comment=""
        )


def test_a_review_of_an_old_version_is_refused(app, setup):
    _course, assignment, learner, coach, author = setup
    first = hand_in(learner, assignment, token="a")
    review(coach, first, NOT_YET, passed=False)
    hand_in(learner, assignment, token="b")
    with pytest.raises(
        ServiceError, match="This is version 1; the learner has handed in version 2"
    ):
        review(author, first, TICKS_DONE)


def test_a_second_review_is_refused(app, setup):
    _course, assignment, learner, coach, author = setup
    submission = hand_in(learner, assignment)
    review(coach, submission)
    with pytest.raises(ServiceError, match="reviewed already"):
        review(author, submission)
    assert count(Review) == 1


def test_a_second_review_racing_the_first_is_refused(app, setup):
    """Both reviewers loaded the page while it was waiting; the second finds it moved."""
    _course, assignment, learner, coach, author = setup
    submission = hand_in(learner, assignment)
    review(coach, submission)
    db.session.execute(
        Submission.__table__.update().where(Submission.id == submission.id).values(status=WAITING)
    )
    db.session.expire(submission)
    with pytest.raises(ServiceError, match="Someone else has just reviewed this version"):
        review(author, submission, NOT_YET, passed=False)
    db.session.rollback()
    assert count(Review) == 1


def test_resubmission_limit(app, make_course, make_assignment, make_user):
    course = make_course(modules=1, lessons=1)
    assignment = make_assignment(course, kinds=("text",), resubmissions=1)
    learner, admin = make_user("learner"), make_user("admin")
    enrol(learner, course)
    for token in ("a", "b"):
        submission = services.hand_in(learner, assignment, token=token, text="งานของฉัน")
        db.session.commit()
        review(admin, submission, NOT_YET, passed=False)
    with pytest.raises(ServiceError, match="No more resubmissions"):
        services.hand_in(learner, assignment, token="c", text="อีกครั้ง")


def test_review_queue_oldest_first_and_only_for_reviewers(app, setup, make_user, make_class, admin):
    course, assignment, learner, coach, author = setup
    other = make_user("learner")
    enrol(other, course)
    from datetime import datetime

    late = services.hand_in(
        other,
        assignment,
        token="x",
        photos=[Upload("a.jpg", photo_bytes((20, 20)))],
        links=["https://shopee.co.th/a"],
        now=datetime(2026, 5, 2, tzinfo=UTC),
    )
    early = services.hand_in(
        learner,
        assignment,
        token="y",
        photos=[Upload("a.jpg", photo_bytes((20, 20)))],
        links=["https://shopee.co.th/a"],
        now=datetime(2026, 5, 1, tzinfo=UTC),
    )
    db.session.commit()  # fmt: skip
    assert [s.id for s in services.review_queue(author)] == [early.id, late.id]
    assert [s.id for s in services.review_queue(admin)] == [early.id, late.id]
    # The coach sees only the learners of the classes they teach.
    assert [s.id for s in services.review_queue(coach)] == [early.id]
    assert services.review_queue(make_user("instructor")) == []
    klass = make_class(members=[other])
    assert [s.id for s in services.review_queue(admin, class_id=klass.id)] == [late.id]
    assert services.review_queue(admin, course_id=course.id + 999) == []


def test_outline_and_learner_state_show_the_assignment_state(app, setup):
    course, assignment, learner, coach, _author = setup

    def item_state():
        items = flat_items(outline(course, learner_state(learner, course)))
        return [i.state for i in items if i.kind == "assignment"]

    assert item_state() == [NOT_HANDED_IN]
    submission = hand_in(learner, assignment)
    assert item_state() == [WAITING]
    review(coach, submission)
    assert item_state() == [PASSED]
    assert [(a.id, s) for a, _c, s in services.my_assignments(learner)] == [(assignment.id, PASSED)]


# --------------------------------------------------------------------------- the course folder

ASSIGNMENT_FILE = """\
---
id: product-photo
title:
  th: ถ่ายรูปสินค้า
  en: Product photo
hand_in:
- photos
- links
photos: 3
criteria:
- id: light
  title: แสงธรรมชาติ
  good: ถ่ายใกล้หน้าต่าง ไม่มีเงาแข็ง
- id: price
  title: ป้ายราคา
  required: false
- id: close
  title: ปิดการขาย
  type: levels
  levels:
  - points: 0
    label: ไม่ได้ปิด
  - points: 2
    label: ปิดได้
pass: all_required
resubmissions: 2
---
ถ่ายรูป **สินค้าขายดี** หนึ่งชิ้น
"""


def course_folder(
    tmp_path, text: str = ASSIGNMENT_FILE, name: str = "02-product-photo.assignment.md"
):
    folder = write_course(tmp_path / "src", quiz=False)
    (folder / "01-intro" / "03-product-photo.assignment.md").unlink(missing_ok=True)
    (folder / "02-more" / name).write_text(text, encoding="utf-8")
    return folder


def test_an_assignment_file_loads_into_the_module(app, tmp_path):
    from academy.studio.loader import load_course

    course = load_course(course_folder(tmp_path))
    db.session.commit()
    [assignment] = db.session.scalars(select(Assignment)).all()
    assert (assignment.key, assignment.title_en, assignment.kinds) == (
        "product-photo",
        "Product photo",
        ["photos", "links"],
    )
    assert (assignment.max_photos, assignment.pass_rule, assignment.resubmissions) == (
        3,
        "all_required",
        2,
    )
    assert [c["id"] for c in assignment.criteria] == ["light", "price", "close"]
    assert "<strong>สินค้าขายดี</strong>" in assignment.instructions_html
    items = flat_items(outline(course))
    assert [i.kind for i in items][-2:] == ["lesson", "assignment"]


def test_an_assignment_round_trips_byte_identical(app, tmp_path):
    exported = round_trip(tmp_path, course_folder(tmp_path))
    assert exported["02-more/02-product-photo.assignment.md"].decode() == ASSIGNMENT_FILE


@pytest.mark.parametrize(
    "old, new, where, reason",
    [
        ("  type: levels", "  type: stars", 19, "criterion 3: unknown criterion type 'stars' (tick, levels)"),
        ("hand_in:\n- photos\n- links", "hand_in: [video]", 6, "'hand_in': unknown kind 'video'"),
        ("photos: 3", "photos: 7", 9, "'photos' must be a whole number from 1 to 6"),
        ("pass: all_required", "pass: most", 25, "unknown pass rule 'most'"),
        ("pass: all_required", "pass: points", 25, "'pass: points' needs 'pass_points'"),
        ("- id: price", "- id: light", 14, "criterion 2: duplicate id 'light'"),
        ("resubmissions: 2", "resubmissions: 2\ndeadline: 3", 27, "unknown setting 'deadline'"),
        ("ถ่ายรูป **สินค้าขายดี** หนึ่งชิ้น", "", 28, "the instructions (after the front matter) are empty"),
        ("ถ่ายรูป **สินค้าขายดี** หนึ่งชิ้น", "![x](../secret.png)", 28, "leaves the course folder"),
    ],
)  # fmt: skip
def test_bad_assignment_files_say_file_line_reason(app, tmp_path, old, new, where, reason):
    from academy.studio.loader import CourseFormatError, load_course

    assert old in ASSIGNMENT_FILE
    folder = course_folder(tmp_path, ASSIGNMENT_FILE.replace(old, new))
    with pytest.raises(CourseFormatError) as caught:
        load_course(folder)
    assert caught.value.source.endswith("02-more/02-product-photo.assignment.md")
    assert (caught.value.line, reason in caught.value.reason) == (where, True), str(caught.value)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0


# --------------------------------------------------------------------------- the pages


def upload(client, url: str, form: dict) -> tuple[int, str]:
    """POST a multipart form as the phone does; the response is closed (the test client keeps
    a big upload's body in a temporary file until then)."""
    response = client.post(url, data=form, content_type="multipart/form-data")
    try:
        return response.status_code, response.get_data(as_text=True)
    finally:
        response.close()
        response.request.input_stream.close()


def _token(page: str) -> str:
    import re

    return re.search(r'name="token" value="([^"]+)"', page).group(1)


def test_hand_in_review_hand_in_again_pass_through_the_pages(app, client, setup):
    course, assignment, learner, coach, _author = setup
    complete_lesson(learner, course.modules[0].lessons[0])
    client.login(learner)
    page = client.get(f"/assignments/{assignment.id}").get_data(as_text=True)
    assert 'accept="image/*" capture="environment"' in page and "แสงธรรมชาติ" in page
    form = {
        "token": _token(page),
        "links": "https://www.tiktok.com/@me/live/1\n",
        "photos": (io.BytesIO(photo_bytes((3000, 2000), gps=True)), "IMG_0001.JPG"),
    }
    assert upload(client, f"/assignments/{assignment.id}/hand-in", form)[0] == 302
    [submission] = db.session.scalars(select(Submission)).all()

    photo = client.get(f"/submissions/{submission.id}/photos/1")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in photo.headers["Cache-Control"]
    assert Image.open(io.BytesIO(photo.data)).size == (1600, 1067)
    photo.close()
    assert client.get(f"/submissions/{submission.id}/photos/2").status_code == 404

    client.logout().login(coach)
    queue = client.get("/reviews").get_data(as_text=True)
    assert f"/submissions/{submission.id}/review" in queue
    review_page = client.get(f"/submissions/{submission.id}/review").get_data(as_text=True)
    assert "tiktok.com" in review_page
    answer = {"c-light": "done", "c-background": "not_yet", "note-background": "ใช้ผ้าขาวรองพื้น",
              "c-extra": "not_yet", "comment": "เกือบแล้ว", "decision": "needs_changes"}  # fmt: skip
    assert client.post(f"/submissions/{submission.id}/review", data=answer).status_code == 302

    client.logout().login(learner)
    page = client.get(f"/assignments/{assignment.id}").get_data(as_text=True)
    assert "ใช้ผ้าขาวรองพื้น" in page and "เกือบแล้ว" in page
    assert "ส่งอีกครั้ง" in page  # "Hand in again", in Thai
    form = {
        "token": _token(page),
        "links": "https://www.tiktok.com/@me/live/2",
        "photos": (io.BytesIO(photo_bytes((800, 600))), "IMG_0002.JPG"),
    }
    assert upload(client, f"/assignments/{assignment.id}/hand-in", form)[0] == 302
    second = services.latest(assignment, learner.id)
    assert second.version == 2

    client.logout().login(coach)
    # The old version's review page says it is old; the new one passes.
    stale = client.post(
        f"/submissions/{submission.id}/review", data={**answer, "decision": "passed"}
    )
    assert stale.status_code == 400
    answer.update({"c-background": "done", "decision": "passed"})
    assert client.post(f"/submissions/{second.id}/review", data=answer).status_code == 302
    db.session.expire_all()
    assert db.session.get(CourseProgress, (learner.id, course.id)).completed_at is not None
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1

    client.logout().login(learner)
    mine = client.get("/assignments/mine").get_data(as_text=True)
    assert assignment.title_th in mine and "ผ่าน" in mine
    course_page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert f"/assignments/{assignment.id}" in course_page


def test_a_bad_photo_through_the_page_says_so_and_keeps_nothing(app, client, setup):
    _course, assignment, learner, *_ = setup
    client.login(learner)
    page = client.get(f"/assignments/{assignment.id}").get_data(as_text=True)
    form = {
        "token": _token(page),
        "links": "https://shopee.co.th/shop/1",
        "photos": [
            (io.BytesIO(photo_bytes((200, 100))), "good.jpg"),
            (io.BytesIO(b"MZ\x90\x00 an exe named like a photo"), "photo.jpg"),
        ],
    }
    status, page = upload(client, f"/assignments/{assignment.id}/hand-in", form)
    assert status == 400 and "photo.jpg ไม่ใช่รูปภาพ" in page
    assert count(Submission) == 0 and count(SubmissionPhoto) == 0


def test_a_double_tap_through_the_page_makes_one_version(app, client, setup):
    _course, assignment, learner, *_ = setup
    client.login(learner)
    token = _token(client.get(f"/assignments/{assignment.id}").get_data(as_text=True))
    for _ in range(2):
        form = {"token": token, "links": "https://shopee.co.th/shop/1",
                "photos": (io.BytesIO(photo_bytes((200, 100))), "a.jpg")}  # fmt: skip
        assert upload(client, f"/assignments/{assignment.id}/hand-in", form)[0] == 302
    assert count(Submission) == 1


def test_a_stranger_cannot_review_or_see_the_photo(app, client, setup, make_user):
    _course, assignment, learner, *_ = setup
    submission = hand_in(learner, assignment)
    client.login(make_user("instructor"))
    assert client.get(f"/submissions/{submission.id}/photos/1").status_code == 404
    assert (
        client.post(f"/submissions/{submission.id}/review", data={"decision": "passed"}).status_code
        == 404
    )
    assert count(Review) == 0


def test_in_a_sequential_course_a_handed_in_assignment_opens_the_next_item(
    app, make_course, make_assignment, learner
):
    course = make_course(modules=2, lessons=1, sequential=True)
    assignment = make_assignment(course, kinds=("text",))
    assignment.module_id = course.modules[0].id
    db.session.commit()
    enrol(learner, course)
    complete_lesson(learner, course.modules[0].lessons[0])

    def locked():
        items = flat_items(outline(course, learner_state(learner, course)))
        return [(i.kind, i.locked) for i in items]

    assert locked() == [("lesson", False), ("assignment", False), ("lesson", True)]
    services.hand_in(learner, assignment, token="a", text="งานของฉัน")
    db.session.commit()
    assert locked()[-1] == ("lesson", False)


# --------------------------------------------------------------------------- audit and feedback


def test_each_review_is_audited_with_its_decision(app, setup):
    from academy.core.models import AuditEntry

    _course, assignment, learner, coach, _author = setup
    first = hand_in(learner, assignment, token="a")
    review(coach, first, NOT_YET, passed=False, comment="แก้พื้นหลัง")
    second = hand_in(learner, assignment, token="b")
    review(coach, second)
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "submission.review").order_by(AuditEntry.id)
    ).all()
    assert [
        (e.target_id, e.actor_id, e.details["version"], e.details["passed"]) for e in entries
    ] == [
        (first.id, coach.id, 1, False),
        (second.id, coach.id, 2, True),
    ]
    assert entries[0].details["learner"] == learner.username
    assert entries[0].details["assignment"] == assignment.key


def test_a_refused_review_leaves_no_audit_entry(app, setup, make_user):
    from academy.core.models import AuditEntry

    _course, assignment, learner, _coach, _author = setup
    submission = hand_in(learner, assignment)
    with pytest.raises(ServiceError):
        services.review(make_user("instructor"), submission, results=TICKS_DONE, comment="x",
                        passed=True)  # fmt: skip
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_the_dashboard_tells_the_learner_about_feedback_until_they_answer_it(app, setup):
    from datetime import datetime, timedelta

    _course, assignment, learner, coach, _author = setup
    first = hand_in(learner, assignment, token="a")
    review(coach, first, NOT_YET, passed=False, comment="แก้พื้นหลัง")
    [shown] = services.feedback(learner)
    assert (shown.submission.id, shown.review.passed) == (first.id, False)
    # Handing in again answers it: version 1's "needs changes" is no longer news.
    second = hand_in(learner, assignment, token="b")
    assert services.feedback(learner) == []
    review(coach, second)
    reviewed = services.review_of(second).reviewed_at
    assert [f.submission.id for f in services.feedback(learner, reviewed + timedelta(days=6))] == [
        second.id
    ]
    assert services.feedback(learner, reviewed + timedelta(days=8)) == []
    assert isinstance(reviewed, datetime)


def test_the_dashboard_page_links_the_feedback(app, client, setup):
    _course, assignment, learner, coach, _author = setup
    review(coach, hand_in(learner, assignment), NOT_YET, passed=False, comment="แก้พื้นหลัง")
    client.login(learner)
    board = client.get("/dashboard").get_data(as_text=True)
    assert f'href="/assignments/{assignment.id}#hand-in-head"' in board
    assert "ต้องแก้ไข" in board  # "Needs changes", in Thai by default


def test_the_dashboard_shows_each_assignment_with_its_state_on_its_course(
    app, client, setup, make_assignment
):
    course, assignment, learner, coach, _author = setup
    second = make_assignment(course, kinds=("text",))
    client.login(learner)
    client.set_cookie("lang", "en")

    def states() -> list[tuple[int, str]]:
        board = client.get("/dashboard").get_data(as_text=True)
        shown = re.findall(
            r'<li><a href="/assignments/(\d+)">[^<]*</a> <span class="badge state-\w+">([^<]+)</span>',
            board,
        )
        return [(int(a), state) for a, state in shown]

    assert states() == [(assignment.id, "Not handed in"), (second.id, "Not handed in")]
    first = hand_in(learner, assignment, token="a")
    assert states()[0] == (assignment.id, "Waiting for review")
    review(coach, first, NOT_YET, passed=False)
    assert states()[0] == (assignment.id, "Needs changes")
    review(coach, hand_in(learner, assignment, token="b"))
    assert states() == [(assignment.id, "Passed"), (second.id, "Not handed in")]


def test_the_queue_filters_by_course(app, client, setup, make_course, make_assignment):
    _course, assignment, learner, coach, _author = setup
    other_course = make_course(modules=1, lessons=1, instructor=coach)
    enrol(learner, other_course)
    other_task = make_assignment(other_course, kinds=("photos", "links"))
    here, there = hand_in(learner, assignment, token="a"), hand_in(learner, other_task, token="b")
    assert {c.id for c in services.reviewable_courses(coach)} == {other_course.id}
    client.login(coach)
    page = client.get(f"/reviews?course={other_course.id}").get_data(as_text=True)
    assert (
        f"/submissions/{there.id}/review" in page and f"/submissions/{here.id}/review" not in page
    )
    assert f'<option value="{other_course.id}" selected>' in page


def _versions(learner, assignment, coach, count: int) -> None:
    """`count` versions, each but the last reviewed "needs changes"."""
    for n in range(count):
        submission = hand_in(learner, assignment, token=f"v{n}")
        if n < count - 1:
            review(coach, submission, NOT_YET, passed=False, comment="แก้อีกนิด")


def test_the_learner_page_and_the_queue_run_the_same_queries_for_2_or_6(
    app, client, setup, make_user, make_class, count_queries
):
    course, assignment, learner, coach, _author = setup
    _versions(learner, assignment, coach, 2)
    others = [make_user("learner") for _ in range(6)]
    make_class(instructor=coach, members=others)
    for person in others[:2]:
        enrol(person, course)
        hand_in(person, assignment, token=f"q-{person.id}")

    def measure(who, url):
        client.logout()
        client.login(who)
        with count_queries() as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    page_few, queue_few = (
        measure(learner, f"/assignments/{assignment.id}"),
        measure(coach, "/reviews"),
    )
    more = make_user("learner")
    enrol(more, course)
    make_class(instructor=coach, members=[more])
    _versions(more, assignment, coach, 6)
    for person in others[2:]:
        enrol(person, course)
        hand_in(person, assignment, token=f"q-{person.id}")
    assert measure(more, f"/assignments/{assignment.id}") == page_few
    assert measure(coach, "/reviews") == queue_few
