"""Questions Moodle imports but a teacher almost certainly did not mean (shown as warnings on
import and in the editor)."""

from __future__ import annotations

from academy.quizzes.questions import MULTIPLE, SHORT, Question


def question_warnings(question: Question) -> list[str]:
    """What is allowed (Moodle imports it) but almost certainly not what the teacher meant."""
    warnings = []
    if question.type == MULTIPLE and not any(a.fraction > 0 for a in question.answers):
        warnings.append(
            "no choice earns marks (no '=' answer and no positive weight), so every answer "
            "scores 0: mark the right choice with = or give the right choices weights"
        )
    if question.blank_kind == SHORT:
        # The first matching answer decides, so one made only of wildcards ends the list.
        for index, answer in enumerate(question.answers[:-1], start=1):
            if answer.text.strip("*") == "":
                warnings.append(
                    f"answer {index} ({answer.text}) accepts every answer, so the answers after "
                    "it are never used: move it to the end"
                )
                break
    return warnings
