from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Optional

from academy.core.forms import max_length


class BadgeRecipientForm(FlaskForm):
    recipient = StringField(
        _l("Your e-mail or web address for the badge"),
        description=_l(
            "The address your badge backpack knows you by, such as name@example.com. "
            "Leave it empty to remove it."
        ),
        validators=[Optional(), max_length(320)],
    )


class DesignForm(FlaskForm):
    title_th = StringField(_l("Certificate title (Thai)"), validators=[Optional(), max_length(200)])
    title_en = StringField(
        _l("Certificate title (English)"), validators=[Optional(), max_length(200)]
    )
    accent_color = StringField(
        _l("Accent colour"),
        description=_l("A colour like #0b5c4b."),
        validators=[max_length(7)],
        render_kw={"type": "color"},
    )
    issuers = TextAreaField(
        _l("Issued by"),
        description=_l("One per line: the Thai name, then | and the English name."),
        validators=[Optional(), max_length(1000)],
    )
    sig0_name = StringField(_l("Signatory 1: name"), validators=[Optional(), max_length(120)])
    sig0_role = StringField(_l("Signatory 1: role"), validators=[Optional(), max_length(160)])
    sig0_image = FileField(_l("Signatory 1: signature image (PNG or JPEG)"))
    sig0_remove = BooleanField(_l("Remove signatory 1's signature image"))
    sig1_name = StringField(_l("Signatory 2: name"), validators=[Optional(), max_length(120)])
    sig1_role = StringField(_l("Signatory 2: role"), validators=[Optional(), max_length(160)])
    sig1_image = FileField(_l("Signatory 2: signature image (PNG or JPEG)"))
    sig1_remove = BooleanField(_l("Remove signatory 2's signature image"))
    logos = MultipleFileField(_l("Add logos (PNG or JPEG)"))
    remove_logos = BooleanField(_l("Remove the current logos"))
