"""Quiz pages for learners (take, save, submit, see the result) and the marker's results and
marking queue: thin views over taking, display and marking."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from academy.auth.models import User
from academy.core.access import authorize
from academy.core.db import utcnow
from academy.core.errors import ServiceError
from academy.core.learning import quiz_gate
from academy.courses.models import Course
from academy.extensions import db
from academy.quizzes import access, bank, display, taking
from academy.quizzes import marking as marks
from academy.quizzes.access import editable_quiz, quiz_or_404
from academy.quizzes.forms import MarkForm
from academy.quizzes.models import OPEN, Attempt, Quiz
from academy.quizzes.models import Response as Answer

bp = Blueprint("quizzes", __name__, template_folder="templates")

TYPE_LABELS = {
    "single": _l("One choice"),
    "multiple": _l("Several choices"),
    "truefalse": _l("True or false"),
    "short": _l("Short answer"),
    "numerical": _l("Number"),
    "matching": _l("Matching"),
    "missingword": _l("Missing word"),
    "essay": _l("Essay"),
    "description": _l("Text only (no answer)"),
}


def _type_label(kind: str) -> str:
    return str(TYPE_LABELS[kind])


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"quiz_type_label": _type_label}


def _own_attempt(attempt_id: int) -> Attempt:
    """The signed-in learner's attempt; someone else's is 404, so ids cannot be probed."""
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None or attempt.user_id != current_user.id:
        abort(404)
    return attempt


# ------------------------------------------------------------------------------ learners


@bp.route("/quizzes/<int:quiz_id>")
@login_required
def quiz(quiz_id: int):
    quiz = quiz_or_404(quiz_id)
    if not access.may_take(current_user, quiz):
        abort(403)
    attempts = taking.attempts_of(current_user, quiz)
    for attempt in attempts:
        taking.close_if_expired(attempt)
    course = db.session.get(Course, quiz.course_id)
    editor = access.may_edit(current_user, quiz)
    # A quiz for the period: is it open now, and does it want the projector's start code?
    gate = quiz_gate(current_user, quiz, now=utcnow()) if quiz.period_only and not editor else None
    return render_template(
        "quizzes/quiz.html",
        quiz=quiz,
        course=course,
        gate=gate,
        gate_message=(gate.message or taking.period_only_message()) if gate else None,
        attempts=attempts,
        open_attempt=next((a for a in attempts if a.status == OPEN), None),
        left=taking.attempts_left(quiz, attempts),
        kept=marks.kept_attempt(quiz, attempts),
        editor=editor,
        question_count=taking.question_count(quiz),
    )


@bp.route("/quizzes/<int:quiz_id>/start", methods=["POST"])
@login_required
def start(quiz_id: int):
    quiz = quiz_or_404(quiz_id)
    if not access.may_take(current_user, quiz):
        abort(403)
    try:
        attempt = taking.start_attempt(current_user, quiz, request.form.get("code", "")[:20])
    except ServiceError as error:
        flash(error.message, "error")
        return redirect(url_for("quizzes.quiz", quiz_id=quiz.id))
    return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))


def _remaining(attempt: Attempt) -> int | None:
    if attempt.deadline_at is None:
        return None
    return max(0, int((attempt.deadline_at - utcnow()).total_seconds()))


@bp.route("/attempts/<int:attempt_id>", methods=["GET", "POST"])
@login_required
def attempt(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    quiz = db.session.get(Quiz, attempt.quiz_id)
    if taking.close_if_expired(attempt):
        flash(_("Time is over: the answers saved before the end were graded."), "error")
        return redirect(url_for("quizzes.result", attempt_id=attempt.id))
    if attempt.status != OPEN:
        if request.method == "POST":
            flash(_("This attempt is closed; answers can no longer be changed."), "error")
        return redirect(url_for("quizzes.result", attempt_id=attempt.id))
    if request.method == "POST":
        # Without JavaScript the whole form arrives here: save everything, then go on.
        values = taking.form_values(attempt, request.form)
        problems = taking.save_many(attempt, values, current_user)
        for problem in problems:
            flash(problem, "error")
        if attempt.status != OPEN:
            return redirect(url_for("quizzes.result", attempt_id=attempt.id))
        if request.form.get("action") == "timeup":
            # The page's timer reached zero: save what the form holds and submit now.
            outcome = taking.submit(attempt, current_user)
            flash(outcome.message, "success" if outcome.changed else "error")
            return redirect(url_for("quizzes.result", attempt_id=attempt.id))
        if request.form.get("action") == "finish":
            return redirect(url_for("quizzes.confirm", attempt_id=attempt.id))
        if not problems:
            flash(_("Your answers are saved."), "success")
        return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))
    return render_template(
        "quizzes/attempt.html",
        quiz=quiz,
        attempt=attempt,
        items=display.attempt_questions(attempt),
        remaining=_remaining(attempt),
    )


@bp.route("/attempts/<int:attempt_id>/responses", methods=["POST"])
def save(attempt_id: int):
    """One answer as JSON: {"question_id": 3, "value": ...} -> {"saved": true, ...}.

    Signed out, this answers 401 (not a redirect to the sign-in page) so the page keeps the
    answer on the device and says so."""
    if not current_user.is_authenticated:
        abort(401)
    attempt = _own_attempt(attempt_id)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or "question_id" not in payload:
        return jsonify(error=_("The answer could not be read.")), 400
    try:
        response = taking.save_response(
            attempt, payload["question_id"], payload.get("value"), current_user
        )
    except ServiceError as error:
        closed = attempt.status != OPEN
        return jsonify(error=str(error.message), closed=closed), 409 if closed else 400
    return jsonify(
        saved=True,
        question_id=response.question_id,
        saved_at=response.saved_at.isoformat(),
        remaining=_remaining(attempt),
    )


@bp.route("/attempts/<int:attempt_id>/submit", methods=["GET", "POST"])
@login_required
def confirm(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    taking.close_if_expired(attempt)
    if attempt.status != OPEN:
        flash(_("This attempt was already submitted."), "error")
        return redirect(url_for("quizzes.result", attempt_id=attempt.id))
    if request.method == "POST":
        outcome = taking.submit(attempt, current_user)
        flash(outcome.message, "success" if outcome.changed else "error")
        return redirect(url_for("quizzes.result", attempt_id=attempt.id))
    quiz = db.session.get(Quiz, attempt.quiz_id)
    items = display.attempt_questions(attempt)
    unanswered = [i for i in items if i["number"] and not i["answered"]]
    return render_template(
        "quizzes/confirm.html",
        quiz=quiz,
        attempt=attempt,
        unanswered=unanswered,
        remaining=_remaining(attempt),
    )


@bp.route("/attempts/<int:attempt_id>/result")
@login_required
def result(attempt_id: int):
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        abort(404)
    quiz = db.session.get(Quiz, attempt.quiz_id)
    editor = access.may_edit(current_user, quiz)
    if attempt.user_id != current_user.id and not editor:
        abort(404)
    taking.close_if_expired(attempt)
    if attempt.status == OPEN:
        return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))
    learner = db.session.get(User, attempt.user_id)
    attempts = taking.attempts_of(learner, quiz)
    reveal = marks.feedback_visible(quiz, attempt, attempts, current_user)
    return render_template(
        "quizzes/result.html",
        quiz=quiz,
        attempt=attempt,
        learner=learner,
        reveal=reveal,
        items=display.attempt_questions(attempt, reveal=reveal),
        left=taking.attempts_left(quiz, attempts),
        kept=marks.kept_attempt(quiz, attempts),
    )


# ------------------------------------------------------------------------------ instructors


@bp.route("/quizzes/<int:quiz_id>/results")
@login_required
def results(quiz_id: int):
    quiz = editable_quiz(quiz_id)
    taking.close_expired_attempts(quiz_ids=[quiz.id])
    rows = db.session.execute(
        select(Attempt, User)
        .join(User, Attempt.user_id == User.id)
        .where(Attempt.quiz_id == quiz.id)
        .order_by(User.full_name, User.id, Attempt.number)
    ).all()
    return render_template(
        "quizzes/results.html",
        quiz=quiz,
        rows=rows,
        stats=marks.question_stats(quiz),
        pending=len(marks.marking_queue(quiz)),
    )


@bp.route("/quizzes/<int:quiz_id>/marking")
@login_required
def marking(quiz_id: int):
    quiz = editable_quiz(quiz_id)
    taking.close_expired_attempts(quiz_ids=[quiz.id])
    queue = marks.marking_queue(quiz)
    users = {
        u.id: u
        for u in db.session.scalars(
            select(User).where(User.id.in_({attempt.user_id for _r, attempt, _q in queue}))
        )
    }
    items = [
        {
            "response": response,
            "attempt": attempt,
            "learner": users.get(attempt.user_id),
            "question": question,
            "text_html": display.preview_items(bank.question_data(question))[0]["text_html"],
            "form": MarkForm(prefix=f"r{response.id}"),
        }
        for response, attempt, question in queue
    ]
    return render_template("quizzes/marking.html", quiz=quiz, items=items)


@bp.route("/responses/<int:response_id>/mark", methods=["POST"])
@login_required
def mark(response_id: int):
    response = db.session.get(Answer, response_id)
    if response is None:
        abort(404)
    attempt = db.session.get(Attempt, response.attempt_id)
    quiz = db.session.get(Quiz, attempt.quiz_id)
    authorize("quiz.edit", quiz)
    form = MarkForm(prefix=f"r{response.id}")
    if not form.validate_on_submit():
        flash(_("Give a mark from 0 to 100%."), "error")
        return redirect(url_for("quizzes.marking", quiz_id=quiz.id))
    try:
        marks.mark_essay(response, form.percent.data / 100, form.comment.data, current_user)
    except ServiceError as error:
        flash(error.message, "error")
    else:
        flash(_("Mark saved."), "success")
    return redirect(url_for("quizzes.marking", quiz_id=quiz.id))
