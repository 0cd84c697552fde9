"""Moodle GIFT quiz files: `parse_gift` reads them into `Question`s, `write_gift` writes them back.

The behaviour follows Moodle's GIFT importer so that a quiz file works the same in Academy and in
Moodle. Where Moodle silently guesses (a typo that turns a question into a different type, an
answer weight it cannot read), we stop with a `GiftError` that names the line instead: teachers
fix the file once rather than learners meeting a broken question. docs/quiz-format.md is the
teacher-facing description of everything accepted here.

Parsing is all-or-nothing: the first problem raises and no questions are returned. What
Moodle imports with a notice (a choice question where no choice earns marks) is read, and
`GiftFile.warnings` says what to look at.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any

from academy.quizzes.advice import question_warnings
from academy.quizzes.questions import (
    BLANK_CHOICE,
    BLANK_SHORT,
    DESCRIPTION,
    ESSAY,
    MATCHING,
    MISSINGWORD,
    MULTIPLE,
    NUMERICAL,
    SHORT,
    SINGLE,
    TEXT_FORMATS,
    TRUEFALSE,
    Answer,
    NumericAnswer,
    Pair,
    Question,
    QuestionError,
)

__all__ = [
    "ESCAPES",
    "GiftError",
    "GiftFile",
    "GiftWarning",
    "add_keys",
    "escape",
    "parse_gift",
    "write_gift",
]


class GiftError(ValueError):
    """A GIFT file cannot be read. `str()` is "<source>:<line>: <reason>"; lines count from 1."""

    def __init__(self, reason: str, line: int, source: str = "<gift>") -> None:
        super().__init__(f"{source}:{line}: {reason}")
        self.reason = reason
        self.line = line
        self.source = source


@dataclass(frozen=True)
class GiftWarning:
    """Something read as Moodle reads it that the teacher should look at; str() as GiftError."""

    reason: str
    line: int
    source: str = "<gift>"

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"


@dataclass
class GiftFile:
    """A parsed quiz file: its questions in order and its `// @key: value` header settings.

    `categories` counts the `$CATEGORY:` lines: a file holding only categories is a file of
    zero questions (Moodle imports it), not an empty one. `keys` holds each question's id from
    its `// @question: id` line (None without one) and `lines` the line each question starts on.
    """

    questions: list[Question] = field(default_factory=list)
    header: dict[str, str] = field(default_factory=dict)
    warnings: list[GiftWarning] = field(default_factory=list)
    categories: int = 0
    keys: list[str | None] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


class _Fail(Exception):
    """Internal: a parse problem before the source name is attached."""

    def __init__(self, reason: str, line: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


# GIFT's special characters and how each is written escaped: the one table that both reading
# and writing (here and in the browser editor) use.
ESCAPES: dict[str, str] = {
    "\\": "\\\\",
    "~": "\\~",
    "=": "\\=",
    "#": "\\#",
    "{": "\\{",
    "}": "\\}",
    ":": "\\:",
    "\n": "\\n",  # a line break inside a text
}
# Escaped special characters are swapped for lone surrogates while a question is analysed, so
# the structural searches (for `{`, `~`, `#`, ...) simply do not see them. Lone surrogates can
# never come from decoded UTF-8, and str input containing them is rejected up front.
_SENTINEL = {escaped[1]: chr(0xD800 + i) for i, escaped in enumerate(ESCAPES.values())}
_UNSENTINEL = str.maketrans({_SENTINEL[escaped[1]]: char for char, escaped in ESCAPES.items()})
_ESCAPE_RE = re.compile(r"\\([" + re.escape("".join(_SENTINEL)) + "])")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_WRITE_ESCAPES = str.maketrans(ESCAPES)

_FORMAT_RE = re.compile(r"\[(" + "|".join(TEXT_FORMATS) + r")\]")
_HEADER_RE = re.compile(r"//\s*@([A-Za-z][A-Za-z0-9_-]*)(\s*:)?(.*)")
_HEADER_KEY_RE = re.compile(r"[a-z][a-z0-9_-]*")
# A question's id (docs/quiz-format.md): the line above it, a comment to Moodle.
_QUESTION_KEY_RE = re.compile(r"//\s*@question\s*:(.*)", re.I)
QUESTION_KEY_LINE = "// @question: "
_WEIGHT_RE = re.compile(r"-?\d+(?:\.\d+)?")
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_TAG_RE = re.compile(r"<[^>]*>")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
_CATEGORY = "$CATEGORY:"
_INDENT = "    "
_BLANK = "_____"  # what Moodle puts where an answer block sat mid-sentence
# Moodle: shorten_text(questiontext, 80) with its "..." inside the 80 characters.
_TITLE_LENGTH = 80
_TITLE_ENDING = "..."


# --------------------------------------------------------------------------------- parsing


# Limits, checked before any question is parsed: a 2.6 MB file of 100,000 questions took 45 s
# to import and its questions page 83 s. A big real quiz file is a few hundred questions.
MAX_FILE_BYTES = 1_000_000
MAX_QUESTIONS = 1000
MAX_QUESTION_CHARS = 20_000


def parse_gift(
    text: str | bytes, source: str = "<gift>", settings: Collection[str] | None = None
) -> GiftFile:
    """Parse a GIFT file. Raises GiftError (with the 1-based line) on the first problem.

    Header settings are `// @key: value` comment lines (a name, then a colon) before the first
    question; any other comment, such as `// @todo review`, is an ordinary comment. Only a line
    that names one of `settings` without the colon (`// @pass_mark 60`) is an error, so that a
    typo cannot silently drop a setting.
    """
    try:
        size = len(text.encode("utf-8", "surrogatepass")) if isinstance(text, str) else len(text)
        if size > MAX_FILE_BYTES:
            raise _Fail(
                f"the file is too large ({size} bytes; at most {MAX_FILE_BYTES} bytes): "
                "split it into several quizzes",
                1,
            )
        parsed = _parse(_decode(text), settings)
    except _Fail as failure:
        raise GiftError(failure.reason, failure.line, source) from None
    parsed.warnings = [
        GiftWarning(warning.reason, warning.line, source) for warning in parsed.warnings
    ]
    return parsed


def _decode(data: str | bytes) -> str:
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            line = raw.count(b"\n", 0, error.start) + 1
            raise _Fail(
                f"not UTF-8: byte 0x{raw[error.start]:02x} cannot be read; "
                "save the file with UTF-8 encoding",
                line,
            ) from None
    elif isinstance(data, str):
        text = data
    else:
        raise TypeError(f"parse_gift() needs str or bytes, not {type(data).__name__}")
    text = text.removeprefix("\ufeff")
    bad = _SURROGATE_RE.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise _Fail("invalid character (a lone UTF-16 surrogate) in the text", line)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _parse(text: str, settings: Collection[str] | None) -> GiftFile:
    header: dict[str, str] = {}
    blocks: list[list[tuple[int, str]]] = []
    block_keys: list[tuple[str, int] | None] = []  # the id line of each block
    block: list[tuple[int, str]] = []
    key: tuple[str, int] | None = None  # read, for the question that starts next
    in_header = True

    def attach(found: tuple[str, int], number: int) -> None:
        nonlocal key
        if key is not None:
            raise _Fail("two '// @question:' lines for one question", number)
        key = found

    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped:
            if block:
                blocks.append(block)
                block_keys.append(key)
                block, key = [], None
            continue
        if stripped.startswith("//"):
            question_key = _QUESTION_KEY_RE.fullmatch(stripped)
            if question_key:
                value = question_key.group(1).strip()
                if not value:
                    raise _Fail("'// @question:' needs the question's id after the colon", number)
                # Inside a question it could belong to either one: it stands above its own.
                if block and not (len(block) == 1 and _is_category(block[0][1])):
                    raise _Fail(
                        "'// @question: ...' goes on its own line above its question, after "
                        "a blank line",
                        number,
                    )
                attach((value, number), number)
            elif in_header:
                _read_header_line(stripped, number, header, settings)
            continue  # comment lines never end a question, they are just left out
        in_header = False
        block.append((number, line))
    if block:
        blocks.append(block)
        block_keys.append(key)
        key = None
    if key is not None:
        raise _Fail("'// @question: ...' with no question below it", key[1])

    _check_sizes(blocks)
    parsed = GiftFile(header=header)
    questions = parsed.questions
    category = ""
    seen: dict[str, int] = {}
    carried: tuple[str, int] | None = None  # an id above a block of only `$CATEGORY:`
    for lines, found in zip(blocks, block_keys, strict=True):
        first = lines[0][1].strip()
        if carried is not None:
            if found is not None:
                raise _Fail("two '// @question:' lines for one question", found[1])
            found, carried = carried, None
        if first.startswith(_CATEGORY):
            parsed.categories += 1
            category = first[len(_CATEGORY) :].strip()
            # Moodle needs a blank line after `$CATEGORY:`; we also accept a question directly
            # below it rather than swallowing that question into the category name.
            lines = lines[1:]
            if not lines:
                carried = found
                continue
        try:
            question = _parse_question(lines, category, len(questions) + 1)
        except QuestionError as error:
            # The model's own rules (a 100% answer, weights adding up...) apply to the
            # question as a whole, so point at its first line.
            raise _Fail(str(error), lines[0][0]) from None
        if found is not None:
            if found[0] in seen:
                raise _Fail(
                    f"the question id '{found[0]}' is used twice in this file (also on line "
                    f"{seen[found[0]]})",
                    found[1],
                )
            seen[found[0]] = found[1]
        questions.append(question)
        parsed.keys.append(found[0] if found else None)
        parsed.lines.append(lines[0][0])
        parsed.warnings += [
            GiftWarning(f"{question.title}: {reason}", lines[0][0])
            for reason in question_warnings(question)
        ]
    if carried is not None:
        raise _Fail("'// @question: ...' with no question below it", carried[1])
    return parsed


def _is_category(line: str) -> bool:
    return line.strip().startswith(_CATEGORY)


def key_line(text: str, key: str) -> int:
    """The line of the `// @question: key` line (1 when it is not there), for messages."""
    for number, line in enumerate(text.split("\n"), start=1):
        found = _QUESTION_KEY_RE.fullmatch(line.strip())
        if found and found.group(1).strip() == key:
            return number
    return 1


def add_keys(text: str | bytes, keys: Sequence[str | None]) -> str:
    """The file with a `// @question: id` line above each question that had none, given the
    ids of its questions in order; the author's own lines stay as they were. The file must
    parse."""
    decoded = _decode(text)
    parsed = _parse(decoded, None)
    lines = decoded.split("\n")
    for first, had, key in sorted(zip(parsed.lines, parsed.keys, keys, strict=True), reverse=True):
        if had is None and key:
            lines.insert(first - 1, QUESTION_KEY_LINE + key)
    return "\n".join(lines)


def _check_sizes(blocks: list[list[tuple[int, str]]]) -> None:
    """Count the questions and measure each before parsing any of them."""
    count = 0
    for lines in blocks:
        only_category = len(lines) == 1 and lines[0][1].strip().startswith(_CATEGORY)
        count += not only_category
        if count > MAX_QUESTIONS:
            raise _Fail(
                f"more than {MAX_QUESTIONS} questions in one file: split it into several quizzes",
                lines[0][0],
            )
        size = sum(len(line) + 1 for _number, line in lines)
        if size > MAX_QUESTION_CHARS:
            raise _Fail(
                f"this question is too long ({size} characters; at most {MAX_QUESTION_CHARS})",
                lines[0][0],
            )


def _read_header_line(
    line: str, number: int, header: dict[str, str], settings: Collection[str] | None
) -> None:
    match = _HEADER_RE.fullmatch(line)
    if not match:
        return  # an ordinary comment
    key, colon, value = match.group(1).lower(), match.group(2), match.group(3)
    if not colon:
        if settings is not None and key in settings:
            raise _Fail(f"quiz setting lines look like '// @key: value', got {line!r}", number)
        return  # `// @todo review` and the like are ordinary comments
    if key in header:
        raise _Fail(f"quiz setting '{key}' is given twice", number)
    header[key] = value.strip()


def _unescape(text: str) -> str:
    return text.translate(_UNSENTINEL)


def _plain(raw: str) -> str:
    return _unescape(raw).strip()


def _take_format(raw: str) -> tuple[str | None, str]:
    """Split a leading `[markdown]`-style format tag (Moodle: exact lower-case names only)."""
    match = _FORMAT_RE.match(raw)
    if match:
        return match.group(1), raw[match.end() :]
    return None, raw


def _rich(raw: str) -> str:
    # Answers and feedback may carry their own format tag in Moodle; Academy renders them with
    # the question's format, so the tag is dropped.
    return _plain(_take_format(raw.lstrip())[1])


class _Block:
    """One question's text with escapes hidden, plus a way to find the line of a position."""

    def __init__(self, lines: list[tuple[int, str]]) -> None:
        self.numbers = [number for number, _ in lines]
        # Escapes never cross a line end (`\n` becomes a sentinel), so counting the real line
        # breaks before a position gives its line.
        self.text = _ESCAPE_RE.sub(
            lambda m: _SENTINEL[m.group(1)], "\n".join(line for _, line in lines)
        )

    def line(self, position: int) -> int:
        index = self.text.count("\n", 0, max(position, 0))
        return self.numbers[min(index, len(self.numbers) - 1)]


