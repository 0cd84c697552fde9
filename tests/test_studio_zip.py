"""A course as one ZIP in the studio: the download is the command line's export byte for byte,
an upload creates or updates a course all or nothing, and hostile ZIPs are refused with a
message naming the problem."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from academy import ROOT
from academy.core.models import AuditEntry
from academy.courses import services
from academy.courses.models import Course, CourseInstructor, Lesson
from academy.extensions import db
from academy.studio.loader import load_course
from tests.fixtures.files import raw_zip, zeros_deflated

STARTER = ROOT / "courses" / "tiktok-shop-starter"


def _zip_folder(folder: Path, top: str | None = "course") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                name = path.relative_to(folder).as_posix()
                archive.write(path, f"{top}/{name}" if top else name)
    return out.getvalue()


def _zip_of(entries: dict[str, bytes], base: bytes | None = None) -> bytes:
    """The starter course's ZIP with entries added (name -> bytes)."""
    out = io.BytesIO(base or _zip_folder(STARTER))
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def _upload(client, data: bytes, action: str = "save"):
    # Encoded in memory: the test client would spool a large body to a temporary file that
    # nothing closes (a ResourceWarning).
    upload = FileStorage(io.BytesIO(data), filename="course.zip", content_type="application/zip")
    fields = {"file": upload, "action": action}
    boundary, body = encode_multipart({**fields, "csrf_token": client.csrf_token()})
    return client.post(
        "/studio/courses/upload",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        csrf=False,
    )


def _files_of_zip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {i.filename: archive.read(i) for i in archive.infolist()}


def _courses() -> int:
    return db.session.scalar(select(func.count(Course.id)))


