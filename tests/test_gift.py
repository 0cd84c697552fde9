"""GIFT parser and writer: Moodle's syntax, errors with line numbers, exact round trips."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from academy.quizzes.gift import GiftError, GiftFile, add_keys, parse_gift, write_gift
from academy.quizzes.questions import (
    QUESTION_TYPES,
    Answer,
    NumericAnswer,
    Pair,
    Question,
    QuestionError,
)


def one(text: str) -> Question:
    questions = parse_gift(text).questions
    assert len(questions) == 1, questions
    return questions[0]


def ans(text: str, fraction: float, feedback: str = "") -> Answer:
    return Answer(text, fraction, feedback)


# --------------------------------------------------------------------------- every type

PARSE_CASES = [
    # single choice
    (
        "single",
        "::q1:: Who's buried in Grant's tomb? {~Grant ~Jefferson =no one}",
        Question(
            "single",
            "q1",
            "Who's buried in Grant's tomb?",
            answers=[ans("Grant", 0), ans("Jefferson", 0), ans("no one", 1)],
        ),
    ),
    (
        "single",
        "::q:: ใครเป็นคนขาย? {\n  =แม่ค้า#ถูกต้อง\n  ~ลูกค้า#ผิด ลองอีกครั้ง\n  ####อ่านบทที่ 2\n}",
        Question(
            "single",
            "q",
            "ใครเป็นคนขาย?",
            answers=[ans("แม่ค้า", 1, "ถูกต้อง"), ans("ลูกค้า", 0, "ผิด ลองอีกครั้ง")],
            feedback="อ่านบทที่ 2",
        ),
    ),
    (
        "single",
        "::w:: Partial? {=right ~%50%half ~%-25%costly ~wrong}",
        Question(
            "single",
            "w",
            "Partial?",
            answers=[ans("right", 1), ans("half", 0.5), ans("costly", -0.25), ans("wrong", 0)],
        ),
    ),
    (
        "single",
        "::w:: Thirds {=a ~%33.33333%b ~c}",
        Question("single", "w", "Thirds", answers=[ans("a", 1), ans("b", 0.3333333), ans("c", 0)]),
    ),
    # multiple response: no '=' answer, weights say what is right
    (
        "multiple",
        "::mr:: Which two? {\n ~%50%Grant\n ~%50%Grant's wife\n ~%-100%Grant's father\n}",
        Question(
            "multiple",
            "mr",
            "Which two?",
            answers=[ans("Grant", 0.5), ans("Grant's wife", 0.5), ans("Grant's father", -1)],
        ),
    ),
    (
        "multiple",
        "::mr:: One right, checkboxes {~%100%a ~b}",
        Question("multiple", "mr", "One right, checkboxes", answers=[ans("a", 1), ans("b", 0)]),
    ),
    # true/false: #feedback-if-wrong#feedback-if-right, as Moodle defines it
    (
        "truefalse",
        "::tf:: 1+1=2 \\= true? {T}",
        Question("truefalse", "tf", "1+1=2 = true?", correct=True),
    ),
    ("truefalse", "::tf:: x {TRUE}", Question("truefalse", "tf", "x", correct=True)),
    ("truefalse", "::tf:: x {F}", Question("truefalse", "tf", "x", correct=False)),
    ("truefalse", "::tf:: x {FALSE}", Question("truefalse", "tf", "x", correct=False)),
    (
        "truefalse",
        "::tf:: ดวงอาทิตย์ขึ้นทางทิศตะวันออก {T#ผิดนะ#ถูกต้อง}",
        Question(
            "truefalse",
            "tf",
            "ดวงอาทิตย์ขึ้นทางทิศตะวันออก",
            correct=True,
            feedback_true="ถูกต้อง",
            feedback_false="ผิดนะ",
        ),
    ),
    (
        "truefalse",
        "::tf:: The moon is a star {FALSE#No, it is not a star.#Right!####Moons orbit planets}",
        Question(
            "truefalse",
            "tf",
            "The moon is a star",
            correct=False,
            feedback_true="No, it is not a star.",
            feedback_false="Right!",
            feedback="Moons orbit planets",
        ),
    ),
    # short answer
    (
        "short",
        "::sa:: Who's buried in Grant's tomb? {=no one =nobody}",
        Question(
            "short",
            "sa",
            "Who's buried in Grant's tomb?",
            answers=[ans("no one", 1), ans("nobody", 1)],
        ),
    ),
    (
        "short",
        "::sa:: เมืองหลวงของไทย {=กรุงเทพฯ#เยี่ยม =%50%บางกอก#เกือบถูก}",
        Question(
            "short",
            "sa",
            "เมืองหลวงของไทย",
            answers=[ans("กรุงเทพฯ", 1, "เยี่ยม"), ans("บางกอก", 0.5, "เกือบถูก")],
        ),
    ),
    (
        "short",
        "::sa:: Not a true/false {=TRUE}",
        Question("short", "sa", "Not a true/false", answers=[ans("TRUE", 1)]),
    ),
    # numerical
    (
        "numerical",
        "::n:: When was Grant born? {#1822:5}",
        Question("numerical", "n", "When was Grant born?", numeric=[NumericAnswer(1822, 5)]),
    ),
    (
        "numerical",
        "::n:: Pi {#3.14159:0.0005}",
        Question("numerical", "n", "Pi", numeric=[NumericAnswer(3.14159, 0.0005)]),
    ),
    (
        "numerical",
        "::n:: A number from 1 to 5 {#1..5}",
        Question("numerical", "n", "A number from 1 to 5", numeric=[NumericAnswer.range(1, 5)]),
    ),
    (
        "numerical",
        "::n:: Below zero {#-5..-1}",
        Question("numerical", "n", "Below zero", numeric=[NumericAnswer.range(-5, -1)]),
    ),
    (
        "numerical",
        "::n:: Exact {#42}",
        Question("numerical", "n", "Exact", numeric=[NumericAnswer(42)]),
    ),
    (
        "numerical",
        "::n:: Born? {# =%100%1822:0 =%50%1822:2}",
        Question(
            "numerical",
            "n",
            "Born?",
            numeric=[NumericAnswer(1822, 0, 1), NumericAnswer(1822, 2, 0.5)],
        ),
    ),
    (
        "numerical",
        "::n:: ราคา? {#\n  =25#ถูกต้อง\n  =%50%20..30#ใกล้แล้ว\n  ~#ลองคำนวณใหม่\n  ####ทุน+กำไร\n}",
        Question(
            "numerical",
            "n",
            "ราคา?",
            numeric=[NumericAnswer(25, 0, 1, "ถูกต้อง"), NumericAnswer.range(20, 30, 0.5, "ใกล้แล้ว")],
            wrong_feedback="ลองคำนวณใหม่",
            feedback="ทุน+กำไร",
        ),
    ),
    # matching, with a distractor (blank left side)
    (
        "matching",
        "::m:: Match the capitals {\n =Canada -> Ottawa\n =Italy -> Rome\n =Japan -> Tokyo\n}",
        Question(
            "matching",
            "m",
            "Match the capitals",
            pairs=[Pair("Canada", "Ottawa"), Pair("Italy", "Rome"), Pair("Japan", "Tokyo")],
        ),
    ),
    (
        "matching",
        "::m:: จับคู่ {=แมว -> cat =หมา -> dog = -> bird}",
        Question(
            "matching",
            "m",
            "จับคู่",
            pairs=[Pair("แมว", "cat"), Pair("หมา", "dog"), Pair("", "bird")],
        ),
    ),
    (
        "matching",
        "::m:: Arrows on the right {=a -> x->y =b -> z}",
        Question("matching", "m", "Arrows on the right", pairs=[Pair("a", "x->y"), Pair("b", "z")]),
    ),
    # missing word: choice blank and short-answer blank, spaces next to the blank kept
    (
        "missingword",
        "::mw:: Grant is {~buried =entombed ~living} in Grant's tomb.",
        Question(
            "missingword",
            "mw",
            "Grant is ",
            answers=[ans("buried", 0), ans("entombed", 1), ans("living", 0)],
            text_after=" in Grant's tomb.",
            blank="choice",
        ),
    ),
    (
        "missingword",
        "::mw:: ฉันชอบ{=กิน =ทาน}ข้าวมันไก่",
        Question(
            "missingword",
            "mw",
            "ฉันชอบ",
            answers=[ans("กิน", 1), ans("ทาน", 1)],
            text_after="ข้าวมันไก่",
            blank="short",
        ),
    ),
    (
        "missingword",
        "::mw::{=Bangkok ~Chiang Mai} is the capital.",
        Question(
            "missingword",
            "mw",
            "",
            answers=[ans("Bangkok", 1), ans("Chiang Mai", 0)],
            text_after=" is the capital.",
            blank="choice",
        ),
    ),
    # other types mid-sentence: Moodle marks the spot with _____
    (
        "truefalse",
        "::tf:: The sun {T} rises in the east.",
        Question("truefalse", "tf", "The sun _____ rises in the east.", correct=True),
    ),
    (
        "multiple",
        "::mr:: Pick {~%50%a ~%50%b ~c} now.",
        Question(
            "multiple", "mr", "Pick _____ now.", answers=[ans("a", 0.5), ans("b", 0.5), ans("c", 0)]
        ),
    ),
    # essay and description
    ("essay", "::e:: Write about your shop. {}", Question("essay", "e", "Write about your shop.")),
    (
        "essay",
        "::e:: เล่าเรื่องร้านของคุณ {####ครูจะให้คะแนนภายหลัง}",
        Question("essay", "e", "เล่าเรื่องร้านของคุณ", feedback="ครูจะให้คะแนนภายหลัง"),
    ),
    (
        "description",
        "::intro:: ส่วนที่ 2: การตั้งราคา",
        Question("description", "intro", "ส่วนที่ 2: การตั้งราคา"),
    ),
    ("description", "::only title::", Question("description", "only title", "")),
    # text formats
    (
        "single",
        "::f:: [markdown]The **fourth** {~second ~third =fourth}",
        Question(
            "single",
            "f",
            "The **fourth**",
            text_format="markdown",
            answers=[ans("second", 0), ans("third", 0), ans("fourth", 1)],
        ),
    ),
    (
        "essay",
        "::f::[html]<p>Hi</p>{}",
        Question("essay", "f", "<p>Hi</p>", text_format="html"),
    ),
    (
        "description",
        "::f::[plain]x",
        Question("description", "f", "x", text_format="plain"),
    ),
    (
        "description",
        "::f::[Markdown] format names are lower-case",
        Question("description", "f", "[Markdown] format names are lower-case"),
    ),
    # escapes
    (
        "short",
        "::e\\:1:: a \\= b, 10\\:30 \\{x\\} \\~ \\# \\\\ \\n line two {=\\=\\~\\#\\{\\}\\:}",
        Question(
            "short",
            "e:1",
            "a = b, 10:30 {x} ~ # \\ \n line two",
            answers=[ans("=~#{}:", 1)],
        ),
    ),
    (
        "description",
        "::e:: unknown escapes stay \\a \\% and a lone backslash \\",
        Question("description", "e", "unknown escapes stay \\a \\% and a lone backslash \\"),
    ),
    # multi-line question with comments inside
    (
        "single",
        "::ml:: A question\n// a comment inside\nover lines {\n=yes // not a comment here\n~no\n}",
        Question(
            "single",
            "ml",
            "A question\nover lines",
            answers=[ans("yes // not a comment here", 1), ans("no", 0)],
        ),
    ),
]


@pytest.mark.parametrize(
    ("kind", "source", "expected"),
    PARSE_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(PARSE_CASES)],
)
def test_parse(kind: str, source: str, expected: Question) -> None:
    question = one(source)
    assert question.type == kind
    assert question == expected
    # and every parsed question writes back to the same question
    assert parse_gift(write_gift([question])).questions == [question]


def test_every_type_has_a_parse_case() -> None:
    assert {case[0] for case in PARSE_CASES} == set(QUESTION_TYPES)


# --------------------------------------------------------------------------- titles, files

TITLE_CASES = [
    ("Who's buried in Grant's tomb? {=no one =nobody}", "Who's buried in Grant's tomb?"),
    ("A" * 60 + " {T}", "A" * 60),  # Moodle keeps up to 80 characters
    ("A" * 80 + " {T}", "A" * 80),
    ("A" * 81 + " {T}", "A" * 77 + "..."),  # the "..." is inside the 80
    ("word " * 20 + "{T}", "word " * 15 + "..."),  # after the last space, as Moodle does
    ("<p>" + "x" * 40 + "</p><img src=a.png>" + "y" * 40 + " {T}", "x" * 40 + "y" * 40),
    ("<b>Bold</b>   question {T}", "Bold question"),
    ("Fish &amp; chips {T}", "Fish & chips"),
    ("{=a ~b} after", "_____ after"),
    ("::   :: spaces only {T}", "spaces only"),
    ("{}", "Question 1"),
    # never cut a Thai syllable from its vowel or tone mark
    ("ก" * 76 + "ที่นี่ {T}", "ก" * 76 + "ที่..."),
    ("ข้อ " + "ก" * 90 + " {T}", "ข้อ " + "ก" * 73 + "..."),  # Thai is cut where the limit falls
]


@pytest.mark.parametrize(("source", "title"), TITLE_CASES)
def test_title_generated_from_text(source: str, title: str) -> None:
    assert one(source).title == title


def test_untitled_questions_are_numbered_by_position() -> None:
    questions = parse_gift("::a:: x {T}\n\n{}\n\n{}").questions
    assert [q.title for q in questions] == ["a", "Question 2", "Question 3"]


def test_questions_separated_by_blank_lines_and_comments() -> None:
    text = "// comment\n::a:: x {T}\n   \n\t\n::b:: y {F}\n// trailing comment\n"
    assert [q.title for q in parse_gift(text).questions] == ["a", "b"]


def test_categories_apply_until_changed() -> None:
    text = (
        "::a:: x {T}\n\n$CATEGORY: $course$/ร้านค้า/ราคา\n\n::b:: y {T}\n\n"
        "$CATEGORY: other\n::c:: directly below the category line {T}\n\n$CATEGORY:\n\n::d:: z {T}"
    )
    questions = parse_gift(text).questions
    assert [(q.title, q.category) for q in questions] == [
        ("a", ""),
        ("b", "$course$/ร้านค้า/ราคา"),
        ("c", "other"),
        ("d", ""),
    ]


def test_header_settings() -> None:
    text = (
        "// @id: shop-setup-quiz\n"
        "// @Title:  แบบทดสอบ: ตั้งค่าร้านค้า  \n"
        "// just a comment\n"
        "\n"
        "//@pass_mark:60\n"
        "// @empty:\n"
        "::q:: x {T}\n"
        "// @attempts: 3\n"
    )
    parsed = parse_gift(text)
    assert parsed.header == {
        "id": "shop-setup-quiz",
        "title": "แบบทดสอบ: ตั้งค่าร้านค้า",
        "pass_mark": "60",
        "empty": "",
    }
    assert len(parsed.questions) == 1


@pytest.mark.parametrize(
    "data",
    [
        "::q:: ข้อ {T}".encode(),
        b"\xef\xbb\xbf::q:: \xe0\xb8\x82\xe0\xb9\x89\xe0\xb8\xad {T}",
        "\ufeff::q:: ข้อ {T}",
        bytearray("::q:: ข้อ {T}".encode()),
        "::q:: ข้อ {T}\r\n".encode(),
    ],
)
def test_bytes_bom_and_line_endings(data: str | bytes) -> None:
    assert one(data).title == "q"  # type: ignore[arg-type]


def test_windows_line_endings_split_questions() -> None:
    text = "::a:: x {\r\n=1\r\n~2\r\n}\r\n\r\n::b:: y {T}\r\n"
    questions = parse_gift(text.encode()).questions
    assert [q.title for q in questions] == ["a", "b"]
    assert questions[0].answers[0].text == "1"


QUIZ_SETTINGS = ("id", "title", "pass_mark", "attempts")


@pytest.mark.parametrize(
    ("line", "header"),
    [
        ("// @todo review", {}),  # Moodle reads it as a comment, and so do we
        ("// @todo: review", {"todo": "review"}),  # a setting (the course loader refuses it)
        ("// @see lesson 2", {}),
        ("// mail me @ school", {}),
        ("// @Pass_Mark:  70 ", {"pass_mark": "70"}),
        ("//@attempts:3", {"attempts": "3"}),
    ],
)
def test_header_lines_that_are_ordinary_comments(line: str, header: dict[str, str]) -> None:
    parsed = parse_gift(f"{line}\n::q:: x {{T}}", settings=QUIZ_SETTINGS)
    assert parsed.header == header
    assert [q.title for q in parsed.questions] == ["q"]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("// @pass_mark 60", "quiz setting lines look like '// @key: value'"),
        ("// @pass_mark=60", "quiz setting lines look like '// @key: value'"),
        ("// @Attempts 3", "quiz setting lines look like '// @key: value'"),
    ],
)
def test_header_typos_of_a_setting_are_errors(line: str, reason: str) -> None:
    with pytest.raises(GiftError) as caught:
        parse_gift(f"// @id: q\n{line}\n::q:: x {{T}}", "quiz.gift", settings=QUIZ_SETTINGS)
    assert caught.value.line == 2
    assert reason in caught.value.reason


def test_without_known_settings_no_comment_is_an_error() -> None:
    parsed = parse_gift("// @todo review\n// @pass_mark 60\n// @any-key: v\n::q:: x {T}")
    assert parsed.header == {"any-key": "v"}


def test_a_file_of_categories_only_has_zero_questions() -> None:
    parsed = parse_gift("$CATEGORY: $course$/ร้านค้า\n")
    assert parsed.questions == []
    assert parsed.categories == 1
    assert parse_gift("// only a comment\n").categories == 0


def test_short_answer_without_equals_is_read_as_moodle_reads_it() -> None:
    assert one("Q? {One}").answers == (Answer("One", 1.0),)
    assert one("::q:: x {Paris =Bangkok#yes}").answers == (
        Answer("Paris", 1.0),
        Answer("Bangkok", 1.0, "yes"),
    )
    assert one("::q:: x {%50%Paris =Bangkok}").answers[0] == Answer("Paris", 0.5)
    assert write_gift([one("Q? {One}")]) == "::Q?:: Q? {\n    =One\n}\n"


@pytest.mark.parametrize(
    ("source", "warning"),
    [
        ("::q:: x {~a ~b}", "q: no choice earns marks"),
        ("::q:: x {~a ~%-50%b}", "q: no choice earns marks"),
        ("::s:: x {=%0%*#no =colour}", "s: answer 1 (*) accepts every answer"),
        ("::w:: I {=%0%**#no =like} rice", "w: answer 1 (**) accepts every answer"),
    ],
)
def test_what_moodle_imports_with_a_notice_is_read_with_a_warning(
    source: str, warning: str
) -> None:
    parsed = parse_gift(f"// c\n\n{source}", "quiz.gift")
    (found,) = parsed.warnings
    assert found.line == 3
    assert str(found).startswith(f"quiz.gift:3: {warning}")
    (question,) = parsed.questions
    assert write_gift(parsed.questions).count("\n\n") == 0
    assert parse_gift(write_gift(parsed.questions)).questions == [question]


def test_no_warning_for_ordinary_questions() -> None:
    assert parse_gift("::a:: x {=a ~b}\n\n::s:: x {=colour =%0%*#no}").warnings == []


def test_empty_file() -> None:
    assert parse_gift("") == GiftFile([], {})
    assert parse_gift("// only comments\n\n") == GiftFile([], {})


# --------------------------------------------------------------------------- errors

ERROR_CASES = [
    ("::q:: x {=a ~b", 1, "never closed"),
    ("::q:: line one\nline two {=a\n\n~b}", 2, "never closed"),
    ("::q:: x =a ~b}", 1, "without an opening"),
    ("::q:: x } {T}", 1, "without an opening"),
    ("::q:: x {=a {~b}", 1, "second '{'"),
    ("::q:: x {T} y {F}", 1, "only one answer block"),
    ("::q x {T}", 1, "no closing '::'"),
    ("::q:: x {~%abc%a =b}", 1, "bad weight '%abc%'"),
    ("::q:: x {~%150%a =b}", 1, "outside -100% to 100%"),
    ("::q:: x {~%-101%a =b}", 1, "outside -100% to 100%"),
    ("::q:: x {=%50%a ~b}", 1, "'=' already means 100%"),
    ("::q:: x {=%50%a}", 1, "needs an answer worth 100%"),
    ("::q:: x {\n=a\n~%5o%b\n}", 3, "bad weight"),
    ("::q:: x {~%50%a ~%40%b}", 1, "add up to 90%"),
    ("::q:: x {=a}\n", 1, None),  # short answer: fine
    ("::q:: x {~only one =}", 1, "choice 2 is empty"),
    ("::q:: x {=a ~}", 1, "choice 2 is empty"),
    ("::q:: x {~a}", 1, "at least 2 choices"),
    ("::q:: x {=a -> b =c}", 1, "pair 2 has no '->'"),
    ("::q:: x {=a -> b}", 1, "at least 2 pairs"),
    ("::q:: x {=a -> b = -> c}", 1, "at least 2 pairs"),
    ("::q:: x {=a -> =b -> c}", 1, "nothing after '->'"),
    ("::q:: x {a -> b =c -> d}", 1, "text before the first matching pair"),
    ("::q:: x {~a =b =%50%c}", 1, "'=' already means 100%"),
    ("::q:: x {true}", 1, "TRUE or FALSE in capitals"),
    ("::q:: x {f#oops}", 1, "TRUE or FALSE in capitals"),
    ("::q:: x {#}", 1, "needs a number"),
    ("::q:: x {#abc}", 1, "'abc' is not a number"),
    ("::q:: x {#5:abc}", 1, "'abc' is not a number"),
    ("::q:: x {#1..x}", 1, "'x' is not a number"),
    ("::q:: x {#5..1}", 1, "larger than max"),
    ("::q:: x {#5:-1}", 1, "must not be negative"),
    ("::q:: x {#1e999}", 1, "too large"),
    ("::q:: x {#nan}", 1, "not a number"),
    ("::q:: x {#5 ~wrong}", 1, "'~' can only be followed by #feedback"),
    ("::q:: x {#5 ~#a ~#b}", 1, "only one ~#feedback"),
    ("::q:: x {#=%50%5}", 1, "needs an answer worth 100%"),
    ("::q:: x {\n#\n=5\n=%50%\n}", 4, "'' is not a number"),
    ("// @id: a\n// @ID: b\n::q:: x {T}", 2, "given twice"),
    ("::a:: x {T}\n\n::b:: y {=a ~b", 3, "never closed"),
    ("::a:: fine {T}\n\n// comment\n\n::b:: y\nmore text\n{~bad}", 7, "at least 2 choices"),
]


@pytest.mark.parametrize(("source", "line", "reason"), ERROR_CASES)
def test_errors(source: str, line: int, reason: str | None) -> None:
    if reason is None:
        parse_gift(source)
        return
    with pytest.raises(GiftError) as caught:
        parse_gift(source, source="quiz.gift")
    error = caught.value
    assert error.line == line
    assert reason in error.reason
    assert str(error) == f"quiz.gift:{line}: {error.reason}"
    assert isinstance(error, ValueError)


def test_default_source_name() -> None:
    with pytest.raises(GiftError, match=r"^<gift>:1: "):
        parse_gift("{")


def test_not_utf8() -> None:
    with pytest.raises(GiftError) as caught:
        parse_gift(b"::a:: ok {T}\n\n::b:: " + "ราคา".encode("cp874"), "q.gift")
    assert caught.value.line == 3
    assert str(caught.value).startswith("q.gift:3: not UTF-8")


def test_lone_surrogate_in_str() -> None:
    with pytest.raises(GiftError, match="surrogate"):
        parse_gift("::a:: x\ud800 {T}")


def test_all_or_nothing() -> None:
    # One bad question anywhere and nothing is returned.
    with pytest.raises(GiftError):
        parse_gift("::a:: x {T}\n\n::b:: y {T}\n\n::c:: z {~}")


def test_wrong_input_type() -> None:
    with pytest.raises(TypeError):
        parse_gift(None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- writer

WRITE_CASES = [
    (Question("description", "d", "ส่วนที่ 1"), "::d:: ส่วนที่ 1\n"),
    (Question("essay", "e", "เล่าเรื่อง", feedback="ok"), "::e:: เล่าเรื่อง {####ok}\n"),
    (Question("essay", "e", ""), "::e:: {}\n"),
    (Question("truefalse", "t", "x", correct=True), "::t:: x {TRUE}\n"),
    (
        Question("truefalse", "t", "x", correct=True, feedback_true="yes"),
        "::t:: x {TRUE##yes}\n",
    ),
    (
        Question("truefalse", "t", "x", correct=False, feedback_true="no", feedback_false="yes"),
        "::t:: x {FALSE#no#yes}\n",
    ),
    (
        Question(
            "single",
            "s",
            "10:30 = เวลา?",
            answers=[ans("ใช่", 1, "ถูก#1"), ans("{ไม่}", 0), ans("%ครึ่ง", 0.5)],
            feedback="ทั่วไป",
        ),
        (
            "::s:: 10\\:30 \\= เวลา? {\n    =ใช่#ถูก\\#1\n    ~\\{ไม่\\}\n    ~%50%%ครึ่ง\n"
            "    ####ทั่วไป\n}\n"
        ),
    ),
    (
        Question("multiple", "m", "x", answers=[ans("a", 1 / 3), ans("b", 2 / 3), ans("c", -1)]),
        "::m:: x {\n    ~%33.33333333333333%a\n    ~%66.66666666666666%b\n    ~%-100%c\n}\n",
    ),
    (
        Question("short", "s", "x", answers=[ans("a", 1), ans("b", 0.25, "fb")]),
        "::s:: x {\n    =a\n    =%25%b#fb\n}\n",
    ),
    (Question("numerical", "n", "x", numeric=[NumericAnswer(1822, 5)]), "::n:: x {#1822:5}\n"),
    (Question("numerical", "n", "x", numeric=[NumericAnswer(0.5)]), "::n:: x {#0.5}\n"),
    (
        Question("numerical", "n", "x", numeric=[NumericAnswer.range(-1.5, 2)]),
        "::n:: x {#-1.5..2}\n",
    ),
    (
        Question(
            "numerical",
            "n",
            "x",
            numeric=[NumericAnswer(1e-7, 1e20), NumericAnswer(5, 0, 0.5, "close")],
            wrong_feedback="no",
        ),
        "::n:: x {#\n    =1e-07:1e+20\n    =%50%5#close\n    ~#no\n}\n",
    ),
    (
        Question("matching", "m", "x", pairs=[Pair("a", "1"), Pair("b", "2"), Pair("", "3")]),
        "::m:: x {\n    =a -> 1\n    =b -> 2\n    = -> 3\n}\n",
    ),
    (
        Question(
            "missingword",
            "w",
            "ฉันชอบ",
            answers=[ans("กิน", 1), ans("นอน", 0)],
            text_after="ข้าว",
            blank="choice",
            feedback="g",
        ),
        "::w:: ฉันชอบ{=กิน ~นอน ####g}ข้าว\n",
    ),
    (
        Question("missingword", "w", "", answers=[ans("a", 1)], text_after=" b", blank="short"),
        "::w::{=a} b\n",
    ),
    (
        Question("description", "d", "[html] is just text", text_format="moodle"),
        "::d:: [moodle][html] is just text\n",
    ),
    (Question("description", "d", "", text_format="markdown"), "::d:: [markdown]\n"),
    (Question("description", "a::b", "line\nbreak"), "::a\\:\\:b:: line\\nbreak\n"),
]


@pytest.mark.parametrize(("question", "expected"), WRITE_CASES)
def test_write(question: Question, expected: str) -> None:
    assert write_gift([question]) == expected
    assert parse_gift(expected).questions == [question]


def test_write_file_layout() -> None:
    questions = [
        Question("truefalse", "a", "x", correct=True),
        Question("truefalse", "b", "y", correct=False, category="ร้าน/ราคา"),
        Question("truefalse", "c", "z", correct=False, category="ร้าน/ราคา"),
        Question("description", "d", "w"),
    ]
    header = {"id": "quiz-1", "title": "แบบทดสอบ", "pass_mark": "60"}
    text = write_gift(questions, header)
    assert text == (
        "// @id: quiz-1\n// @title: แบบทดสอบ\n// @pass_mark: 60\n\n"
        "::a:: x {TRUE}\n\n"
        "$CATEGORY: ร้าน/ราคา\n\n"
        "::b:: y {FALSE}\n\n"
        "::c:: z {FALSE}\n\n"
        "$CATEGORY:\n\n"
        "::d:: w\n"
    )
    parsed = parse_gift(text)
    assert parsed.questions == questions
    assert parsed.header == header


def test_write_nothing() -> None:
    assert write_gift([]) == ""
    assert write_gift([], {"id": "x"}) == "// @id: x\n"


@pytest.mark.parametrize(
    "header",
    [{"Id": "x"}, {"bad key": "x"}, {"": "x"}, {"id": "two\nlines"}, {"id": 5}],
)
def test_write_bad_header(header: dict) -> None:
    with pytest.raises(ValueError, match="header"):
        write_gift([], header)


def test_single_choice_with_only_full_marks_choices_stays_single() -> None:
    question = Question("single", "s", "x", answers=[ans("a", 1), ans("b", 1)])
    assert parse_gift(write_gift([question])).questions == [question]


# --------------------------------------------------------------------------- JSON form

JSON_EXAMPLES = [case[2] for case in PARSE_CASES]


@pytest.mark.parametrize("question", JSON_EXAMPLES, ids=[c[0] for c in PARSE_CASES])
def test_json_round_trip(question: Question) -> None:
    data = json.loads(json.dumps(question.to_dict(), ensure_ascii=False))
    assert Question.from_dict(data) == question
    for key in ("type", "title", "text", "feedback"):
        assert key in data


def test_json_shapes() -> None:
    assert Question("truefalse", "t", "x", correct=False).to_dict() == {
        "type": "truefalse",
        "title": "t",
        "text": "x",
        "text_format": "moodle",
        "feedback": "",
        "category": "",
        "correct": False,
        "feedback_true": "",
        "feedback_false": "",
    }
    numeric = Question(
        "numerical", "n", "x", numeric=[NumericAnswer(5, 0.5), NumericAnswer.range(1, 2, 0.5)]
    ).to_dict()
    assert numeric["numeric"] == [
        {"value": 5.0, "tolerance": 0.5, "fraction": 1.0, "feedback": ""},
        {"min": 1.0, "max": 2.0, "fraction": 0.5, "feedback": ""},
    ]


FROM_DICT_ERRORS = [
    ([], "question: must be an object"),
    ({"title": "t", "text": "x"}, "type: missing"),
    ({"type": "quiz", "title": "t", "text": "x"}, "type: unknown question type"),
    ({"type": "essay", "title": " ", "text": "x"}, "title: must not be empty"),
    ({"type": "essay", "title": "t", "text": 5}, "text: must be a string"),
    ({"type": "essay", "title": "t", "text": "x", "answers": []}, "answers: unknown field"),
    ({"type": "essay", "title": "t", "text": "x", "text_format": "rtf"}, "text_format: unknown"),
    ({"type": "single", "title": "t", "text": "x"}, "answers: missing"),
    ({"type": "single", "title": "t", "text": "x", "answers": {}}, "answers: must be a list"),
    (
        {"type": "single", "title": "t", "text": "x", "answers": [{"text": "a"}]},
        "answers[0].fraction: missing",
    ),
    (
        {"type": "single", "title": "t", "text": "x", "answers": [{"text": "a", "fraction": 2}]},
        "answers[0].fraction: must be between -1 and 1",
    ),
    (
        {
            "type": "single",
            "title": "t",
            "text": "x",
            "answers": [{"text": "a", "fraction": True}],
        },
        "answers[0].fraction: must be a number",
    ),
    (
        {
            "type": "single",
            "title": "t",
            "text": "x",
            "answers": [{"text": "a", "fraction": 1, "x": 1}],
        },
        "answers[0].x: unknown field",
    ),
    (
        {
            "type": "single",
            "title": "t",
            "text": "x",
            "answers": [{"text": "a", "fraction": 1}, {"text": "", "fraction": 0}],
        },
        "answers[1].text: must not be empty",
    ),
    (
        {
            "type": "single",
            "title": "t",
            "text": "x",
            "answers": [{"text": "a", "fraction": 0.5}, {"text": "b", "fraction": 0}],
        },
        "needs a choice worth 100%",
    ),
    ({"type": "truefalse", "title": "t", "text": "x"}, "correct: missing"),
    ({"type": "truefalse", "title": "t", "text": "x", "correct": "yes"}, "correct: a true/false"),
    (
        {
            "type": "numerical",
            "title": "t",
            "text": "x",
            "numeric": [{"value": "5", "fraction": 1}],
        },
        "numeric[0].value: must be a number",
    ),
    (
        {"type": "numerical", "title": "t", "text": "x", "numeric": [{"min": 1, "fraction": 1}]},
        "numeric[0].max: missing",
    ),
    (
        {
            "type": "numerical",
            "title": "t",
            "text": "x",
            "numeric": [{"min": 1, "max": 2, "tolerance": 1, "fraction": 1}],
        },
        "numeric[0].tolerance: unknown field",
    ),
    (
        {"type": "matching", "title": "t", "text": "x", "pairs": [{"left": "a", "right": "b"}]},
        "pairs: a matching question needs at least 2 pairs",
    ),
    (
        {
            "type": "matching",
            "title": "t",
            "text": "x",
            "pairs": [{"left": "a->", "right": "b"}, {"left": "c", "right": "d"}],
        },
        "pairs[0].left: must not contain '->'",
    ),
    (
        {
            "type": "short",
            "title": "t",
            "text": "x",
            "answers": [{"text": "a -> b", "fraction": 1}],
        },
        "answers[0].text: '->' cannot be used",
    ),
    (
        {
            "type": "missingword",
            "title": "t",
            "text": "x",
            "blank": "short",
            "answers": [{"text": "a", "fraction": 1}],
        },
        "text_after: a missing-word question needs text after",
    ),
    (
        {
            "type": "missingword",
            "title": "t",
            "text": "x",
            "text_after": "y",
            "blank": "pick",
            "answers": [{"text": "a", "fraction": 1}],
        },
        "blank: must be 'choice' or 'short'",
    ),
    (
        {"type": "essay", "title": "t", "text": "x", "category": "a\nb"},
        "category: must be a single",
    ),
]


@pytest.mark.parametrize(("data", "message"), FROM_DICT_ERRORS)
def test_from_dict_errors(data: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        Question.from_dict(data)  # type: ignore[arg-type]
    assert message in str(caught.value)
    assert isinstance(caught.value, QuestionError)


def test_fields_of_other_types_are_refused() -> None:
    with pytest.raises(QuestionError, match="pairs: not used by single questions"):
        Question("single", "t", "x", answers=[ans("a", 1), ans("b", 0)], pairs=[Pair("a", "b")])


def test_questions_are_immutable_and_hashable() -> None:
    question = Question("short", "t", "x", answers=[ans("a", 1)])
    assert isinstance(question.answers, tuple)
    assert hash(question) == hash(Question("short", "t", "x", answers=(ans("a", 1),)))
    with pytest.raises(AttributeError):
        question.title = "u"  # type: ignore[misc]


# --------------------------------------------------------------------------- properties

# Characters that matter to GIFT, Thai (with combining marks), and arbitrary Unicode.
SPECIAL = [*"~=#{}:\\%[]->_ \t\n\r/$@*", "->", "####", "//", "::", "[html]", "\\n"]
THAI = [*"กขคงจฉชซญดตถทนบปผพฟมยรลวศสหอฮะาำิีึืุู่้๊๋็์ัเแโใไๆฯ๐๑๒๓", "น้ำ", "ที่", "ร้าน"]
piece = st.one_of(
    st.sampled_from(SPECIAL),
    st.sampled_from(THAI),
    st.characters(exclude_categories=("Cs",)),
    st.sampled_from(["TRUE", "T", "F", "%50%", "5:1", "1..5", "a", "b", " "]),
)
any_text = st.lists(piece, max_size=12).map("".join)
nonblank = any_text.filter(lambda s: s.strip())
no_arrow = nonblank.filter(lambda s: "->" not in s)
any_text_no_arrow = any_text.filter(lambda s: "->" not in s)
fraction = st.one_of(
    st.floats(min_value=-1, max_value=1, allow_nan=False),
    st.sampled_from([0.0, 0.5, -0.25, 0.3333333, 1 / 3, 0.1, -1.0]),
)
numbers = st.floats(allow_nan=False, allow_infinity=False)
tolerances = st.floats(min_value=0, allow_nan=False, allow_infinity=False)
common = {
    "title": nonblank,
    "text": any_text,
    "text_format": st.sampled_from(["moodle", "html", "markdown", "plain"]),
    "feedback": any_text,
}


def answers_with(
    texts: st.SearchStrategy[str], feedbacks: st.SearchStrategy[str], min_size: int
) -> st.SearchStrategy[list[Answer]]:
    """At least `min_size` answers in any order, one of them worth 100%."""
    full = st.builds(Answer, texts, st.just(1.0), feedbacks)
    others = st.lists(
        st.builds(Answer, texts, fraction, feedbacks), min_size=min_size - 1, max_size=4
    )
    return st.tuples(full, others).flatmap(lambda t: st.permutations([t[0], *t[1]]))


@st.composite
def multiple_answers(draw: st.DrawFn) -> list[Answer]:
    count = draw(st.integers(1, 4))
    cuts = sorted(draw(st.lists(st.integers(1, 99), min_size=count - 1, max_size=count - 1)))
    weights = [b - a for a, b in zip([0, *cuts], [*cuts, 100], strict=True)]
    answers = [Answer(draw(nonblank), w / 100, draw(any_text)) for w in weights if w]
    answers += draw(
        st.lists(st.builds(Answer, nonblank, st.floats(-1, 0), any_text), min_size=2, max_size=3)
    )
    return draw(st.permutations(answers))


numeric_answer = st.one_of(
    st.builds(NumericAnswer, numbers, tolerances, fraction, any_text),
    st.tuples(numbers, numbers, fraction, any_text).map(
        lambda t: NumericAnswer.range(min(t[0], t[1]), max(t[0], t[1]), t[2], t[3])
    ),
)


@st.composite
def numeric_answers(draw: st.DrawFn) -> list[NumericAnswer]:
    best = draw(numeric_answer)
    best = NumericAnswer(best.value, best.tolerance, 1.0, best.feedback, best.minimum, best.maximum)
    return draw(st.permutations([best, *draw(st.lists(numeric_answer, max_size=3))]))


pair = st.builds(Pair, any_text.filter(lambda s: "->" not in s), nonblank)
real_pair = st.builds(Pair, no_arrow, nonblank)

QUESTIONS = {
    "single": st.builds(
        Question, st.just("single"), answers=answers_with(nonblank, any_text, 2), **common
    ),
    "multiple": st.builds(Question, st.just("multiple"), answers=multiple_answers(), **common),
    "short": st.builds(
        Question,
        st.just("short"),
        answers=answers_with(no_arrow, any_text_no_arrow, 1),
        **common,
    ),
    "truefalse": st.builds(
        Question,
        st.just("truefalse"),
        correct=st.booleans(),
        feedback_true=any_text,
        feedback_false=any_text,
        **common,
    ),
    "numerical": st.builds(
        Question,
        st.just("numerical"),
        numeric=numeric_answers(),
        wrong_feedback=any_text,
        **common,
    ),
    "matching": st.builds(
        Question,
        st.just("matching"),
        pairs=st.tuples(
            st.lists(real_pair, min_size=2, max_size=4), st.lists(pair, max_size=2)
        ).map(lambda t: t[0] + t[1]),
        **common,
    ),
    "missingword-choice": st.builds(
        Question,
        st.just("missingword"),
        answers=answers_with(nonblank, any_text, 2),
        text_after=nonblank,
        blank=st.just("choice"),
        **common,
    ),
    "missingword-short": st.builds(
        Question,
        st.just("missingword"),
        answers=answers_with(no_arrow, any_text_no_arrow, 1),
        text_after=nonblank,
        blank=st.just("short"),
        **common,
    ),
    "essay": st.builds(Question, st.just("essay"), **common),
    "description": st.builds(
        Question,
        st.just("description"),
        title=nonblank,
        text=any_text,
        text_format=common["text_format"],
    ),
}

categories = st.sampled_from(["", "", "$course$/ร้านค้า", "top/บท 1", "a:b {x}"])
any_question = st.tuples(st.one_of(*QUESTIONS.values()), categories).map(
    lambda t: Question.from_dict({**t[0].to_dict(), "category": t[1]})
)
headers = st.dictionaries(
    st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True),
    any_text.map(lambda s: " ".join(s.split())),
    max_size=4,
)
ROUND_TRIP = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("kind", sorted(QUESTIONS))
@ROUND_TRIP
@given(data=st.data())
def test_round_trip_each_type(kind: str, data: st.DataObject) -> None:
    question = data.draw(QUESTIONS[kind])
    text = write_gift([question])
    assert parse_gift(text).questions == [question], text
    assert Question.from_dict(json.loads(json.dumps(question.to_dict()))) == question


@ROUND_TRIP
@given(questions=st.lists(any_question, max_size=6), header=headers)
def test_round_trip_files(questions: list[Question], header: dict[str, str]) -> None:
    text = write_gift(questions, header)
    parsed = parse_gift(text)
    assert parsed.questions == questions
    assert parsed.header == header
    assert write_gift(parsed.questions, parsed.header) == text
    assert text == "" or (text.endswith("\n") and not text.endswith("\n\n"))


# Fragments that make GIFT-like text, so that many generated files parse.
GIFT_PIECES = [
    "::t::", "::", "{", "}", "=", "~", "#", "####", "%50%", "%-25%", "%x%", "->", " -> ", "TRUE",
    "F", "#5:1", "#1..5", "..", ":", "\n", "\n\n", "// c\n", "// @k: v\n", "$CATEGORY: c\n",
    "[html]", "[markdown]", "\\{", "\\}", "\\=", "\\~", "\\#", "\\:", "\\n", "\\\\", "\\", "น้ำ",
    "ข้าว", "a", "b", " ", "\t", "\r\n", "_____", "%", "0", "-", "*",
]  # fmt: skip
gift_like = st.lists(st.sampled_from(GIFT_PIECES), max_size=30).map("".join)
words = st.lists(
    st.sampled_from(["a", "b", "น้ำ", "ข้าว", " ", "5", "-1", "1.5", "\\=", "%"]), max_size=3
).map("".join)
answer_piece = st.tuples(
    st.sampled_from(["=", "~", "~", "= ", "\n~", "\n=", ""]),
    st.sampled_from(["", "", "%50%", "%-25%", "%100%", "%33.33333%", "%0%"]),
    words,
    st.sampled_from(["", "", " -> x", "->y", ":1", "..9", "#fb", "#", "#ok#no"]),
).map("".join)
answer_block = st.one_of(
    st.lists(answer_piece, min_size=1, max_size=5).map(" ".join),
    st.sampled_from(
        ["", "T", "TRUE", "F#w#r", "FALSE#no", "#5", "#1..5", "#5:1 ~#bad", "#=3 =%50%4"]
    ),
).flatmap(lambda body: st.sampled_from([body, body + "####general", body + " #### ทั่วไป"]))
gift_question = st.tuples(
    st.sampled_from(["", "::t:: ", "::ชื่อ::", "::a\\:b::"]),
    st.sampled_from(["", "[html]", "[markdown]", "[moodle][html]"]),
    words,
    answer_block,
    st.sampled_from(["", "", " after", "ข้าว", "\n"]),
).map(lambda t: f"{t[0]}{t[1]}{t[2]}{{{t[3]}}}{t[4]}")
gift_file = st.lists(
    st.one_of(gift_question, st.sampled_from(["$CATEGORY: c", "// @k: v", "// c", "::d:: text"])),
    max_size=5,
).map("\n\n".join)


@settings(max_examples=400)
@given(text=st.one_of(gift_file, gift_like, st.text()))
def test_parse_never_crashes_and_canonical_form_is_stable(text: str) -> None:
    try:
        parsed = parse_gift(text)
    except GiftError as error:
        assert error.line >= 1
        assert error.line <= text.count("\n") + text.count("\r") + 1
        return
    canonical = write_gift(parsed.questions, parsed.header)
    again = parse_gift(canonical)
    assert again.questions == parsed.questions
    assert write_gift(again.questions, again.header) == canonical


@given(data=st.binary())
def test_parse_bytes_never_crashes(data: bytes) -> None:
    with contextlib.suppress(GiftError):
        parse_gift(data)


# --------------------------------------------------------------------------- documentation

DOC = (Path(__file__).resolve().parents[1] / "docs" / "quiz-format.md").read_text("utf-8")
DOC_BLOCKS = re.findall(r"```(\w*)\n(.*?)```", DOC, re.DOTALL)


@pytest.mark.parametrize(
    "block", [b for lang, b in DOC_BLOCKS if not lang and ("::" in b or "// @" in b)]
)
def test_documented_gift_examples_parse(block: str) -> None:
    assert parse_gift(block).questions


def test_documented_json_examples_cover_every_type() -> None:
    (block,) = [b for lang, b in DOC_BLOCKS if lang == "json"]
    questions = [Question.from_dict(item) for item in json.loads(block)]
    assert {question.type for question in questions} == set(QUESTION_TYPES)
    assert [question.to_dict() for question in questions] == json.loads(block)


def test_documented_export_is_canonical() -> None:
    # the example in "Exported files": settings, a category and questions
    (block,) = [b for lang, b in DOC_BLOCKS if not lang and "// @id" in b and "$CATEGORY" in b]
    parsed = parse_gift(block)
    assert write_gift(parsed.questions, parsed.header) == block


# --- Limits: checked before any question is parsed -------------------------------------------


def _many(n: int) -> str:
    return "".join(f"Q{i}? {{T}}\n\n" for i in range(n))


def test_a_file_of_100000_questions_is_refused_by_its_size():
    text = _many(100_000)
    assert len(text) > 1_000_000
    with pytest.raises(GiftError) as refused:
        parse_gift(text.encode())
    assert "too large" in refused.value.reason and refused.value.line == 1


def test_more_questions_than_a_file_may_hold_are_refused_at_the_first_extra_one():
    from academy.quizzes.gift import MAX_QUESTIONS

    text = "$CATEGORY: x\n\n" + _many(MAX_QUESTIONS + 1)
    with pytest.raises(GiftError) as refused:
        parse_gift(text)
    assert f"more than {MAX_QUESTIONS} questions" in refused.value.reason
    assert refused.value.line == 3 + 2 * MAX_QUESTIONS
    assert len(parse_gift("$CATEGORY: x\n\n" + _many(MAX_QUESTIONS)).questions) == MAX_QUESTIONS


def test_one_huge_question_is_refused_by_file_size_or_question_size():
    with pytest.raises(GiftError) as refused:
        parse_gift("Q? {=" + "a" * 20_000_000 + "}")
    assert "too large" in refused.value.reason
    with pytest.raises(GiftError) as refused:
        parse_gift("Q1? {T}\n\nLong " + "a" * 30_000 + "? {T}\n")
    assert "question is too long (30011 characters" in refused.value.reason
    assert refused.value.line == 3


def test_every_text_of_a_question_is_bounded():
    with pytest.raises(QuestionError, match="too long"):
        Question(type="essay", title="x", text="a" * 20_001)
    with pytest.raises(QuestionError, match="text: Too many \\["):
        Question(type="essay", title="x", text="[" * 5000, text_format="markdown")


# --------------------------------------------------------------------------- the escape table


def test_editor_and_files_share_one_escape_table() -> None:
    from academy.quizzes import editing, gift

    assert editing.escape is gift.escape
    assert set(gift.ESCAPES) == set("\\~=#{}:\n")


@given(text=st.text(alphabet=st.sampled_from([*"\\~=#{}:\n\r ab*ก่"])))
def test_escaped_text_reads_back_as_written(text: str) -> None:
    from academy.quizzes.gift import escape

    kept = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not kept:
        return
    (question,) = parse_gift(f"::t:: [plain]{escape(kept)} {{}}").questions
    assert question.text == kept


# --------------------------------------------------------------------------- question ids


def test_question_ids_stand_above_their_questions_and_round_trip():
    text = (
        "// @id: q1\n// @question: first\n::a:: one {T}\n\n$CATEGORY: shop\n"
        "// @question: second\n::b:: two {F}\n\n::c:: three {T}\n"
    )
    parsed = parse_gift(text, settings=("id",))
    assert parsed.header == {"id": "q1"}  # an id line is never a quiz setting
    assert (parsed.keys, parsed.lines) == (["first", "second", None], [3, 7, 9])
    written = write_gift(parsed.questions, {"id": "q1"}, ["first", "second", "third"])
    again = parse_gift(written)
    assert again.questions == parsed.questions and again.keys == ["first", "second", "third"]
    assert "$CATEGORY: shop\n\n// @question: second\n::b::" in written


def test_ids_are_added_above_the_questions_that_lack_one_leaving_the_rest():
    text = "// @id: q1\n// a note\n::a:: one {T}\n\n// @question: b1\n::b:: two {F}\n\n$CATEGORY: x\n::c:: three {T}\n"
    added = add_keys(text, ["k1", "b1", "k3"])
    assert added == (
        "// @id: q1\n// a note\n// @question: k1\n::a:: one {T}\n\n// @question: b1\n"
        "::b:: two {F}\n\n$CATEGORY: x\n// @question: k3\n::c:: three {T}\n"
    )
    assert parse_gift(added).keys == ["k1", "b1", "k3"]


@pytest.mark.parametrize(
    "text, line, reason",
    [
        ("// @question: a\n::a:: x {T}\n\n// @question: a\n::b:: y {T}\n", 4,
         "the question id 'a' is used twice in this file (also on line 1)"),
        ("::a:: x\n// @question: a\n{T}\n", 2, "goes on its own line above its question"),
        ("::a:: x {T}\n\n// @question: a\n", 3, "with no question below it"),
        ("// @question: a\n// @question: b\n::a:: x {T}\n", 2, "two '// @question:' lines"),
        ("// @question:\n::a:: x {T}\n", 1, "needs the question's id"),
    ],
)  # fmt: skip
def test_a_misplaced_or_repeated_question_id_names_its_line(text, line, reason):
    with pytest.raises(GiftError) as caught:
        parse_gift(text)
    assert caught.value.line == line and reason in caught.value.reason