def _parse_question(lines: list[tuple[int, str]], category: str, number: int) -> Question:
    block = _Block(lines)
    s = block.text
    pos = len(s) - len(s.lstrip())

    title = ""
    if s.startswith("::", pos):
        end = s.find("::", pos + 2)
        if end < 0:
            raise _Fail(
                "the title has no closing '::' (write ::title:: and escape a ':' in it as \\:)",
                block.line(pos),
            )
        title = _plain(s[pos + 2 : end])
        pos = end + 2

    opening = s.find("{", pos)
    closing = s.find("}", pos)
    kwargs: dict[str, Any]
    if opening < 0 and closing < 0:
        text_format, text = _question_text(s[pos:])
        kwargs = {"type": DESCRIPTION, "text": text.strip()}
    else:
        if opening < 0 or 0 <= closing < opening:
            raise _Fail(
                "'}' without an opening '{' (write \\} for a literal brace)", block.line(closing)
            )
        if closing < 0:
            raise _Fail(
                "the answer block '{' is never closed with '}' "
                "(a blank line inside the answers ends the question)",
                block.line(opening),
            )
        nested = s.find("{", opening + 1, closing)
        if nested >= 0:
            raise _Fail(
                "a second '{' inside the answer block (write \\{ for a literal brace)",
                block.line(nested),
            )
        for char in "{}":
            extra = s.find(char, closing + 1)
            if extra >= 0:
                raise _Fail(
                    f"only one answer block per question; found another '{char}' "
                    f"(write \\{char} for a literal brace, and leave a blank line between "
                    "questions)",
                    block.line(extra),
                )
        text_format, before = _question_text(s[pos:opening])
        after = _unescape(s[closing + 1 :])
        kwargs = _parse_answers(block, opening, closing)
        mid_sentence = bool(after.strip())
        if mid_sentence and kwargs["type"] in (SINGLE, SHORT):
            kwargs["blank"] = BLANK_CHOICE if kwargs["type"] == SINGLE else BLANK_SHORT
            kwargs["type"] = MISSINGWORD
            kwargs["text"] = before
            kwargs["text_after"] = after
        elif mid_sentence:
            # Other types have no blank to fill in; like Moodle, mark where the block was.
            kwargs["text"] = (before + _BLANK + after).strip()
        else:
            kwargs["text"] = before.strip()

    if not title:
        shown = str(kwargs["text"])
        if kwargs["type"] == MISSINGWORD:
            shown += _BLANK + str(kwargs["text_after"])
        title = _default_title(shown, number)
    return Question(title=title, text_format=text_format, category=category, **kwargs)


