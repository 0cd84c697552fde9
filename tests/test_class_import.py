"""CSV import of a class: encodings, delimiters, Thai headers, every problem with its row
number, all or nothing; and the sign-in cards PDF."""

from __future__ import annotations

import base64
import re
import subprocess

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from academy.auth.models import User
from academy.auth.services import verify_password
from academy.classes import importer
from academy.classes.models import ClassMember
from academy.courses.models import Enrolment
from academy.extensions import db
from tests.fixtures.files import read_pdf

GOOD = "username,full_name,password\nsomchai.k,สมชาย ใจดี,\nsuda.p,สุดา พรหมมา,secret-pass-1\n"


def users() -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.role == "learner"))


@pytest.fixture
def setup(make_user, make_class, make_class_course):
    teacher = make_user("instructor")
    course = make_class_course()
    klass = make_class(instructor=teacher, courses=[course])
    return teacher, klass, course


def plan_for(data: bytes, klass):
    plan = importer.parse(data)
    if not plan.problems:
        importer.check(plan, klass)
    return plan


@pytest.mark.parametrize(
    "data",
    [
        GOOD.encode(),
        b"\xef\xbb\xbf" + GOOD.encode(),
        GOOD.replace(",", ";").encode(),
        GOOD.replace(",", "\t").encode(),
        GOOD.replace("\n", "\r\n").encode("utf-8-sig"),
        "ชื่อผู้ใช้;ชื่อ-นามสกุล;รหัสผ่าน\nsomchai.k;สมชาย ใจดี;\nsuda.p;สุดา พรหมมา;secret-pass-1\n".encode(),
        # Names with commas survive when quoted, as Excel writes them.
        'username,full_name\nsomchai.k,"ใจดี, สมชาย"\nsuda.p,"สุดา ""น้อย"" พรหมมา"\n'.encode(),
    ],
    ids=["plain", "bom", "semicolon", "tab", "crlf-bom", "thai-headers", "quoted"],
)
def test_good_files_are_read(app, setup, data):
    _t, klass, _c = setup
    plan = plan_for(data, klass)
    assert plan.problems == []
    assert [r.username for r in plan.rows] == ["somchai.k", "suda.p"]
    assert all(r.line == i + 2 for i, r in enumerate(plan.rows))


BAD = [
    ("", [(None, "empty")]),
    ("username,full_name\n", [(None, "no learners")]),
    ("login,ชื่อเล่น\nabc,x\n", [(1, "Missing column: full_name")]),
    ("username,full_name\nab,สั้น\n", [(2, "Bad username ab")]),
    ("username,full_name\nสมชาย,สมชาย\n", [(2, "Bad username")]),
    ("username,full_name\nabc,\n", [(2, "Please enter a name")]),
    ("username,full_name\nabc," + "ก" * 201 + "\n", [(2, "at most 200")]),
    ("username,full_name\nabc,A\nxyz,B\nabc,C\n", [(4, "also on row 2")]),
    ("username,full_name,password\nabc,A,short\n", [(2, "at least 8")]),
    ("username,full_name\ntaken1,A\n", [(2, "already taken")]),
    ("username,full_name,school\nabc,A,โรงเรียนไม่มีจริง\n", [(2, "no school called")]),
]


