"""Percentages as people read them: one rule for every page that shows one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from academy.core.learning import shown_percent
from academy.progress.services import CourseStatus


@pytest.mark.parametrize(
    ("value", "complete", "shown"),
    [
        (12.5, False, 13),  # 1 of 8: Python's round() would say 12
        (2.5, False, 3),
        (87.5, False, 88),
        (33.3, False, 33),
        (66.7, False, 67),
        (99.6, False, 99),  # not done is never 100%
        (99.9, False, 99),
        (0.1, False, 1),  # something done is never 0%
        (0.4, False, 1),
        (0.0, False, 0),
        (None, False, 0),
        (100.0, False, 100),
        (87.5, True, 100),  # a finished course is 100%, whatever was added since
        (0.0, "2026-01-01", 100),
    ],
)
def test_shown_percent(value: float | None, complete: object, shown: int) -> None:
    assert shown_percent(value, complete) == shown


@given(st.integers(1, 5000), st.data())
def test_course_percent_is_100_only_when_every_item_is_done(total: int, data) -> None:
    done = data.draw(st.integers(0, total))
    status = CourseStatus(lesson_ids=list(range(total)), done_lesson_ids=set(range(done)))
    shown = shown_percent(status.percent)
    assert (shown == 100) is (done == total)
    assert (shown == 0) is (done == 0)
    assert abs(shown - 100 * done / total) <= 1