def _question_text(raw: str) -> tuple[str, str]:
    text_format, rest = _take_format(raw.lstrip())
    return text_format or "moodle", _unescape(rest.lstrip())


def _default_title(text: str, number: int) -> str:
    """Moodle names an untitled question after the start of its text; so do we.

    As Moodle's shorten_text(text, 80): HTML tags and entities out, and a longer text cut to
    77 characters and "...", after the last space or full stop when the cut falls inside a
    Latin word (Thai, which has no spaces between words, is cut where the limit falls).
    """
    plain = " ".join(html.unescape(_TAG_RE.sub("", text)).split())
    if not plain:
        return f"Question {number}"
    if len(plain) <= _TITLE_LENGTH:
        return plain
    limit = _TITLE_LENGTH - len(_TITLE_ENDING)
    cut = limit
    for index in range(limit, 0, -1):
        char = plain[index]
        if char in " ." or ord(char) >= 0x800:  # Moodle: 3-byte UTF-8 characters break anywhere
            cut = min(index + 1, limit)
            break
    # Never cut between a Thai consonant and its vowel or tone marks.
    while cut < len(plain) and unicodedata.category(plain[cut]) in ("Mn", "Mc", "Me"):
        cut += 1
    return plain[:cut] + _TITLE_ENDING


