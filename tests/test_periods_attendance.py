"""Attendance beyond one period (issue 14): a class's month on the teacher's page and as CSV,
and the admin report by school and by computer room, read in a fixed number of statements."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from academy.extensions import db
from academy.periods import attendance, services
from academy.periods.models import EXCUSED, LATE, Attendance
from academy.progress.models import ProgressEvent
from academy.reports import attendance as report

# 1 December 2026, 08:30 in Bangkok (the evening of 30 November in UTC): the month is
# December's, as the school sees it.
MORNING = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)


def seen(learner, room, minutes: int) -> None:
    """The learner opened a lesson this many minutes after the period began."""
    db.session.add(
        ProgressEvent(
            user_id=learner.id,
            course_id=room.course.id,
            kind="lesson_viewed",
            at=room.started + timedelta(minutes=minutes),
        )
    )


@pytest.fixture
def december(room_period, make_school, make_room):
    """Two classes in two schools, three periods in December and one in November:
    school A's class (3 learners) met twice, school B's (2 learners) once."""
    a = room_period(learners=3, now=MORNING)
    first, second, third = a.learners
    seen(first, a, 2)  # present
    seen(second, a, 25)  # late
    # third: never seen: absent
    db.session.commit()
    services.end(a.period, now=MORNING + timedelta(minutes=45))
    again = services.start(
        a.klass, a.teacher, [c.value for c in services.choices_for(a.klass)],
        now=MORNING + timedelta(days=1),
    )  # fmt: skip
    db.session.flush()
    db.session.add(Attendance(period_id=again.id, user_id=third.id, status=EXCUSED, note="=ป่วย"))
    services.end(again, now=MORNING + timedelta(days=1, minutes=45))
    b = room_period(learners=2, now=MORNING + timedelta(hours=2))
    seen(b.learners[0], b, 1)
    db.session.commit()
    services.end(b.period, now=b.started + timedelta(minutes=45))
    november = room_period(learners=1, now=MORNING - timedelta(days=2))
    db.session.commit()
    return a, again, b, november


def test_a_class_month_on_the_teachers_page(client, december):
    a, again, _b, _nov = december
    client.login(a.teacher)
    page = client.get(f"/classes/{a.klass.id}/attendance?month=2026-12").get_data(as_text=True)
    assert "การเข้าเรียนรายเดือน" in page  # "Attendance by month"
    assert f"/classes/{a.klass.id}/periods/{again.id}/attendance" in page
    grid = attendance.class_month(a.klass, "2026-12", MORNING + timedelta(days=3))
    assert [p.id for p in grid.periods] == [a.period.id, again.id]
    first, second, third = a.learners
    assert [grid.mark(p, second).status for p in grid.periods] == [LATE, "absent"]
    assert grid.totals(third) == {"present": 0, "late": 0, "absent": 1, "excused": 1}
    assert grid.totals(first)["present"] == 1
    november = client.get(f"/classes/{a.klass.id}/attendance?month=2026-11")
    assert "ไม่มีคาบเรียนในเดือนนี้" in november.get_data(as_text=True)
    client.post("/language", data={"language": "en"})
    bad = client.get(f"/classes/{a.klass.id}/attendance?month=2026-13")
    assert bad.status_code == 400 and "YYYY-MM" in bad.get_data(as_text=True)


def test_a_class_month_reads_in_fixed_statements(client, december, count_queries):
    a, *_rest = december
    counts = []
    for month in ("2026-11", "2026-12"):  # no period, then two periods of three learners
        with count_queries() as queries:
            attendance.class_month(a.klass, month, MORNING + timedelta(days=3))
        counts.append(len(queries))
    # the class (reloaded), its periods, its members; with periods also their start times,
    # the member pairs, the corrections and the three sources of "first seen"
    assert counts == [3, 9], counts


def test_the_admin_report_by_school_and_by_room(client, december, make_user):
    a, _again, b, _nov = december
    now = MORNING + timedelta(days=3)
    by_school = {r.label: r for r in report.attendance("school", "2026-12", now)}
    school_a = a.klass.room.school.name
    school_b = b.klass.room.school.name
    assert set(by_school) == {school_a, school_b}  # November's period is not December's
    row = by_school[school_a]
    assert len(row.periods) == 2 and row.marks == 6
    assert row.counts == {"present": 1, "late": 1, "absent": 3, "excused": 1}
    assert row.rate == pytest.approx(2 / 6)
    assert by_school[school_b].counts == {"present": 1, "late": 0, "absent": 1, "excused": 0}
    by_room = [r.label for r in report.attendance("room", "2026-12", now)]
    assert f"{school_a} · {a.klass.room.name}" in by_room
    only_b = report.attendance("school", "2026-12", now, school_id=b.klass.room.school_id)
    assert [r.label for r in only_b] == [school_b]
    admin = make_user("admin")
    client.login(admin)
    page = client.get("/reports/attendance?by=room&month=2026-12&school=").get_data(as_text=True)
    assert a.klass.room.name in page and "อัตราการเข้าเรียน" in page
    school = b.klass.room.school_id
    only = client.get(f"/reports/attendance?month=2026-12&school={school}").get_data(as_text=True)
    assert f'<option value="{school}" selected>' in only
    assert f'<th scope="row">{school_b}</th>' in only
    assert f'<th scope="row">{school_a}</th>' not in only
    response = client.get("/reports/export.csv?report=attendance&by=school&month=2026-12")
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert lines[0] == ["school", *report.CSV_HEADER]
    assert [school_a, "2", "1", "1", "3", "1", "0.3333"] in lines
    assert client.get("/reports/attendance?by=track").status_code == 404
    client.post("/language", data={"language": "en"})
    bad = client.get("/reports/attendance?month=december")
    assert bad.status_code == 400 and "YYYY-MM" in bad.get_data(as_text=True)


def test_the_admin_report_reads_a_month_in_fixed_statements(client, december, count_queries):
    now = MORNING + timedelta(days=3)
    with count_queries() as one_month:
        report.attendance("school", "2026-11", now)
    with count_queries() as busier:
        report.attendance("school", "2026-12", now)
    assert len(one_month) == len(busier) == 7, (one_month, busier)


def test_the_class_csv_keeps_the_note_and_guards_formulas(client, december):
    a, *_rest = december
    client.login(a.teacher)
    text = client.get(f"/classes/{a.klass.id}/attendance.csv?month=2026-12").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    third = a.learners[2]
    assert ["2026-12-02", "08:30", third.full_name, third.username, "ลา", "'=ป่วย"] in rows
    assert len(rows) == 1 + 2 * 3  # the header, two periods of three learners
