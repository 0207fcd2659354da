"""WTForms forms of the account screens. Messages are English msgids translated by the zh catalog."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError
from wtforms.widgets import PasswordInput

from .creditcode import is_valid_credit_code
from .passwords import PasswordRule

PHONE_RE = r"^1[3-9]\d{9}$"


def _required(what):
    return DataRequired(message=_l("Please enter %(what)s", what=what))


def _chosen(what):
    return DataRequired(message=_l("Please select %(what)s", what=what))


def phone_field(label=None, placeholder=None):
    return StringField(
        label if label is not None else _l("Mobile phone"),
        validators=[
            _required(_l("the mobile phone number")),
            Regexp(PHONE_RE, message=_l("Please enter a valid 11-digit mobile phone number")),
        ],
        render_kw={
            "placeholder": placeholder
            if placeholder is not None
            else _l("Please enter the account (mobile phone number)"),
            "maxlength": 11,
        },
    )


def sms_code_field():
    return StringField(
        _l("Verification code"),
        validators=[
            _required(_l("the SMS verification code")),
            Regexp(r"^\d{6}$", message=_l("The verification code is 6 digits")),
        ],
        render_kw={"placeholder": _l("Please enter the SMS verification code"), "maxlength": 6},
    )


def new_password_fields(label=None):
    password = PasswordField(
        label if label is not None else _l("Password"),
        validators=[_required(_l("the password")), PasswordRule()],
        widget=PasswordInput(hide_value=False),
        render_kw={"placeholder": _l("Please enter the password"), "maxlength": 20},
    )
    confirm = PasswordField(
        _l("Confirm password"),
        validators=[
            _required(_l("the password again")),
            EqualTo("password", message=_l("The two passwords do not match")),
        ],
        widget=PasswordInput(hide_value=False),
        render_kw={"placeholder": _l("Please enter the password again"), "maxlength": 20},
    )
    return password, confirm


class CreditCode:
    def __call__(self, form, field):
        field.data = (field.data or "").strip().upper()
        if field.data and not is_valid_credit_code(field.data):
            raise ValidationError(
                _l("The unified social credit code is invalid (18 characters, check digit per GB 32100-2015)")
            )


def credit_code_field(label=None):
    return StringField(
        label if label is not None else _l("Social credit code"),
        validators=[_required(_l("the social credit code")), CreditCode()],
        render_kw={"placeholder": _l("Please enter the social credit code"), "maxlength": 18},
    )


class RegisterForm(FlaskForm):
    kind = HiddenField(default="enterprise")
    phone = phone_field()
    sms_code = sms_code_field()
    password, confirm = new_password_fields()
    org_name = StringField(
        _l("Enterprise name"),
        validators=[_required(_l("the enterprise name")), Length(max=200)],
        render_kw={"placeholder": _l("Please enter the enterprise name"), "autocomplete": "off"},
    )
    credit_code = credit_code_field()
    town_id = SelectField(_l("Region"), coerce=int, validators=[_chosen(_l("the region"))])
    contact_name = StringField(
        _l("Contact person"),
        validators=[_required(_l("the contact person")), Length(max=64)],
        render_kw={"placeholder": _l("Please enter the contact person")},
    )
    industry_id = SelectField(_l("Industry segment"), coerce=int, validators=[_chosen(_l("the industry segment"))])
    is_industry_provider = BooleanField(_l("Industry service provider"))
    is_scenario_provider = BooleanField(_l("Scenario service provider"))
    is_ecosystem_provider = BooleanField(_l("Industrial ecosystem service provider"))

    def validate_kind(self, field):
        if field.data not in ("enterprise", "provider"):
            raise ValidationError(_l("Please choose enterprise or service provider"))

    def validate_is_industry_provider(self, field):
        if self.kind.data == "provider" and not (
            self.is_industry_provider.data or self.is_scenario_provider.data or self.is_ecosystem_provider.data
        ):
            raise ValidationError(_l("Please select at least one service provider type"))


class LoginPasswordForm(FlaskForm):
    mode = HiddenField(default="password")
    phone = StringField(
        _l("Account"),
        validators=[_required(_l("the account (mobile phone number)"))],
        render_kw={"placeholder": _l("Please enter the account (mobile phone number)")},
    )
    password = PasswordField(
        _l("Password"),
        validators=[_required(_l("the password"))],
        render_kw={"placeholder": _l("Please enter the password")},
    )
    captcha = StringField(
        _l("Graphic verification code"),
        render_kw={
            "placeholder": _l("Please enter the graphic verification code"),
            "maxlength": 4,
            "autocomplete": "off",
        },
    )


class LoginSmsForm(FlaskForm):
    mode = HiddenField(default="sms")
    phone = phone_field()
    sms_code = sms_code_field()


class ForgotPasswordForm(FlaskForm):
    phone = phone_field()
    sms_code = sms_code_field()
    password, confirm = new_password_fields(_l("New password"))


class ChangePasswordForm(FlaskForm):
    old_password = PasswordField(
        _l("Original password"),
        validators=[_required(_l("the original password"))],
        widget=PasswordInput(hide_value=False),
        render_kw={"placeholder": _l("Please enter the original password")},
    )
    password, confirm = new_password_fields(_l("New password"))


class ChangePhoneForm(FlaskForm):
    old_phone = phone_field(_l("Original mobile phone"), _l("Please enter the original mobile phone number"))
    phone = phone_field(_l("New mobile phone"), _l("Please enter the new mobile phone number"))
    sms_code = sms_code_field()


class InfoChangeForm(FlaskForm):
    name = StringField(
        _l("Enterprise name"),
        validators=[_required(_l("the enterprise name")), Length(max=200)],
        render_kw={"autocomplete": "off"},
    )
    credit_code = credit_code_field(_l("Enterprise social credit code"))
    town_id = SelectField(_l("District"), coerce=int, validators=[_chosen(_l("the district"))])
    industry_id = SelectField(_l("Industry segment"), coerce=int, validators=[Optional()])
    contact_phone = StringField(
        _l("Contact phone"),
        validators=[
            _required(_l("the contact phone")),
            Regexp(r"^[0-9\-+ ]{7,20}$", message=_l("Please enter a valid phone number")),
        ],
    )
    contact_name = StringField(_l("Contact person"), validators=[_required(_l("the contact person")), Length(max=64)])


class MessageForm(FlaskForm):
    body = TextAreaField(
        _l("Message"),
        validators=[_required(_l("the message")), Length(max=1000, message=_l("At most 1000 characters"))],
        render_kw={"rows": 3, "placeholder": _l("Please enter your message")},
    )


def is_phone(value):
    return bool(re.match(PHONE_RE, value or ""))


# --- 项目备案 ---------------------------------------------------------------------------------------
from wtforms import DateField, DecimalField, FileField, IntegerField, RadioField, SelectMultipleField  # noqa: E402
from wtforms.widgets import CheckboxInput, ListWidget  # noqa: E402


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class FilingForm(FlaskForm):
    """Every field Optional: 【保存】 keeps a draft as typed; 【提交】 checks the * fields (zsdx.filing)."""

    ent_name = StringField(_l("Enterprise name"), validators=[Optional(), Length(max=200)])
    ent_credit_code = StringField(_l("Credit code"), validators=[Optional(), CreditCode()])
    town_id = SelectField(_l("Town"), coerce=int, validators=[Optional()])
    ent_nature = RadioField(_l("Enterprise nature"), validators=[Optional()], validate_choice=True)
    ent_category = RadioField(_l("Enterprise category"), validators=[Optional()])
    ent_scale = RadioField(_l("Enterprise scale"), validators=[Optional()])
    product_category_id = SelectField(_l("Main product category"), coerce=int, validators=[Optional()])
    industry_id = SelectField(_l("Industry segment"), coerce=int, validators=[Optional()])
    quality_levels = MultiCheckboxField(_l("Quality SME status"), validators=[Optional()])
    ent_address = StringField(_l("Enterprise address"), validators=[Optional(), Length(max=255)])
    employees_total = IntegerField(
        _l("Total employees"), validators=[Optional()], render_kw={"type": "number", "min": 1}
    )
    employees_digital = IntegerField(
        _l("Digital staff"), validators=[Optional()], render_kw={"type": "number", "min": 0}
    )
    ent_description = TextAreaField(
        _l("Enterprise basic information"),
        validators=[Optional()],
        render_kw={
            "rows": 4,
            "maxlength": 300,
            "placeholder": _l(
                "Main products and standing in the industry, existing digital foundation (scenarios already "
                "transformed, investment), honours and qualifications; within 300 characters."
            ),
        },
    )
    project_name = StringField(_l("Project name"), validators=[Optional(), Length(max=200)])
    project_summary = TextAreaField(_l("Project summary"), validators=[Optional()], render_kw={"rows": 4})
    build_address = StringField(_l("Project construction address"), validators=[Optional(), Length(max=255)])
    planned_investment = DecimalField(
        _l("Planned project investment (excl. tax, 10k yuan)"),
        places=2,
        validators=[Optional()],
        render_kw={"type": "number", "step": "0.01", "min": "0.01"},
    )
    start_date = DateField(_l("Project start date"), validators=[Optional()], render_kw={"type": "date"})
    end_date = DateField(_l("Project end date"), validators=[Optional()], render_kw={"type": "date"})
    target_level = SelectField(_l("Target digital level"), validators=[Optional()])
    diagnosis_method = SelectField(_l("Diagnosis method"), validators=[Optional()])
    intended_industry_provider = StringField(
        _l("Intended industry service provider"),
        validators=[Optional(), Length(max=200)],
        render_kw={"list": "industry-providers"},
    )
    intended_scenario_provider = StringField(
        _l("Intended scenario service provider"),
        validators=[Optional(), Length(max=200)],
        render_kw={"list": "scenario-providers"},
    )
    chain_leader = SelectField(_l("Driven by a chain leader"), validators=[Optional()])
    authorization_file = FileField(_l("Power of attorney"))
    chain_evidence_file = FileField(_l("Supply-chain relationship evidence (contracts, orders, etc.)"))
