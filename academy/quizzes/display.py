"""What quiz pages show: a question, an attempt's questions with answers and feedback, and
answers in words. Plain data for the templates; no database writes."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup

from academy.core.markdown import render_markdown
from academy.quizzes import grading
from academy.quizzes.bank import question_data
from academy.quizzes.models import (
    Attempt,
    Response,
)
from academy.quizzes.questions import (
    BLANK_CHOICE,
    DESCRIPTION,
    MATCHING,
    MISSINGWORD,
    MULTIPLE,
    SINGLE,
)
from academy.quizzes.questions import Question as QuestionData
from academy.quizzes.taking import normalise_value, questions_map, response_map

# Answers that arrive this long after the deadline still count: the page saves as the learner
# types, and a request may leave the browser a moment before the clock runs out.


# --------------------------------------------------------------------------- what pages show


# Question texts change rarely and a class opens the same ones forty times at once: keep the
# rendered HTML by content (a changed text is a new key), so each worker renders it once.
@lru_cache(maxsize=4096)
def _inline(text: str) -> Any:
    """A short text (a choice) as inline HTML: the Markdown path without the wrapping <p>."""
    html = str(render_markdown(text, fallback=True))
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    # Sanitised by render_markdown; only the outer <p> of a one-paragraph text is removed.
    return Markup(html)  # noqa: S704


@lru_cache(maxsize=4096)
def _text_html(text: str, text_format: str) -> Any:
    if text_format == "plain":
        return Markup("<p>%s</p>") % text
    return render_markdown(text, fallback=True)


def attempt_questions(attempt: Attempt, reveal: bool = False) -> list[dict[str, Any]]:
    """The view-model of an attempt's questions, built on the server.

    Without `reveal` it holds only what the learner may see while answering: texts and choices
    in the attempt's order, never a fraction, a feedback or which choice is right. With
    `reveal` (a submitted attempt whose feedback may be shown) each item also carries
    `result` (fraction, feedback texts) and `right_answer` (a readable correct answer).
    """
    questions = questions_map(attempt)
    responses = response_map(attempt)
    items = []
    number = 0
    for entry in attempt.layout:
        question = questions.get(int(entry["question_id"]))
        if question is None:
            continue
        data = question_data(question)
        response = responses.get(question.id)
        if data.type != DESCRIPTION:
            number += 1
        item = _item(
            data,
            question.id,
            question.points,
            list(entry.get("order") or []),
            response.value if response is not None else None,
            number if data.type != DESCRIPTION else None,
        )
        if reveal:
            item.update(_revealed(data, response))
        items.append(item)
    return items


def preview_items(data: QuestionData) -> list[dict[str, Any]]:
    """A question as a learner would see it (the editor's preview), choices in file order."""
    count = len(data.answers) if data.blank_kind in (SINGLE, MULTIPLE, BLANK_CHOICE) else 0
    if data.type == MATCHING:
        count = len(data.match_choices())
    return [_item(data, 0, 1.0, list(range(count)), None, 1)]


def _item(
    data: QuestionData,
    question_id: int,
    points: float,
    order: list[int],
    value: Any,
    number: int | None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": question_id,
        "number": number,
        "type": data.type,
        "kind": data.blank_kind,
        "title": data.title,
        "points": points,
        "text_html": _text_html(data.text, data.text_format),
        "value": value,
        "answered": value not in (None, "", [], {}),
    }
    if data.type == MISSINGWORD:
        item["before_html"] = _inline(data.text)
        item["after_html"] = _inline(data.text_after)
    if data.blank_kind in (SINGLE, MULTIPLE, BLANK_CHOICE):
        item["choices"] = [
            {"index": i, "html": _inline(data.answers[i].text)}
            for i in order
            if i < len(data.answers)
        ]
    if data.type == MATCHING:
        choices = data.match_choices()
        item["lefts"] = [
            {"index": i, "html": _inline(pair.left)}
            for i, pair in enumerate(data.pairs)
            if pair.left
        ]
        item["match_choices"] = [
            {"index": i, "text": choices[i]} for i in order if i < len(choices)
        ]
    return item


def _revealed(data: QuestionData, response: Response | None) -> dict[str, Any]:
    value = normalise_value(data, response.value) if response is not None else None
    try:
        result = grading.grade(data, value)
    except grading.ResponseError:
        result = grading.GradeResult(0.0, False)
    fraction = result.fraction
    feedback = [t for t in result.feedback if t != grading.NOT_A_NUMBER]
    if response is not None and response.marked_by_id is not None:
        fraction = response.fraction
    comment = response.comment if response is not None else None
    pending = result.needs_manual and response is not None and response.marked_by_id is None
    if result.needs_manual and (response is None or not str(response.value or "").strip()):
        pending = False
    return {
        "fraction": fraction,
        "correct": result.correct if fraction is None or fraction < 1 else True,
        "pending": pending,
        "feedback_html": [_inline(t) for t in feedback],
        "comment": comment,
        "right_answer": right_answer(data),
        "your_answer": readable_response(data, value),
    }


def readable_response(data: QuestionData, value: Any) -> str:
    """The learner's saved answer in words."""
    if value in (None, "", [], {}):
        return ""
    kind = data.blank_kind
    try:
        if kind in (SINGLE, BLANK_CHOICE):
            return data.answers[value].text
        if kind == MULTIPLE:
            return ", ".join(data.answers[i].text for i in sorted(value))
        if kind == "truefalse":
            return _("True") if value else _("False")
        if kind == MATCHING:
            choices = data.match_choices()
            return "; ".join(
                f"{data.pairs[k].left} → {choices[v] if isinstance(v, int) else v}"
                for k, v in sorted(value.items())
            )
    except (IndexError, TypeError, AttributeError):
        return ""
    return str(value)


def right_answer(data: QuestionData) -> str:
    """A correct answer in words, for the result page once it may be shown."""
    kind = data.blank_kind
    if kind in (SINGLE, BLANK_CHOICE):
        return " / ".join(a.text for a in data.answers if a.fraction == 1.0)
    if kind == "short":
        typed = [grading.readable_answer(a.text) for a in data.answers if a.fraction == 1.0]
        return " / ".join(text for text in typed if text)
    if kind == MULTIPLE:
        return ", ".join(a.text for a in data.answers if a.fraction > 0)
    if kind == "truefalse":
        return _("True") if data.correct else _("False")
    if kind == "numerical":
        parts = []
        for answer in data.numeric:
            if answer.fraction != 1.0:
                continue
            if answer.value is None:
                parts.append(f"{answer.minimum:g}–{answer.maximum:g}")
            elif answer.tolerance:
                parts.append(f"{answer.value:g} ± {answer.tolerance:g}")
            else:
                parts.append(f"{answer.value:g}")
        return " / ".join(parts)
    if kind == MATCHING:
        return "; ".join(f"{p.left} → {p.right}" for p in data.pairs if p.left)
    return ""