def _split_markers(text: str, markers: str, base: int) -> tuple[str, list[tuple[str, str, int]]]:
    """Split at each marker: (text before the first, [(marker, content, absolute position)])."""
    found = [index for index, char in enumerate(text) if char in markers]
    if not found:
        return text, []
    pieces = []
    for k, index in enumerate(found):
        end = found[k + 1] if k + 1 < len(found) else len(text)
        pieces.append((text[index], text[index + 1 : end], base + index))
    return text[: found[0]], pieces


def _weight(content: str, block: _Block, at: int) -> tuple[float | None, str]:
    """Read a leading `%50%` weight as a fraction; (None, content) when there is none."""
    stripped = content.lstrip()
    if not stripped.startswith("%"):
        return None, content
    end = stripped.find("%", 1)
    if end < 0:
        return None, content  # a lone % is just text, as in Moodle
    raw = stripped[1:end]
    if not _WEIGHT_RE.fullmatch(raw):
        raise _Fail(
            f"bad weight '%{_unescape(raw)}%': write a number of percent from -100 to 100, "
            "like %50% or %-25%",
            block.line(at),
        )
    with localcontext() as context:
        # Exact decimal arithmetic so that %33.33333% is exactly 0.3333333 and written back
        # as the same digits.
        context.prec = 60
        value = Decimal(raw)
        if not -100 <= value <= 100:
            raise _Fail(f"weight {raw}% is outside -100% to 100%", block.line(at))
        return float(value / 100), stripped[end + 1 :]


