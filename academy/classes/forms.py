from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, IntegerField, SelectChoice, SelectField, StringField

from academy.core.forms import Optional, max_length, number_range, required


class SchoolForm(FlaskForm):
    name = StringField(_l("School name"), validators=[required(), max_length(200)])
    district = StringField(_l("District"), validators=[Optional(), max_length(100)])


class RoomForm(FlaskForm):
    name = StringField(_l("Room name"), validators=[required(), max_length(100)])
    seats = IntegerField(_l("Seats"), default=40, validators=[required(), number_range(1, 500)])


class ProgrammeForm(FlaskForm):
    name = StringField(_l("Programme name"), validators=[required(), max_length(200)])
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice("market", _l("Market (seller cohort)")),
            SelectChoice("otop", _l("OTOP province")),
            SelectChoice("other", _l("Other")),
        ],
    )
    place = StringField(
        _l("Market or province"),
        validators=[Optional(), max_length(100)],
        description=_l("For example Bobae-Mahanak or Chiang Mai."),
    )


class ClassForm(FlaskForm):
    name = StringField(
        _l("Class name"),
        validators=[required(), max_length(200)],
        description=_l("For example M.2/3 Digital skills, or Bobae sellers cohort 1."),
    )
    place = SelectField(_l("Computer room or programme"), validators=[required()])
    capacity = IntegerField(
        _l("Places (optional)"),
        validators=[Optional(), number_range(1, 10000)],
        description=_l("Without a number, a class in a room has as many places as seats."),
    )


class EnrolForm(FlaskForm):
    course = SelectField(_l("Course"), validators=[required()])


class MoveForm(FlaskForm):
    target = SelectField(_l("Move to class"), validators=[required()])


class InstructorForm(FlaskForm):
    username = StringField(_l("Instructor's username"), validators=[required(), max_length(64)])


class JoinCodeForm(FlaskForm):
    expires_on = DateField(_l("Code works until"), validators=[required()])


class JoinForm(FlaskForm):
    code = StringField(
        _l("Class code"),
        validators=[required(), max_length(20)],
        description=_l("6 letters and digits from your teacher, for example K7PXM3."),
        render_kw={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"},
    )


class ImportForm(FlaskForm):
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(message=_l("Please choose a file."))],
        description=_l("Columns: username, full_name, and optionally password and school."),
        render_kw={"accept": ".csv,text/csv"},
    )


class ConfirmImportForm(FlaskForm):
    data = HiddenField()
