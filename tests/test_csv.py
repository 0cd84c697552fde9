"""The one CSV writer: every export has the BOM and no cell a spreadsheet would run."""

from __future__ import annotations

import csv
import io

import pytest

from academy.core.csv import csv_lines, safe_cell
from academy.reports.services import DIMENSIONS

EVIL_NAME = '=HYPERLINK("https://evil.example","click")'
EVIL_SCHOOL = "+cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("สมชาย", "สมชาย"),
        (-2, -2),
        (None, ""),
    ],
)
def test_formula_cells_are_guarded_numbers_are_not(value, expected):
    assert safe_cell(value) == expected


def test_the_writer_streams_with_a_bom():
    chunks = list(csv_lines(["a"], ([i] for i in range(1200))))
    assert chunks[0] == "\ufeff" and len(chunks) == 5


@pytest.fixture
def evil(make_user, make_school, make_room, make_class, make_class_course):
    teacher = make_user("instructor")
    school = make_school(name=EVIL_SCHOOL)
    learner = make_user("learner", full_name=EVIL_NAME, school_id=school.id)
    room = make_room(school=school, name="@room")
    course = make_class_course(title="-course")
    klass = make_class(instructor=teacher, members=[learner], courses=[course], room=room)
    return {"teacher": teacher, "class": klass, "course": course, "admin": make_user("admin")}


def _cells(response) -> list[str]:
    body = response.get_data()
    assert response.status_code == 200 and body.startswith("\ufeff".encode())
    return [cell for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for cell in row]


def _assert_guarded(cells: list[str], *expected: str) -> None:
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    for value in expected:
        assert "'" + value in cells


@pytest.mark.parametrize("report", [*DIMENSIONS, "learners"])
def test_every_report_export_is_guarded(client, evil, report):
    client.login(evil["admin"])
    cells = _cells(client.get(f"/reports/export.csv?report={report}"))
    expected = {"school": [EVIL_SCHOOL], "course": ["-course"]}
    expected["learners"] = [EVIL_SCHOOL, EVIL_NAME]
    _assert_guarded(cells, *expected.get(report, []))


def test_the_gradebook_export_is_guarded(client, evil):
    client.login(evil["teacher"])
    url = f"/classes/{evil['class'].id}/gradebook.csv?course={evil['course'].id}"
    _assert_guarded(_cells(client.get(url)), EVIL_NAME)