def _split_feedback(content: str) -> tuple[str, str]:
    text, _, feedback = content.partition("#")
    return text, feedback


def _parse_answers(block: _Block, opening: int, closing: int) -> dict[str, Any]:
    inner = block.text[opening + 1 : closing]
    general = ""
    separator = inner.rfind("####")  # Moodle takes the last one
    if separator >= 0:
        general = _rich(inner[separator + 4 :])
        inner = inner[:separator]
    base = opening + 1
    body = inner.strip()
    result: dict[str, Any]
    if not body:
        result = {"type": ESSAY}
    elif body.startswith("#"):
        result = _parse_numerical(block, inner, base)
    elif "~" in body:
        result = _parse_choice(block, inner, base)
    elif "=" in body and "->" in body:
        result = _parse_matching(block, inner, base)
    else:
        head, *feedbacks = body.split("#", 2)
        head = head.strip()
        if head in _TRUE_FALSE:
            correct = _TRUE_FALSE[head]
            wrong = _rich(feedbacks[0]) if feedbacks else ""
            right = _rich(feedbacks[1]) if len(feedbacks) > 1 else ""
            result = {
                "type": TRUEFALSE,
                "correct": correct,
                "feedback_true": right if correct else wrong,
                "feedback_false": wrong if correct else right,
            }
        else:
            if "=" not in body and head.upper() in _TRUE_FALSE:
                raise _Fail(
                    f"{{{_unescape(head)}}}: write TRUE or FALSE in capitals for a true/false "
                    f"question, or {{={_unescape(head)}}} for a short answer",
                    block.line(opening),
                )
            result = _parse_short(block, inner, base)
    result["feedback"] = general
    return result


