from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    IntegerField,
    TextAreaField,
)

from academy.core.forms import Optional, max_length, number_range, required


class MarkForm(FlaskForm):
    percent = IntegerField(
        _l("Mark (%)"), validators=[required(), number_range(0, 100)], default=None
    )
    comment = TextAreaField(
        _l("Comment for the learner"), validators=[Optional(), max_length(5000)]
    )
