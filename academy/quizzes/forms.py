from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)

from academy.core.forms import Optional, max_length, number_range, required
from academy.quizzes.models import AFTER_LAST_ATTEMPT, AFTER_SUBMIT, BEST, LAST, NEVER


class QuizSettingsForm(FlaskForm):
    title_th = StringField(_l("Title (Thai)"), validators=[required(), max_length(300)])
    title_en = StringField(_l("Title (English)"), validators=[Optional(), max_length(300)])
    pass_mark = IntegerField(
        _l("Pass mark (%)"), validators=[required(), number_range(0, 100)], default=60
    )
    attempts_allowed = IntegerField(
        _l("Attempts allowed"),
        description=_l("0 means unlimited."),
        validators=[Optional(), number_range(0, 100)],
        default=0,
    )
    time_limit_minutes = IntegerField(
        _l("Time limit (minutes)"),
        description=_l("0 means no time limit."),
        validators=[Optional(), number_range(0, 600)],
        default=0,
    )
    shuffle_questions = BooleanField(_l("Shuffle the order of questions"))
    shuffle_answers = BooleanField(_l("Shuffle the order of choices"))
    draw_count = IntegerField(
        _l("Questions drawn at random"),
        description=_l("0 means every question, in order."),
        validators=[Optional(), number_range(0, 500)],
        default=0,
    )
    draw_category = StringField(
        _l("Draw only from this category"),
        description=_l("Leave empty to draw from the whole question bank."),
        validators=[Optional(), max_length(200)],
    )
    grading = SelectField(
        _l("Score that counts"),
        choices=[
            SelectChoice(BEST, _l("The best attempt")),
            SelectChoice(LAST, _l("The last attempt")),
        ],
    )
    show_feedback = SelectField(
        _l("Show feedback and correct answers"),
        choices=[
            SelectChoice(AFTER_SUBMIT, _l("After each attempt is submitted")),
            SelectChoice(AFTER_LAST_ATTEMPT, _l("After the last allowed attempt")),
            SelectChoice(NEVER, _l("Never")),
        ],
    )


class QuestionForm(FlaskForm):
    title = StringField(_l("Title"), validators=[required(), max_length(300)])
    category = StringField(_l("Category"), validators=[Optional(), max_length(200)])
    points = DecimalField(
        _l("Points"), validators=[required(), number_range(0, 1000)], default=1, places=None
    )
    text = TextAreaField(
        _l("Question text"),
        description=_l("Markdown. For a missing-word question, the text before the blank."),
        validators=[required(), max_length(20000)],
    )
    text_after = TextAreaField(
        _l("Text after the blank"), validators=[Optional(), max_length(20000)]
    )
    answers = TextAreaField(
        _l("Answers"),
        validators=[Optional(), max_length(20000)],
        render_kw={"spellcheck": "false"},
    )
    feedback = TextAreaField(_l("General feedback"), validators=[Optional(), max_length(5000)])


class ImportForm(FlaskForm):
    file = FileField(_l("GIFT file"))
    text = TextAreaField(_l("Or paste GIFT text"), validators=[Optional(), max_length(2_000_000)])


class MarkForm(FlaskForm):
    percent = IntegerField(
        _l("Mark (%)"), validators=[required(), number_range(0, 100)], default=None
    )
    comment = TextAreaField(
        _l("Comment for the learner"), validators=[Optional(), max_length(5000)]
    )