def _unrecognised(block: _Block, inner: str, at: int) -> _Fail:
    shown = " ".join(_unescape(inner).split())
    if len(shown) > 30:
        shown = shown[:30] + "..."
    return _Fail(
        f"answer block {{{shown}}} not recognised: start right answers with =, wrong ones with ~, "
        "a number with #; write {TRUE} or {FALSE} for true/false and {} for an essay",
        block.line(at),
    )


def _parse_choice(block: _Block, inner: str, base: int) -> dict[str, Any]:
    lead, pieces = _split_markers(inner, "~=", base)
    if lead.strip():
        raise _unrecognised(block, inner, base)
    answers = []
    for number, (marker, content, at) in enumerate(pieces, start=1):
        weight, content = _weight(content, block, at)
        if marker == "=":
            if weight is not None and weight != 1.0:
                raise _Fail(
                    "'=' already means 100%: for partial credit write the weight after '~', "
                    "like ~%50%answer",
                    block.line(at),
                )
            fraction = 1.0
        else:
            fraction = 0.0 if weight is None else weight
        text, feedback = _split_feedback(content)
        answer_text = _rich(text)
        if not answer_text:
            raise _Fail(f"choice {number} is empty", block.line(at))
        answers.append(Answer(answer_text, fraction, _rich(feedback)))
    # Moodle's rule: a block with an `=` answer is single choice; with only `~` it is
    # multiple response, where the weights say which choices are right.
    kind = SINGLE if any(marker == "=" for marker, _, _ in pieces) else MULTIPLE
    if len(answers) < 2:
        raise _Fail("a choice question needs at least 2 choices", block.line(base))
    return {"type": kind, "answers": answers}


def _parse_short(block: _Block, inner: str, base: int) -> dict[str, Any]:
    lead, pieces = _split_markers(inner, "=", base)
    if lead.strip():
        # Moodle reads text before the first `=` as an answer too: `{One}` is a short answer.
        pieces.insert(0, ("", lead, base))
    answers = []
    for number, (_, content, at) in enumerate(pieces, start=1):
        weight, content = _weight(content, block, at)
        text, feedback = _split_feedback(content)
        answer_text = _rich(text)
        if not answer_text:
            raise _Fail(f"answer {number} is empty", block.line(at))
        answers.append(Answer(answer_text, 1.0 if weight is None else weight, _rich(feedback)))
    return {"type": SHORT, "answers": answers}


def _parse_matching(block: _Block, inner: str, base: int) -> dict[str, Any]:
    lead, pieces = _split_markers(inner, "=", base)
    if lead.strip():
        raise _Fail(
            "text before the first matching pair: write each pair as =left -> right",
            block.line(base),
        )
    pairs = []
    for number, (_, content, at) in enumerate(pieces, start=1):
        arrow = content.find("->")
        if arrow < 0:
            raise _Fail(
                f"matching pair {number} has no '->': write every pair as =left -> right "
                "(do not mix matching pairs with other answers)",
                block.line(at),
            )
        right = _plain(content[arrow + 2 :])
        if not right:
            raise _Fail(f"matching pair {number} has nothing after '->'", block.line(at))
        pairs.append(Pair(_rich(content[:arrow]), right))
    return {"type": MATCHING, "pairs": pairs}


def _number(raw: str, block: _Block, at: int) -> float:
    text = _plain(raw)
    if not _NUMBER_RE.fullmatch(text):
        raise _Fail(f"'{text}' is not a number", block.line(at))
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Fail(f"'{text}' is too large", block.line(at))
    return value