def test_download_is_the_command_line_export_byte_for_byte(client, runner, make_user, tmp_path):
    teacher = make_user("instructor")
    course = load_course(STARTER)
    db.session.add(CourseInstructor(course_id=course.id, user_id=teacher.id))
    db.session.commit()
    client.login(teacher)
    response = client.get(f"/studio/courses/{course.id}/course.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{course.slug}.zip"'
    assert response.headers["Cache-Control"] == "no-store"
    result = runner.invoke(args=["academy", "export-course", course.slug, str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    exported = {
        f"{course.slug}/{p.relative_to(tmp_path / 'out').as_posix()}": p.read_bytes()
        for p in (tmp_path / "out").rglob("*")
        if p.is_file()
    }
    assert _files_of_zip(response.data) == exported
    # The same course gives the same bytes (fixed dates and modes): a ZIP kept in git does not
    # change when nothing did.
    assert client.get(f"/studio/courses/{course.id}/course.zip").data == response.data


def test_a_zip_round_trip_updates_the_course_and_keeps_progress(client, make_user):
    teacher = make_user("instructor")
    client.login(teacher)
    response = _upload(client, _zip_folder(STARTER))
    assert response.status_code == 302, response.get_data(as_text=True)
    course = services.course_by_slug("tiktok-shop-starter")
    assert response.location.endswith(f"/studio/courses/{course.id}")
    assert db.session.get(CourseInstructor, (course.id, teacher.id)) is not None
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "course.upload_zip")
    ).one()
    assert entry.actor_id == teacher.id and entry.details["created"] is True
    lesson_ids = set(db.session.scalars(select(Lesson.id).where(Lesson.course_id == course.id)))
    learner = make_user()
    client.login(learner)
    client.post(f"/courses/{course.slug}/enrol")
    client.post(f"/courses/{course.slug}/lessons/shop-setup-account/done")
    client.login(teacher)
    downloaded = client.get(f"/studio/courses/{course.id}/course.zip").data
    response = _upload(client, downloaded)
    assert response.status_code == 302
    db.session.expire_all()
    assert set(db.session.scalars(select(Lesson.id).where(Lesson.course_id == course.id))) == (
        lesson_ids
    )
    assert client.get(f"/studio/courses/{course.id}/course.zip").data == downloaded
    client.login(learner)
    page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert "done" in page and _courses() == 1


STARTERS = sorted(p for p in (ROOT / "courses").glob("*") if (p / "course.yml").is_file())


@pytest.mark.parametrize("folder", STARTERS, ids=[p.name for p in STARTERS])
def test_a_studio_round_trip_of_a_starter_course_is_byte_identical_with_git(
    client, make_user, folder
):
    client.login(make_user("instructor"))
    assert _upload(client, _zip_folder(folder, top=folder.name)).status_code == 302
    course = services.course_by_slug(folder.name)
    downloaded = _files_of_zip(client.get(f"/studio/courses/{course.id}/course.zip").data)
    in_git = {
        f"{folder.name}/{p.relative_to(folder).as_posix()}": p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file()
    }
    assert downloaded == in_git


def test_check_only_stores_nothing_and_says_what_it_would_do(client, make_user):
    client.login(make_user("instructor"))
    response = _upload(client, _zip_folder(STARTER, top=None), action="check")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "ไม่พบปัญหา" in page and "tiktok-shop-starter" in page
    assert _courses() == 0


def test_a_zip_of_another_instructors_course_is_refused(client, make_user):
    owner, other = make_user("instructor"), make_user("instructor")
    client.login(owner)
    assert _upload(client, _zip_folder(STARTER)).status_code == 302
    client.login(other)
    response = _upload(client, _zip_folder(STARTER))
    assert response.status_code == 400
    assert "เป็นของผู้สอนคนอื่น" in response.get_data(as_text=True)
    course = services.course_by_slug("tiktok-shop-starter")
    assert db.session.get(CourseInstructor, (course.id, other.id)) is None


def test_a_course_problem_names_its_file_and_line_and_nothing_is_saved(client, make_user):
    client.login(make_user("instructor"))
    broken = _zip_of(
        {"course/01-shop-setup/09-broken.md": "---\nid: broken\ntitle: [\n---\nbody\n"}
    )
    response = _upload(client, broken)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "course/01-shop-setup/09-broken.md:3: YAML cannot be read" in page
    assert _courses() == 0
    # Every broken file at once, one a line, in the check-only run.
    twice = _zip_of({"course/02-product-photos/09-broken.md": "---\nid: [x\n---\n"}, broken)
    page = _upload(client, twice, action="check").get_data(as_text=True)
    assert page.count("<li>course/") == 2 and "02-product-photos/09-broken.md:2:" in page


def _symlink_zip() -> bytes:
    out = io.BytesIO(_zip_folder(STARTER))
    with zipfile.ZipFile(out, "a") as archive:
        info = zipfile.ZipInfo("course/assets/passwd")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    return out.getvalue()


def _many_entries() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for n in range(100_000):
            archive.writestr(f"course/assets/{n}.txt", b"")
    return out.getvalue()


def _gigabyte_bomb() -> bytes:
    data = zeros_deflated(1024)
    return raw_zip([("course/assets/zeros.txt", data, 0, len(data), 1 << 30)])


def _lying_bomb() -> bytes:
    # Says it holds 10 bytes; the data expands to 64 MiB.
    data = zeros_deflated(64)
    return _zip_of({}, raw_zip([("course/assets/small.txt", data, 0, len(data), 10)]))


HOSTILE = {
    "traversal": (lambda: _zip_of({"../../etc/passwd": b"root:x:0:0"}), "../../etc/passwd: a path that leaves the course folder"),
    "absolute": (lambda: _zip_of({"/etc/passwd": b"root:x:0:0"}), "/etc/passwd: an absolute path"),
    "symlink": (_symlink_zip, "course/assets/passwd: a link"),
    "100000 entries": (_many_entries, "100000"),
    "1 GB expansion": (_gigabyte_bomb, "1073741824 bytes"),
    "lying sizes": (_lying_bomb, "course/assets/small.txt: damaged"),
    "not a zip": (lambda: b"PK\x03\x04 not really", "ไม่ใช่ไฟล์ ZIP"),
}  # fmt: skip


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_zips_are_refused_with_the_problem_named(client, make_user, tmp_path, case):
    build, message = HOSTILE[case]
    client.login(make_user("instructor"))
    response = _upload(client, build())
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page.replace("&#39;", "'"), page[-3000:]
    assert "ไม่มีการบันทึกใด ๆ" in page
    assert _courses() == 0
