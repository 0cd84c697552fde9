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


class CourseForm(FlaskForm):
    slug = StringField(
        _l("Web address (short name)"),
        validators=[required(), max_length(64)],
        description=_l("Letters a-z, digits and -, e.g. shop-starter. It cannot be changed later."),
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )
    title_th = StringField(_l("Title (Thai)"), validators=[required(), max_length(300)])
    title_en = StringField(_l("Title (English)"), validators=[Optional(), max_length(300)])
    summary_th = TextAreaField(
        _l("Summary (Thai)"), validators=[Optional(), max_length(5000)],
        description=_l("Markdown allowed."),
    )  # fmt: skip
    summary_en = TextAreaField(_l("Summary (English)"), validators=[Optional(), max_length(5000)])
    track = SelectField(_l("Track"), choices=[], validate_choice=True)
    duration_minutes = IntegerField(
        _l("Estimated time in minutes"), validators=[Optional(), number_range(0, 100000)]
    )
    language = SelectField(
        _l("Language of the lessons"),
        choices=[SelectChoice("th", "ไทย"), SelectChoice("en", "English")],
    )
    sequential = BooleanField(_l("Lessons open one after another (each needs the one before)"))
    cover = FileField(_l("Cover image"), description=_l("PNG, JPEG, WebP or SVG, up to 5 MB."))


class ModuleForm(FlaskForm):
    title_th = StringField(_l("Module title (Thai)"), validators=[required(), max_length(300)])
    title_en = StringField(_l("Module title (English)"), validators=[Optional(), max_length(300)])
    summary_th = TextAreaField(_l("Summary (Thai)"), validators=[Optional(), max_length(5000)])
    summary_en = TextAreaField(_l("Summary (English)"), validators=[Optional(), max_length(5000)])


class NewModuleForm(FlaskForm):
    title_th = StringField(_l("New module title (Thai)"), validators=[required(), max_length(300)])
    title_en = StringField(
        _l("New module title (English)"), validators=[Optional(), max_length(300)]
    )


class LessonForm(FlaskForm):
    title_th = StringField(_l("Lesson title (Thai)"), validators=[required(), max_length(300)])
    title_en = StringField(_l("Lesson title (English)"), validators=[Optional(), max_length(300)])
    minutes = IntegerField(_l("Estimated minutes"), validators=[Optional(), number_range(0, 10000)])
    body = TextAreaField(
        _l("Lesson text (Markdown)"), validators=[Optional(), max_length(200000)],
        description=_l(
            "Images and files: upload them under Files, then write "
            "![description](assets/name.png)."
        ),
    )  # fmt: skip


class FileForm(FlaskForm):
    file = FileField(
        _l("File"),
        description=_l("Images up to 5 MB; PDF, audio, video and other files up to 50 MB."),
    )


class CourseZipForm(FlaskForm):
    file = FileField(
        _l("Course ZIP"),
        description=_l(
            "A ZIP of a course folder, as “Download as ZIP” or `export-course` makes it "
            "(at most 64 MB)."
        ),
    )


class InstructorForm(FlaskForm):
    username = StringField(
        _l("Username of the instructor"),
        validators=[required(), max_length(64)],
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )


class TrackForm(FlaskForm):
    slug = StringField(
        _l("Short name"), validators=[required(), max_length(64)],
        description=_l("English letters a-z, digits and -, e.g. young-farmers."),
    )  # fmt: skip
    name_th = StringField(_l("Name (Thai)"), validators=[required(), max_length(200)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), max_length(200)])


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
    period_only = BooleanField(
        _l("Open only during a period of the learner's class"),
        description=_l("The teacher opens and closes it in the period, optionally with a "
                       "start code shown on the projector."),
    )  # fmt: skip
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