def _parse_numerical(block: _Block, inner: str, base: int) -> dict[str, Any]:
    hash_at = inner.index("#")
    spec = inner[hash_at + 1 :]
    base += hash_at + 1
    wrong_feedback = ""
    tilde = spec.find("~")
    if tilde >= 0:
        tail = spec[tilde + 1 :]
        spec = spec[:tilde]
        if "~" in tail:
            raise _Fail("a numerical question takes only one ~#feedback", block.line(base + tilde))
        if not tail.lstrip().startswith("#"):
            raise _Fail(
                "in a numerical answer block '~' can only be followed by #feedback for wrong "
                "answers",
                block.line(base + tilde),
            )
        wrong_feedback = _rich(tail.lstrip()[1:])
    lead, pieces = _split_markers(spec, "=", base)
    if lead.strip():
        # The short form {#5:0.5} has no leading '='.
        pieces.insert(0, ("", lead, base))
    if not pieces:
        raise _Fail(
            "a numerical answer block needs a number, like {#5}, {#5:0.5} or {#1..5}",
            block.line(base),
        )
    answers = []
    for _, content, at in pieces:
        weight, content = _weight(content, block, at)
        fraction = 1.0 if weight is None else weight
        raw, feedback = _split_feedback(content)
        raw = raw.strip()
        range_at = raw.find("..", 1)
        colon_at = raw.find(":", 1)
        try:
            if range_at > 0:
                low = _number(raw[:range_at], block, at)
                high = _number(raw[range_at + 2 :], block, at)
                answer = NumericAnswer.range(low, high, fraction, _rich(feedback))
            elif colon_at > 0:
                value = _number(raw[:colon_at], block, at)
                tolerance = _number(raw[colon_at + 1 :], block, at)
                answer = NumericAnswer(value, tolerance, fraction, _rich(feedback))
            else:
                answer = NumericAnswer(_number(raw, block, at), 0.0, fraction, _rich(feedback))
        except ValueError as error:
            raise _Fail(str(error), block.line(at)) from None
        answers.append(answer)
    return {"type": NUMERICAL, "numeric": answers, "wrong_feedback": wrong_feedback}


# --------------------------------------------------------------------------------- writing


def write_gift(
    questions: Sequence[Question],
    header: Mapping[str, str] | None = None,
    keys: Sequence[str | None] | None = None,
) -> str:
    """Write questions as canonical GIFT that `parse_gift` reads back to equal questions.

    Header settings come first as `// @key: value` lines, then one block per question separated
    by a blank line, with a `$CATEGORY:` line whenever the category changes; a question with a
    key (its id, `keys` in question order) has its `// @question: id` line above it.
    """
    parts: list[str] = []
    if header:
        lines = []
        for key, value in header.items():
            if not isinstance(key, str) or not _HEADER_KEY_RE.fullmatch(key):
                raise ValueError(
                    f"header key {key!r}: use lower-case letters, digits, '_' and '-' only"
                )
            if not isinstance(value, str) or "\n" in value or "\r" in value:
                raise ValueError(f"header value for {key!r}: must be a one-line string")
            lines.append(f"// @{key}: {value.strip()}".rstrip())
        parts.append("\n".join(lines))
    category = ""
    for number, question in enumerate(questions):
        if question.category != category:
            category = question.category
            parts.append(f"{_CATEGORY} {category}".rstrip())
        key = keys[number] if keys else None
        written = _write_question(question)
        parts.append(f"{QUESTION_KEY_LINE}{key}\n{written}" if key else written)
    return "\n\n".join(parts) + "\n" if parts else ""


def escape(text: str) -> str:
    """`text` as GIFT writes it: special characters escaped, line breaks as `\\n`."""
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_WRITE_ESCAPES)


def _write_rich(text: str, text_format: str) -> str:
    # A text that itself starts with "[html]" would lose it to the format-tag rule; an explicit
    # tag in front protects it.
    if _FORMAT_RE.match(text):
        return f"[{text_format}]" + escape(text)
    return escape(text)


def _format_number(value: float) -> str:
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)  # shortest text that reads back as exactly the same float


def _format_weight(fraction: float) -> str:
    with localcontext() as context:
        context.prec = 60
        percent = (Decimal(repr(fraction)) * 100).normalize()
        return format(percent, "f")