@pytest.mark.parametrize(("text", "expected"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_every_problem_has_its_row_number(app, setup, make_user, text, expected):
    make_user("learner", username="taken1")
    _t, klass, _c = setup
    with force_locale("en"):
        plan = plan_for(text.encode(), klass)
        found = [(line, str(message)) for line, message in plan.problems]
    for line, fragment in expected:
        assert any(f_line == line and fragment.lower() in msg.lower() for f_line, msg in found), (
            found
        )


def test_too_many_rows(app, setup):
    _t, _klass, _c = setup
    rows = "".join(f"user{i:05d},คน {i}\n" for i in range(importer.MAX_ROWS + 1))
    with force_locale("en"):
        plan = importer.parse(("username,full_name\n" + rows).encode())
    assert plan.problems and plan.problems[0][0] == importer.MAX_ROWS + 2
    assert "10000" in str(plan.problems[0][1])


def test_thai_windows_encoding_is_refused_with_a_clear_message(app, setup):
    _t, klass, _c = setup
    with force_locale("en"):
        plan = plan_for("username,full_name\nabc,สมชาย ใจดี\n".encode("cp874"), klass)
    assert len(plan.problems) == 1 and "TIS-620" in str(plan.problems[0][1])
    with force_locale("en"):
        plan = plan_for("username,full_name\nabc,x\n".encode("utf-16"), klass)
    assert "UTF-16" in str(plan.problems[0][1])


def test_ten_thousand_rows_dry_run(app, setup, make_user):
    _t, klass, _c = setup
    make_user("learner", username="user05000")
    rows = "".join(f"user{i:05d},นักเรียน คนที่ {i}\n" for i in range(10_000))
    plan = plan_for(("\ufeffusername,full_name\n" + rows).encode(), klass)
    assert len(plan.rows) == 10_000
    assert [line for line, _m in plan.problems] == [5002]


def test_dry_run_page_then_confirm_imports_all_in_one_go(client, setup):
    teacher, klass, _course = setup
    client.login(teacher)
    response = client.post(
        f"/classes/{klass.id}/import",
        data={"file": (__import__("io").BytesIO(GOOD.encode("utf-8-sig")), "class.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "somchai.k" in page and "สุดา พรหมมา" in page
    assert users() == 0  # a dry run saves nothing
    data = re.search(r'name="data" value="([^"]+)"', page).group(1)
    response = client.post(f"/classes/{klass.id}/import/confirm", data={"data": data})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    somchai = db.session.scalar(select(User).where(User.username == "somchai.k"))
    suda = db.session.scalar(select(User).where(User.username == "suda.p"))
    temp = re.search(rf'name="pass-{somchai.id}" value="([a-z0-9]{{8}})"', page).group(1)
    assert verify_password(somchai, temp) and somchai.must_change_password
    assert verify_password(suda, "secret-pass-1") and not suda.must_change_password
    assert f'name="pass-{suda.id}"' not in page  # a given password is not printed
    assert somchai.school_id == klass.room.school_id
    members = set(db.session.scalars(select(ClassMember.user_id)))
    assert members == {somchai.id, suda.id}
    assert db.session.scalar(select(func.count()).select_from(Enrolment)) == 2


def test_nothing_is_half_imported(client, setup, make_user):
    """The dry run was clean, then someone took a username: the whole file is refused."""
    teacher, klass, _c = setup
    client.login(teacher)
    data = base64.b64encode(GOOD.encode()).decode()
    make_user("learner", username="suda.p")
    before = users()
    response = client.post(f"/classes/{klass.id}/import/confirm", data={"data": data})
    assert response.status_code == 400
    assert "suda.p" in response.get_data(as_text=True)
    assert users() == before
    assert db.session.scalar(select(func.count()).select_from(ClassMember)) == 0


def test_apply_rolls_back_as_a_whole(app, setup, make_user):
    """A clash found only by the database (unique username) undoes every row of the file."""
    _t, klass, _c = setup
    plan = plan_for(GOOD.encode(), klass)
    make_user("learner", username="suda.p")
    with pytest.raises(Exception):  # noqa: B017 - the database's IntegrityError
        importer.apply(plan, klass)
    db.session.rollback()
    assert db.session.scalar(select(User).where(User.username == "somchai.k")) is None


def test_bad_upload_page_shows_problems(client, setup):
    teacher, klass, _c = setup
    client.login(teacher)
    response = client.post(
        f"/classes/{klass.id}/import",
        data={"file": (__import__("io").BytesIO(b"username,full_name\nab,x\n"), "c.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert 'name="data"' not in response.get_data(as_text=True)


def test_cli_imports_and_writes_cards(app, runner, setup, tmp_path):
    _t, klass, _c = setup
    source = tmp_path / "class.csv"
    source.write_bytes(GOOD.encode("utf-8-sig"))
    cards, passwords = tmp_path / "cards.pdf", tmp_path / "passwords.csv"
    result = runner.invoke(
        args=["academy", "import-class", str(source), "--class", str(klass.id),
              "--cards", str(cards), "--passwords", str(passwords)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 learners imported" in result.output
    assert cards.read_bytes().startswith(b"%PDF")
    assert passwords.read_text(encoding="utf-8-sig").count("\n") == 2  # header + somchai
    bad = tmp_path / "bad.csv"
    bad.write_text("username,full_name\nsomchai.k,ซ้ำ\n")
    result = runner.invoke(args=["academy", "import-class", str(bad), "--class", str(klass.id)])
    assert result.exit_code != 0 and "row 2" in result.output


def test_sign_in_cards_pdf_has_thai_names(client, setup, make_user, tmp_path):
    teacher, klass, _c = setup
    pupils = [make_user("learner", full_name=f"เด็กหญิงสมศรี มีสุข {i}") for i in range(12)]
    from academy.classes import services

    services.add_members(klass, [p.id for p in pupils])
    db.session.commit()
    client.login(teacher)
    response = client.post(f"/classes/{klass.id}/reset-passwords")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    fields = dict(re.findall(r'name="(pass-\d+)" value="([a-z0-9]+)"', page))
    assert len(fields) == 12
    response = client.post(f"/classes/{klass.id}/cards", data=fields)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = tmp_path / "cards.pdf"
    pdf.write_bytes(response.data)
    text = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], capture_output=True, check=True
    ).stdout
    text = text.decode()
    assert "เด็กหญิงสมศรี มีสุข 3" in text
    assert fields[f"pass-{pupils[0].id}"] in text
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True).stdout.decode()
    assert re.search(r"Pages:\s+2", info)  # 12 cards, 10 per page


def test_each_sign_in_card_has_a_qr_of_the_sign_in_page_never_the_password(
    client, setup, make_user, tmp_path
):
    teacher, klass, _c = setup
    pupils = [make_user("learner") for _ in range(3)]
    from academy.classes import services

    services.add_members(klass, [p.id for p in pupils])
    db.session.commit()
    client.login(teacher)
    page = client.post(f"/classes/{klass.id}/reset-passwords").get_data(as_text=True)
    fields = dict(re.findall(r'name="(pass-\d+)" value="([a-z0-9]+)"', page))
    response = client.post(f"/classes/{klass.id}/cards", data=fields)
    _text, pages = read_pdf(response.data, tmp_path)
    expected = {f"http://localhost/sign-in?username={p.username}" for p in pupils}
    assert set(pages[0]) == expected and len(pages[0]) == 3
    assert not any(password in code for code in pages[0] for password in fields.values())
    # The scanned link opens the sign-in page with the username filled in.
    phone = client.application.test_client()
    form = phone.get(f"/sign-in?username={pupils[0].username}").get_data(as_text=True)
    assert f'value="{pupils[0].username}"' in form


def test_the_web_import_reports_its_progress_to_the_page(client, setup, app):
    from pathlib import Path

    from academy.core import progress

    teacher, klass, _c = setup
    client.login(teacher)
    token = "ab" * 16
    url = f"/classes/{klass.id}/import/progress/{token}"
    assert client.get(url).get_json() == {"done": 0, "total": 0}  # not started yet
    watched = Path(app.config["DATA_DIR"]) / "progress" / f"class-import-{klass.id}-{token}.json"
    step = progress.to_file(watched)("import-class: accounts", 200)
    step(100)
    assert client.get(url).get_json() == {"done": 100, "total": 200}
    assert client.get(f"/classes/{klass.id}/import/progress/not-a-token").status_code == 404
    data = base64.b64encode(GOOD.encode()).decode()
    response = client.post(
        f"/classes/{klass.id}/import/confirm", data={"data": data, "progress": token}
    )
    assert response.status_code == 200 and users() == 2
    assert not watched.exists()  # the import is over: nothing left to poll
