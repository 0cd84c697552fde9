"""Grading: table-driven cases for every question type, Thai text matching, forged responses."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from academy.quizzes.gift import parse_gift
from academy.quizzes.grading import (
    NOT_A_NUMBER,
    AttemptScore,
    GradeResult,
    ManualGrade,
    ResponseError,
    grade,
    matches_answer,
    normalise_text,
    parse_number,
    readable_answer,
    score_attempt,
)
from academy.quizzes.questions import Question


def q(gift: str) -> Question:
    (question,) = parse_gift(gift).questions
    return question


SINGLE = q("::s:: x {=right#yes ~%50%half ~%-50%costly#no ~wrong ####general}")
MULTIPLE = q("::m:: x {~%50%a#fa ~%50%b ~%-100%c#fc ~d}")
THIRDS = q("::m:: x {~%33.33333%a ~%33.33333%b ~%33.33333%c ~%-50%d}")
TRUE_Q = q("::t:: x {T#wrong#right}")
FALSE_Q = q("::t:: x {FALSE#wrong#right}")
SHORT = q("::s:: x {=น้ำ#เยี่ยม =%50%น้ำเปล่า#เกือบ =Café =New  York =ที่นี่ =แม่ค้า =%-50%ไฟ =%50%ไฟ}")
WILD = q("::w:: x {=colo*r =%50%New *#ใกล้แล้ว =น้ำ*#น้ำ =a\\*b =%0%*#ลองใหม่}")
NUMERICAL = q("::n:: x {#\n =5:0.5#exact\n =%50%5:2#close\n =%25%100..200\n ~#nope\n}")
MATCHING = q("::m:: x {=Canada -> Ottawa =Italy -> Rome =Japan -> Tokyo = -> Bangkok}")
SAME_RIGHT = q("::m:: x {=cat -> animal =dog -> animal =rose -> plant}")
MISSING_CHOICE = q("::w:: ฉันชอบ{=กิน ~นอน#ไม่ใช่}ข้าว")
MISSING_SHORT = q("::w:: ฉันชอบ{=กิน =%50%ทาน}ข้าว")
ESSAY = q("::e:: เล่าเรื่อง {####ครูจะตรวจ}")
DESCRIPTION = q("::d:: ส่วนที่ 1")

GRADE_CASES = [
    # single choice: the chosen answer's weight, never below zero
    ("single", SINGLE, 0, 1.0, True, ("yes", "general")),
    ("single", SINGLE, 1, 0.5, False, ("general",)),
    ("single", SINGLE, 2, 0.0, False, ("no", "general")),  # -50% floored at 0
    ("single", SINGLE, 3, 0.0, False, ("general",)),
    ("single", SINGLE, None, 0.0, False, ("general",)),
    # multiple response: sum of picks, floored at 0 and capped at 1
    ("multiple", MULTIPLE, {0, 1}, 1.0, True, ("fa",)),
    ("multiple", MULTIPLE, [1, 0], 1.0, True, ("fa",)),
    ("multiple", MULTIPLE, (0,), 0.5, False, ("fa",)),
    ("multiple", MULTIPLE, frozenset({0, 1, 3}), 1.0, True, ("fa",)),
    ("multiple", MULTIPLE, {0, 1, 2}, 0.0, False, ("fa", "fc")),  # a wrong pick costs
    ("multiple", MULTIPLE, {0, 2}, 0.0, False, ("fa", "fc")),  # -50% total floored
    ("multiple", MULTIPLE, {3}, 0.0, False, ()),
    ("multiple", MULTIPLE, set(), 0.0, False, ()),
    ("multiple", MULTIPLE, None, 0.0, False, ()),
    ("multiple", THIRDS, {0, 1, 2}, 1.0, True, ()),  # 99.99999% is full marks
    ("multiple", THIRDS, {0, 1}, 0.6666666, False, ()),
    ("multiple", THIRDS, {0, 1, 2, 3}, 0.4999999, False, ()),
    # true/false: feedback for the answer the learner gave
    ("truefalse", TRUE_Q, True, 1.0, True, ("right",)),
    ("truefalse", TRUE_Q, False, 0.0, False, ("wrong",)),
    ("truefalse", FALSE_Q, False, 1.0, True, ("right",)),
    ("truefalse", FALSE_Q, True, 0.0, False, ("wrong",)),
    ("truefalse", TRUE_Q, None, 0.0, False, ()),
    # short answer: the first matching answer, text normalised
    ("short", SHORT, "น้ำ", 1.0, True, ("เยี่ยม",)),
    ("short", SHORT, "น้ำเปล่า", 0.5, False, ("เกือบ",)),
    ("short", SHORT, "ไฟ", 0.0, False, ()),  # the first match (-50%) decides, as in Moodle
    ("short", SHORT, "ฟ้า", 0.0, False, ()),
    ("short", SHORT, "", 0.0, False, ()),
    ("short", SHORT, "   ", 0.0, False, ()),
    ("short", SHORT, "\u200b", 0.0, False, ()),
    ("short", SHORT, None, 0.0, False, ()),
    # short answer: Moodle's `*` wildcard, with the same normalisation on both sides
    ("short", WILD, "colour", 1.0, True, ()),
    ("short", WILD, "COLOR", 1.0, True, ()),
    ("short", WILD, "colr", 0.0, False, ("ลองใหม่",)),
    ("short", WILD, "Newcastle", 0.0, False, ("ลองใหม่",)),  # the space before * counts
    ("short", WILD, "new  york", 0.5, False, ("ใกล้แล้ว",)),
    ("short", WILD, "น\u0e33\u0e49เปล่า", 1.0, True, ("น้ำ",)),  # tone after SARA AM
    ("short", WILD, "a*b", 1.0, True, ()),  # \* is a star itself
    ("short", WILD, "axb", 0.0, False, ("ลองใหม่",)),
    ("short", WILD, "", 0.0, False, ()),  # unanswered is not "any other answer"
    ("short", q("::s:: x {=%50%col* =colour}"), "colour", 0.5, False, ()),  # first match
    ("missingword", q("::w:: ฉัน{=ก*น =%0%*#ผิด}ข้าว"), "กิน", 1.0, True, ()),
    ("missingword", q("::w:: ฉัน{=ก*น =%0%*#ผิด}ข้าว"), "นอน", 0.0, False, ("ผิด",)),
    # numerical: inclusive tolerance edges and ranges, best answer
    ("numerical", NUMERICAL, "5", 1.0, True, ("exact",)),
    ("numerical", NUMERICAL, "5.5", 1.0, True, ("exact",)),
    ("numerical", NUMERICAL, "4.5", 1.0, True, ("exact",)),
    ("numerical", NUMERICAL, "5.50001", 0.5, False, ("close",)),
    ("numerical", NUMERICAL, "3", 0.5, False, ("close",)),
    ("numerical", NUMERICAL, "7", 0.5, False, ("close",)),
    ("numerical", NUMERICAL, "2.999", 0.0, False, ("nope",)),
    ("numerical", NUMERICAL, "100", 0.25, False, ()),
    ("numerical", NUMERICAL, "200", 0.25, False, ()),
    ("numerical", NUMERICAL, "200.0001", 0.0, False, ("nope",)),
    ("numerical", NUMERICAL, "๕", 1.0, True, ("exact",)),
    ("numerical", NUMERICAL, "๔.๕", 1.0, True, ("exact",)),
    ("numerical", NUMERICAL, "５", 1.0, True, ("exact",)),
    ("numerical", NUMERICAL, " 5 ", 1.0, True, ("exact",)),
    ("numerical", NUMERICAL, "5,5", 1.0, True, ("exact",)),
    ("numerical", NUMERICAL, "+5e0", 1.0, True, ("exact",)),
    ("numerical", NUMERICAL, "\u22125", 0.0, False, ("nope",)),
    ("numerical", NUMERICAL, "abc", 0.0, False, (NOT_A_NUMBER,)),
    ("numerical", NUMERICAL, "5 บาท", 0.0, False, (NOT_A_NUMBER,)),
    ("numerical", NUMERICAL, "5.5.5", 0.0, False, (NOT_A_NUMBER,)),
    ("numerical", NUMERICAL, "", 0.0, False, ()),
    ("numerical", NUMERICAL, None, 0.0, False, ()),
    ("numerical", q("::n:: x {#1.1:0.1}"), "1.0", 1.0, True, ()),  # float maths would miss
    ("numerical", q("::n:: x {#1.1:0.1}"), "1.2", 1.0, True, ()),
    ("numerical", q("::n:: x {#0.1..0.3}"), "0.3", 1.0, True, ()),
    ("numerical", q("::n:: x {#0.1..0.3}"), "0.1", 1.0, True, ()),
    ("numerical", q("::n:: x {#1500}"), "1,500", 1.0, True, ()),
    ("numerical", q("::n:: x {#1500}"), "1,500.00", 1.0, True, ()),
    ("numerical", q("::n:: x {#-2.5}"), "-2,5", 1.0, True, ()),
    # matching: share of pairs right; right side by text or by index of match_choices()
    ("matching", MATCHING, {0: "Ottawa", 1: "Rome", 2: "Tokyo"}, 1.0, True, ()),
    ("matching", MATCHING, {0: 0, 1: 1, 2: 2}, 1.0, True, ()),
    ("matching", MATCHING, {0: "Ottawa", 1: "Bangkok"}, 1 / 3, False, ()),
    ("matching", MATCHING, {"0": "Ottawa", "1": 1, "2": "Tokyo"}, 1.0, True, ()),  # from JSON
    ("matching", MATCHING, {0: "Rome", 1: "Ottawa", 2: "Tokyo"}, 1 / 3, False, ()),
    ("matching", MATCHING, {0: 3, 1: 3, 2: 3}, 0.0, False, ()),
    ("matching", MATCHING, {}, 0.0, False, ()),
    ("matching", MATCHING, None, 0.0, False, ()),
    ("matching", SAME_RIGHT, {0: "animal", 1: "animal", 2: "plant"}, 1.0, True, ()),
    ("matching", SAME_RIGHT, {0: 0, 1: 1, 2: 1}, 2 / 3, False, ()),
    # missing word: as its choice or short-answer kind
    ("missingword", MISSING_CHOICE, 0, 1.0, True, ()),
    ("missingword", MISSING_CHOICE, 1, 0.0, False, ("ไม่ใช่",)),
    ("missingword", MISSING_SHORT, " กิน ", 1.0, True, ()),
    ("missingword", MISSING_SHORT, "ทาน", 0.5, False, ()),
    ("missingword", MISSING_SHORT, "นอน", 0.0, False, ()),
]


@pytest.mark.parametrize(
    ("kind", "question", "response", "fraction", "correct", "feedback"),
    GRADE_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(GRADE_CASES)],
)
def test_grade(
    kind: str,
    question: Question,
    response: object,
    fraction: float,
    correct: bool,
    feedback: tuple[str, ...],
) -> None:
    assert question.type == kind
    result = grade(question, response)
    assert result.fraction == pytest.approx(fraction, abs=1e-9)
    assert 0.0 <= result.fraction <= 1.0
    assert result.correct is correct
    assert result.needs_manual is False
    assert result.feedback == feedback


# Thai and Unicode normalisation of short answers (answers: น้ำ, Café, New York, ที่นี่, แม่ค้า)
SHORT_MATCH_CASES = [
    ("sara-am-composed", "น\u0e49\u0e33"),
    ("sara-am-decomposed", "น\u0e49\u0e4d\u0e32"),
    ("sara-am-before-tone", "น\u0e33\u0e49"),
    ("nikhahit-before-tone", "น\u0e4d\u0e49\u0e32"),
    ("tone-typed-twice", "น\u0e49\u0e49\u0e33"),
    ("zero-width-space", "\u200bน้ำ\u200b"),
    ("zero-width-joiner-inside", "น\u200d้ำ"),
    ("spaces-around", "  น้ำ \t"),
    ("tone-before-vowel", "ท\u0e48\u0e35น\u0e35\u0e48"),
    ("vowel-before-tone", "ท\u0e35\u0e48น\u0e35\u0e48"),
    ("sara-e-twice-for-sara-ae", "\u0e40\u0e40ม่ค้า"),
    ("latin-nfd", "Cafe\u0301"),
    ("latin-nfc", "Caf\u00e9"),
    ("latin-case", "CAFÉ"),
    ("full-width", "Ｃａｆé"),
    ("internal-spaces", "new york"),
    ("tab-and-nbsp", "NEW\t\u00a0YORK"),
    ("soft-hyphen", "New Yo\u00adrk"),
]


@pytest.mark.parametrize(("case", "typed"), SHORT_MATCH_CASES)
def test_short_answer_normalisation_accepts(case: str, typed: str) -> None:
    assert grade(SHORT, typed).fraction == 1.0, case


SHORT_MISMATCH_CASES = [
    ("accent-matters", "Cafe"),
    ("different-tone", "น๊ำ"),
    ("missing-tone", "นำ"),
    ("extra-letter", "น้ำา"),
    ("words-run-together", "NewYork"),
]


@pytest.mark.parametrize(("case", "typed"), SHORT_MISMATCH_CASES)
def test_short_answer_normalisation_rejects(case: str, typed: str) -> None:
    assert grade(SHORT, typed).fraction == 0.0, case


NORMALISE_CASES = [
    ("น\u0e33\u0e49", "น\u0e49\u0e33"),
    ("ก\u0e48\u0e34", "ก\u0e34\u0e48"),
    ("  A  b\u3000C ", "a b c"),
    ("Straße", "strasse"),
    ("\ufeffx\u2060", "x"),
]


@pytest.mark.parametrize(("text", "expected"), NORMALISE_CASES)
def test_normalise_text(text: str, expected: str) -> None:
    assert normalise_text(text) == expected


NUMBER_CASES = [
    ("5", Decimal(5)),
    ("-5", Decimal(-5)),
    ("\u22125", Decimal(-5)),
    ("๑๒.๕", Decimal("12.5")),
    ("1,234,567.5", Decimal("1234567.5")),
    ("3,5", Decimal("3.5")),
    ("0,250", Decimal("0.25")),
    (".5", Decimal("0.5")),
    ("1e3", Decimal(1000)),
    ("1,2,3", None),
    ("1 000", None),
    ("12,34.5", None),
    ("inf", None),
    ("nan", None),
    ("1e99999", None),
    ("", None),
    ("five", None),
]


@pytest.mark.parametrize(("text", "expected"), NUMBER_CASES)
def test_parse_number(text: str, expected: Decimal | None) -> None:
    assert parse_number(text) == expected


# --------------------------------------------------------------------------- manual grading


@pytest.mark.parametrize("response", ["ร้านของฉันขายผ้าไหม", "", None])
def test_essay_needs_manual_grading(response: str | None) -> None:
    assert grade(ESSAY, response) == GradeResult(0.0, None, True, ("ครูจะตรวจ",))


def test_description_is_not_scored() -> None:
    assert grade(DESCRIPTION, None) == GradeResult(None, None, False, ())


MANUAL_CASES = [
    (ESSAY, ManualGrade(0.5, "ดีมาก"), GradeResult(0.5, False, False, ("ดีมาก", "ครูจะตรวจ"))),
    (ESSAY, ManualGrade(1), GradeResult(1.0, True, False, ("ครูจะตรวจ",))),
    (SINGLE, ManualGrade(0.25), GradeResult(0.25, False, False, ("general",))),
]


@pytest.mark.parametrize(("question", "manual", "expected"), MANUAL_CASES)
def test_manual_grade(question: Question, manual: ManualGrade, expected: GradeResult) -> None:
    assert grade(question, manual) == expected


# --------------------------------------------------------------------------- forged responses

FORGED_CASES = [
    ("single", SINGLE, 4, "does not exist"),
    ("single", SINGLE, -1, "does not exist"),
    ("single", SINGLE, True, "whole-number index"),
    ("single", SINGLE, "0", "whole-number index"),
    ("single", SINGLE, 1.0, "whole-number index"),
    ("single", SINGLE, [0], "whole-number index"),
    ("multiple", MULTIPLE, {5}, "does not exist"),
    ("multiple", MULTIPLE, [0, 0], "picked twice"),
    ("multiple", MULTIPLE, "0,1", "set or list"),
    ("multiple", MULTIPLE, 0, "set or list"),
    ("multiple", MULTIPLE, {True}, "whole-number index"),
    ("multiple", MULTIPLE, {0: True}, "set or list"),
    ("truefalse", TRUE_Q, 1, "True or False"),
    ("truefalse", TRUE_Q, "true", "True or False"),
    ("short", SHORT, 5, "must be text"),
    ("short", SHORT, ["น้ำ"], "must be text"),
    ("short", SHORT, b"nam", "must be text"),
    ("short", SHORT, "น" * 2001, "longer than"),
    ("numerical", NUMERICAL, 5, "must be text"),
    ("numerical", NUMERICAL, 5.0, "must be text"),
    ("matching", MATCHING, [(0, "Ottawa")], "must map"),
    ("matching", MATCHING, {0: "Paris"}, "not one of the choices"),
    ("matching", MATCHING, {3: "Bangkok"}, "extra choice"),
    ("matching", MATCHING, {9: "Ottawa"}, "does not exist"),
    ("matching", MATCHING, {"x": "Ottawa"}, "whole-number index"),
    ("matching", MATCHING, {"01": "Ottawa"}, "whole-number index"),
    ("matching", MATCHING, {"-1": "Ottawa"}, "whole-number index"),
    ("matching", MATCHING, {"9": "Ottawa"}, "does not exist"),
    ("matching", MATCHING, {0: "Ottawa", "0": "Ottawa"}, "answered twice"),
    ("matching", MATCHING, {True: "Ottawa"}, "whole-number index"),
    ("matching", MATCHING, {0: 9}, "does not exist"),
    ("matching", MATCHING, {0: None}, "whole-number index"),
    ("missingword", MISSING_CHOICE, 2, "does not exist"),
    ("missingword", MISSING_SHORT, 0, "must be text"),
    ("essay", ESSAY, 5, "must be text"),
    ("essay", ESSAY, "x" * 200_001, "longer than"),
    ("description", DESCRIPTION, "x", "takes no response"),
    ("manual", ESSAY, ManualGrade(1.5), "between 0 and 1"),
    ("manual", ESSAY, ManualGrade(-0.1), "between 0 and 1"),
    ("manual", ESSAY, ManualGrade(float("nan")), "between 0 and 1"),
    ("manual", ESSAY, ManualGrade(True), "must be a number"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(
    ("kind", "question", "response", "message"),
    FORGED_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(FORGED_CASES)],
)
def test_forged_responses_raise(
    kind: str, question: Question, response: object, message: str
) -> None:
    with pytest.raises(ResponseError, match=message):
        grade(question, response)


# --------------------------------------------------------------------------- attempts

ATTEMPT_CASES = [
    (
        "mixed-with-pending-essay",
        [(SINGLE, 2, 0), (MULTIPLE, 1, {0}), (DESCRIPTION, 5, None), (ESSAY, 3, "ข้อความ")],
        AttemptScore(2.5, 6.0, 41.67, True),
    ),
    (
        "essay-graded",
        [(SINGLE, 2, 0), (MULTIPLE, 1, {0}), (ESSAY, 3, ManualGrade(0.5))],
        AttemptScore(4.0, 6.0, 66.67, False),
    ),
    ("all-right", [(TRUE_Q, 1, True), (NUMERICAL, 1.5, "5")], AttemptScore(2.5, 2.5, 100.0, False)),
    ("all-wrong", [(SINGLE, 1, 2), (MULTIPLE, 1, {2})], AttemptScore(0.0, 2.0, 0.0, False)),
    ("unanswered", [(SHORT, 1, None), (MATCHING, 1, None)], AttemptScore(0.0, 2.0, 0.0, False)),
    ("thirds", [(THIRDS, 3, {0, 1, 2})], AttemptScore(3.0, 3.0, 100.0, False)),
    ("only-descriptions", [(DESCRIPTION, 1, None)], AttemptScore(0.0, 0.0, 0.0, False)),
    ("empty", [], AttemptScore(0.0, 0.0, 0.0, False)),
    ("zero-points", [(SINGLE, 0, 0)], AttemptScore(0.0, 0.0, 0.0, False)),
]


@pytest.mark.parametrize(("case", "items", "expected"), ATTEMPT_CASES)
def test_score_attempt(case: str, items: list, expected: AttemptScore) -> None:
    assert score_attempt(items) == expected, case


@pytest.mark.parametrize(
    ("points", "error"),
    [
        (-1, ValueError),
        (float("inf"), ValueError),
        (float("nan"), ValueError),
        (True, TypeError),
        ("1", TypeError),
    ],
)
def test_score_attempt_bad_points(points: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="points"):
        score_attempt([(SINGLE, points, 0)])


def test_score_attempt_rejects_forged_responses() -> None:
    with pytest.raises(ResponseError):
        score_attempt([(SINGLE, 1, 0), (SINGLE, 1, 99)])


# --------------------------------------------------------------------------- properties

THAI_AND_MARKS = st.sampled_from([*"กนทมเแาำะิีึืุู่้๊๋็์ํั", "\u200b", " ", "A", "é", "e\u0301", "ß"])


@settings(max_examples=2000)
@given(st.one_of(st.text(), st.lists(THAI_AND_MARKS).map("".join)))
def test_normalise_text_is_idempotent(text: str) -> None:
    once = normalise_text(text)
    assert normalise_text(once) == once


@st.composite
def choice_question_and_response(draw: st.DrawFn) -> tuple[Question, object]:
    """A multiple-response question (positive weights add up to 100%) and any set of picks."""
    cuts = sorted(draw(st.lists(st.integers(1, 99), max_size=3, unique=True)))
    positives = [b - a for a, b in zip([0, *cuts], [*cuts, 100], strict=True)]
    negatives = draw(st.lists(st.integers(-100, 0), max_size=3))
    weights = draw(st.permutations([*positives, *negatives, 0]))
    body = " ".join(f"~%{w}%choice{i}" for i, w in enumerate(weights))
    question = q(f"::m:: x {{{body}}}")
    picked = draw(st.sets(st.integers(0, len(question.answers) - 1)))
    return question, picked


@given(choice_question_and_response())
def test_multiple_response_score_stays_between_zero_and_one(case: tuple[Question, object]) -> None:
    question, picked = case
    result = grade(question, picked)
    assert 0.0 <= result.fraction <= 1.0
    assert result.correct is (result.fraction == 1.0)


@given(st.text(max_size=20))
def test_any_typed_answer_grades_without_error(typed: str) -> None:
    for question in (SHORT, NUMERICAL, MISSING_SHORT):
        result = grade(question, typed)
        assert 0.0 <= result.fraction <= 1.0


STAR_FREE = st.text(alphabet=st.characters(blacklist_characters="*\\"), max_size=12)


@given(STAR_FREE, STAR_FREE)
def test_answers_without_wildcards_compare_as_normalised_text(typed: str, answer: str) -> None:
    assert matches_answer(typed, answer) is (normalise_text(typed) == normalise_text(answer))


WORDS = st.text(alphabet="abcxyz ", max_size=8)


@given(WORDS, st.text(alphabet="abc", min_size=1, max_size=4), WORDS)
def test_a_wildcard_accepts_anything_in_its_place(before: str, middle: str, after: str) -> None:
    typed = f"{before}{middle}{after}"
    assert matches_answer(typed, f"*{middle}*")
    assert matches_answer(typed, "*")
    assert matches_answer(typed, f"{middle}*") is normalise_text(typed).startswith(middle)


@pytest.mark.parametrize(
    ("answer", "shown"),
    [("colo*r", "colo r"), ("*", ""), ("a\\*b", "a*b"), ("น้ำ*", "น้ำ"), ("plain", "plain")],
)
def test_readable_answer_shows_wildcards_as_spaces_like_moodle(answer: str, shown: str) -> None:
    assert readable_answer(answer) == shown
