"""Quizzes looked up for a page, with the check that page needs (404 for an unknown id)."""

from __future__ import annotations

from flask import abort

from academy.core.access import authorize
from academy.extensions import db
from academy.quizzes import services  # noqa: F401 - registers the quiz.edit rule
from academy.quizzes.models import Quiz


def quiz_or_404(quiz_id: int) -> Quiz:
    quiz = db.session.get(Quiz, quiz_id)
    if quiz is None:
        abort(404)
    return quiz


def editable_quiz(quiz_id: int) -> Quiz:
    """A quiz the signed-in person may edit (its course's instructors, admins)."""
    quiz = quiz_or_404(quiz_id)
    authorize("quiz.edit", quiz)
    return quiz
