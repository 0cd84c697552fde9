"""The quiz editor: a quiz's settings, its question bank (add, edit, preview, move, delete),
GIFT import and GIFT/JSON export. Learners' pages and marking stay in the quizzes feature."""

from __future__ import annotations

import json

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from academy.core import audit
from academy.core.errors import ServiceError
from academy.extensions import db
from academy.quizzes import bank, display, editing, transfer
from academy.quizzes.access import editable_quiz
from academy.quizzes.advice import question_warnings
from academy.quizzes.gift import MAX_FILE_BYTES
from academy.quizzes.models import Question, Quiz
from academy.quizzes.questions import QUESTION_TYPES
from academy.studio.blueprint import bp
from academy.studio.forms import ImportForm, QuestionForm, QuizSettingsForm


@bp.route("/quizzes/<int:quiz_id>/settings", methods=["GET", "POST"])
@login_required
def quiz_settings(quiz_id: int):
    quiz = editable_quiz(quiz_id)
    form = QuizSettingsForm(obj=quiz)
    if form.validate_on_submit():
        before = {name: getattr(quiz, name) for name in form.data if hasattr(quiz, name)}
        form.populate_obj(quiz)
        for name in ("attempts_allowed", "time_limit_minutes", "draw_count"):
            setattr(quiz, name, getattr(quiz, name) or 0)
        quiz.title_en = quiz.title_en or None
        quiz.draw_category = (quiz.draw_category or "").strip() or None
        changed = {k: [v, getattr(quiz, k)] for k, v in before.items() if getattr(quiz, k) != v}
        audit.record("quiz.settings", quiz, **changed)
        flash(_("Quiz settings saved."), "success")
        return redirect(url_for("studio.quiz_questions", quiz_id=quiz.id))
    return render_template("studio/quiz_settings.html", quiz=quiz, form=form)


@bp.route("/quizzes/<int:quiz_id>/questions")
@login_required
def quiz_questions(quiz_id: int):
    quiz = editable_quiz(quiz_id)
    return render_template(
        "studio/quiz_questions.html", quiz=quiz, questions=quiz.questions, types=QUESTION_TYPES
    )


def _question_page(quiz: Quiz, kind: str, question: Question | None):
    form = QuestionForm()
    preview = None
    error = None
    if request.method == "GET":
        if question is not None:
            data = bank.question_data(question)
            form.title.data = data.title
            form.category.data = data.category
            form.points.data = question.points
            form.text.data = data.text
            form.text_after.data = data.text_after
            form.answers.data = editing.answers_block(data)
        else:
            form.points.data = 1
            form.answers.data = str(editing.TEMPLATES[kind])
    elif form.validate_on_submit():
        try:
            built = editing.build_question(
                kind,
                form.title.data,
                form.text.data,
                form.answers.data or "",
                form.text_after.data or "",
                form.category.data or "",
                bank.question_data(question).text_format if question else "markdown",
            )
        except ServiceError as exc:
            error = exc.message
            if exc.field and hasattr(form, exc.field):
                getattr(form, exc.field).errors = [exc.message]
        else:
            if request.form.get("action") == "preview":
                preview = display.preview_items(built)
            else:
                if question is None:
                    question = bank.add_questions(quiz, [built])[0]
                    question.points = float(form.points.data)
                    db.session.flush()
                    audit.record("question.create", question, quiz_id=quiz.id, type=kind)
                else:
                    bank.set_question(question, built, float(form.points.data))
                    audit.record("question.change", question, quiz_id=quiz.id)
                flash(_("Question saved."), "success")
                for warning in question_warnings(built):
                    flash(_("Check this question: %(warning)s", warning=warning), "warning")
                return redirect(url_for("studio.quiz_questions", quiz_id=quiz.id))
    status = 400 if request.method == "POST" and (error or form.errors) else 200
    return render_template(
        "studio/quiz_question_form.html",
        quiz=quiz,
        form=form,
        kind=kind,
        question=question,
        preview=preview,
        error=error,
    ), status


@bp.route("/quizzes/<int:quiz_id>/questions/new", methods=["GET", "POST"])
@login_required
def new_question(quiz_id: int):
    quiz = editable_quiz(quiz_id)
    kind = request.args.get("type", "")
    if kind not in QUESTION_TYPES:
        abort(404)
    return _question_page(quiz, kind, None)


def _quiz_question(quiz: Quiz, question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None or question.quiz_id != quiz.id:
        abort(404)
    return question


@bp.route("/quizzes/<int:quiz_id>/questions/<int:question_id>/edit", methods=["GET", "POST"])
@login_required
def edit_question(quiz_id: int, question_id: int):
    quiz = editable_quiz(quiz_id)
    question = _quiz_question(quiz, question_id)
    return _question_page(quiz, question.type, question)


@bp.route("/quizzes/<int:quiz_id>/questions/<int:question_id>/delete", methods=["POST"])
@login_required
def delete_question(quiz_id: int, question_id: int):
    quiz = editable_quiz(quiz_id)
    question = _quiz_question(quiz, question_id)
    audit.record("question.delete", question, quiz_id=quiz.id)
    db.session.delete(question)
    flash(_("Question deleted."), "success")
    return redirect(url_for("studio.quiz_questions", quiz_id=quiz.id))


@bp.route("/quizzes/<int:quiz_id>/questions/<int:question_id>/move", methods=["POST"])
@login_required
def move_question(quiz_id: int, question_id: int):
    quiz = editable_quiz(quiz_id)
    question = _quiz_question(quiz, question_id)
    bank.move_question(question, -1 if request.form.get("direction") == "up" else 1)
    return redirect(url_for("studio.quiz_questions", quiz_id=quiz.id, _anchor=f"q{question.id}"))


@bp.route("/quizzes/<int:quiz_id>/import", methods=["GET", "POST"])
@login_required
def import_gift(quiz_id: int):
    quiz = editable_quiz(quiz_id)
    form = ImportForm()
    error = None
    if form.validate_on_submit():
        upload = form.file.data
        text: str | bytes = form.text.data or ""
        if upload:
            # One byte past the limit is enough for the parser to refuse a file that is too
            # large; a large upload is a temporary file: close it now.
            with upload.stream:
                text = upload.read(MAX_FILE_BYTES + 1)
        name = upload.filename if upload and upload.filename else _("pasted text")
        if not text:
            error = _("Choose a file or paste GIFT text.")
        else:
            try:
                imported = transfer.import_gift(quiz, text, name)
            except ServiceError as exc:
                error = exc.message
            else:
                flash(_("%(n)d questions added.", n=len(imported.added)), "success")
                for warning in imported.warnings:
                    flash(_("Check this question: %(warning)s", warning=warning), "warning")
                return redirect(url_for("studio.quiz_questions", quiz_id=quiz.id))
    status = 400 if error else 200
    return render_template("studio/quiz_import.html", quiz=quiz, form=form, error=error), status


@bp.route("/quizzes/<int:quiz_id>/export.<fmt>")
@login_required
def export_quiz(quiz_id: int, fmt: str):
    quiz = editable_quiz(quiz_id)
    if fmt == "gift":
        body, mimetype = transfer.quiz_text(quiz), "text/plain; charset=utf-8"
    elif fmt == "json":
        body = json.dumps(transfer.export_json(quiz), ensure_ascii=False, indent=2) + "\n"
        mimetype = "application/json"
    else:
        abort(404)
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{quiz.key}.{fmt}"'
    return response
