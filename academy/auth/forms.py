from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import EqualTo, Optional

from academy.auth.services import NAME_MAX, PASSWORD_MAX, PASSWORD_MIN
from academy.core.forms import length, max_length, required


class SignInForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[required(), max_length(64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[required(), max_length(PASSWORD_MAX)],
        render_kw={"autocomplete": "current-password"},
    )


class RegisterForm(FlaskForm):
    full_name = StringField(
        _l("Your name"),
        validators=[required(), max_length(NAME_MAX)],
        render_kw={"autocomplete": "name"},
    )
    username = StringField(
        _l("Username"),
        validators=[required(), max_length(64)],
        description=_l("English letters a-z, digits, dot, dash or underscore."),
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    shop_name = StringField(_l("Shop or market name"), validators=[Optional(), max_length(200)])
    phone = StringField(
        _l("Phone"),
        validators=[Optional(), max_length(32)],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[required(), length(PASSWORD_MIN, PASSWORD_MAX)],
        description=_l("At least 8 characters."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Password again"),
        validators=[required(), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class _NewPasswordForm(FlaskForm):
    """A new password typed twice: changing one's own, or setting one with a recovery code."""

    password = PasswordField(
        _l("New password"),
        validators=[required(), length(PASSWORD_MIN, PASSWORD_MAX)],
        description=_l("At least 8 characters."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[required(), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(_NewPasswordForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[required(), max_length(PASSWORD_MAX)],
        render_kw={"autocomplete": "current-password"},
    )


class NewPersonForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[required(), max_length(NAME_MAX)])
    username = StringField(
        _l("Username"),
        validators=[required(), max_length(64)],
        description=_l("English letters a-z, digits, dot, dash or underscore."),
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )
    role = SelectField(_l("Role"), default="learner")
    learner_kind = SelectField(
        _l("Kind of learner"),
        choices=[
            SelectChoice("student", _l("Student")),
            SelectChoice("seller", _l("Seller or entrepreneur")),
        ],
        default="student",
    )
    shop_name = StringField(_l("Shop or market name"), validators=[Optional(), max_length(200)])
    phone = StringField(_l("Phone"), validators=[Optional(), max_length(32)])


class RecoverForm(_NewPasswordForm):
    username = StringField(
        _l("Username"),
        validators=[required(), max_length(64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    code = StringField(
        _l("Recovery code"),
        validators=[required(), max_length(64)],
        description=_l("One of the codes you kept when you registered, e.g. ABCDE-23456."),
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "characters",
                   "spellcheck": "false"},
    )  # fmt: skip


class ConfirmForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change something."""


class SettingsForm(FlaskForm):
    self_registration = BooleanField(_l("Sellers and entrepreneurs may register themselves"))
