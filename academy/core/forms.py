"""Form validators with messages in our catalogue: WTForms ships no Thai translation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.validators import DataRequired, Length, NumberRange, Optional


def required() -> DataRequired:
    return DataRequired(message=_l("Please fill in this field."))


def max_length(n: int) -> Length:
    return Length(max=n, message=_l("At most %(max)d characters, please."))


def length(minimum: int, maximum: int) -> Length:
    return Length(
        min=minimum, max=maximum, message=_l("Between %(min)d and %(max)d characters, please.")
    )


def number_range(minimum: float | None = None, maximum: float | None = None) -> NumberRange:
    return NumberRange(
        min=minimum, max=maximum, message=_l("Enter a number from %(min)s to %(max)s.")
    )


__all__ = ["Optional", "length", "max_length", "number_range", "required"]
