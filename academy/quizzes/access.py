"""Who may take and who may edit a quiz, said once: views, services and templates ask here.
A quiz is its course's: its instructors and admins edit it, see its results and mark it;
enrolled learners take it (and its editors preview it)."""

from __future__ import annotations

from typing import Any

from flask import abort

from academy.core.access import authorize, rule
from academy.courses import access as courses
from academy.courses.access import is_enrolled
from academy.courses.models import Course
from academy.extensions import db
from academy.quizzes.models import Quiz

__all__ = ["editable_quiz", "is_enrolled", "may_edit", "may_take", "quiz_or_404"]


@rule("quiz.edit")
def may_edit(user: Any, quiz: Quiz | Course | None) -> bool:
    """May edit the quiz (or the quizzes of this course)."""
    if quiz is None:
        return False
    return courses.may_edit_course(user, quiz.id if isinstance(quiz, Course) else quiz.course_id)


def may_take(user: Any, quiz: Quiz) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return is_enrolled(user, quiz.course_id) or may_edit(user, quiz)


def quiz_or_404(quiz_id: int) -> Quiz:
    quiz = db.session.get(Quiz, quiz_id)
    if quiz is None:
        abort(404)
    return quiz


def editable_quiz(quiz_id: int) -> Quiz:
    """A quiz the signed-in person may edit; 403 for anyone else."""
    quiz = quiz_or_404(quiz_id)
    authorize("quiz.edit", quiz)
    return quiz