def _weight_prefix(fraction: float, text: str, default: float) -> str:
    # Written when it differs from what the marker implies, or when the text itself starts
    # with '%' and would otherwise be read as a weight.
    if fraction != default or text.startswith("%"):
        return f"%{_format_weight(fraction)}%"
    return ""


def _feedback_suffix(feedback: str, text_format: str) -> str:
    return "#" + _write_rich(feedback, text_format) if feedback else ""


def _write_question(question: Question) -> str:
    fmt = question.text_format
    tag = f"[{fmt}]" if fmt != "moodle" or _FORMAT_RE.match(question.text) else ""
    head = f"::{escape(question.title)}::"
    if tag or question.text:
        head += f" {tag}{escape(question.text)}"
    general = "####" + _write_rich(question.feedback, fmt) if question.feedback else ""
    opening = head + " {"
    kind = question.type

    if kind == DESCRIPTION:
        return head
    if kind == ESSAY:
        return f"{opening}{general}}}"
    if kind == TRUEFALSE:
        right, wrong = question.feedback_true, question.feedback_false
        if not question.correct:
            right, wrong = wrong, right
        body = "TRUE" if question.correct else "FALSE"
        if wrong or right:
            body += "#" + _write_rich(wrong, fmt)
        if right:
            body += "#" + _write_rich(right, fmt)
        return f"{opening}{body}{general}}}"

    if kind == NUMERICAL:
        answers = question.numeric
        simple = (
            len(answers) == 1
            and answers[0].fraction == 1.0
            and not answers[0].feedback
            and not question.wrong_feedback
            and not question.feedback
        )
        if simple:
            return f"{opening}#{_numeric_spec(answers[0])}}}"
        lines = [
            "="
            + _weight_prefix(answer.fraction, "", 1.0)
            + _numeric_spec(answer)
            + _feedback_suffix(answer.feedback, fmt)
            for answer in answers
        ]
        if question.wrong_feedback:
            lines.append("~#" + _write_rich(question.wrong_feedback, fmt))
        return _block(opening + "#", lines, general)

    if kind == MATCHING:
        lines = [
            f"={_write_rich(pair.left, fmt)} -> {escape(pair.right)}" for pair in question.pairs
        ]
        return _block(opening, lines, general)

    single = kind == SINGLE or (kind == MISSINGWORD and question.blank == BLANK_CHOICE)
    lines = [_choice_line(answer, kind, single, fmt) for answer in question.answers]
    if single and not any(line.startswith("~") for line in lines):
        # Only `=` answers would read back as a short-answer question; a `~` marks it as a
        # choice question, so write the last (100%) choice with an explicit weight.
        last = question.answers[-1]
        lines[-1] = "~%100%" + _write_rich(last.text, fmt) + _feedback_suffix(last.feedback, fmt)
    if kind == MISSINGWORD:
        # A blank sits inside a sentence, so its answers stay on the sentence's line.
        inner = " ".join(lines) + (" " + general if general else "")
        return f"{head}{{{inner}}}{escape(question.text_after)}"
    return _block(opening, lines, general)


def _choice_line(answer: Answer, kind: str, single: bool, fmt: str) -> str:
    text = _write_rich(answer.text, fmt)
    if kind in (SHORT, MISSINGWORD) and not single:
        marker = "=" + _weight_prefix(answer.fraction, answer.text, 1.0)
    elif single and answer.fraction == 1.0:
        marker = "=" + ("%100%" if answer.text.startswith("%") else "")
    else:
        marker = "~" + _weight_prefix(answer.fraction, answer.text, 0.0)
    return marker + text + _feedback_suffix(answer.feedback, fmt)


def _numeric_spec(answer: NumericAnswer) -> str:
    if answer.value is None:
        return f"{_format_number(answer.minimum)}..{_format_number(answer.maximum)}"  # type: ignore[arg-type]
    spec = _format_number(answer.value)
    if answer.tolerance:
        spec += ":" + _format_number(answer.tolerance)
    return spec


def _block(opening: str, lines: list[str], general: str) -> str:
    body = [_INDENT + line for line in lines]
    if general:
        body.append(_INDENT + general)
    return "\n".join([opening, *body, "}"])
