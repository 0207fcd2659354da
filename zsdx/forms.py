"""WTForms forms of the account screens. Messages are English msgids translated by the zh catalog."""

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, StopValidation, ValidationError
from wtforms.widgets import PasswordInput

from .creditcode import is_valid_credit_code
from .inputs import CONTROL_CHARS_MESSAGE, INT32_MAX, INT32_MIN, has_control_chars, parse_decimal, parse_integer
from .passwords import PasswordRule
from .phones import MAX_LOGIN_NAME, PHONE_RE, normalise_login, normalise_phone


# --- the input layer every zsdx form shares (the parsing rules are zsdx.inputs) -------------------------
class NoControlCharacters:
    """Refuses control characters (checked first, and alone: the field's other messages would mislead)."""

    def __init__(self, multiline=False):
        self.multiline = multiline

    def __call__(self, form, field):
        if isinstance(field.data, str) and has_control_chars(field.data, self.multiline):
            raise StopValidation(CONTROL_CHARS_MESSAGE)


class BoundedIntegerField(IntegerField):
    """A whole number that fits its column (Integer: 32-bit unless narrowed), with a Chinese message."""

    def __init__(self, label=None, validators=None, minimum=INT32_MIN, maximum=INT32_MAX, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = None
        if isinstance(valuelist[0], str) and valuelist[0].strip():
            self.data, error = parse_integer(valuelist[0], self.minimum, self.maximum)
            if error:
                raise ValueError(error)


class BoundedDecimalField(DecimalField):
    """A finite decimal that fits Numeric(max_digits, places) (no NaN, Infinity or 1e20)."""

    def __init__(self, label=None, validators=None, places=2, max_digits=14, minimum=None, maximum=None, **kwargs):
        super().__init__(label, validators, places=places, **kwargs)
        self.max_digits, self.minimum, self.maximum = max_digits, minimum, maximum

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = None
        if isinstance(valuelist[0], str) and valuelist[0].strip():
            self.data, error = parse_decimal(valuelist[0], self.places, self.max_digits, self.minimum, self.maximum)
            if error:
                raise ValueError(error)


class ZsdxForm(FlaskForm):
    """The base of every zsdx form: no text field (single-line, multi-line, hidden, password) takes control
    characters; numbers use the bounded fields above; text bounded by its column gets Length(max=…)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self:
            if isinstance(field, StringField):
                field.validators = [NoControlCharacters(isinstance(field, TextAreaField)), *field.validators]


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
        filters=[normalise_phone],  # full-width digits, spaces and dashes: the same phone (zsdx.phones)
        render_kw={
            "placeholder": placeholder
            if placeholder is not None
            else _l("Please enter the account (mobile phone number)"),
            "maxlength": 20,
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


class RegisterForm(ZsdxForm):
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


class LoginPasswordForm(ZsdxForm):
    mode = HiddenField(default="password")
    phone = StringField(
        _l("Account"),
        validators=[
            _required(_l("the account (mobile phone number)")),
            Length(max=MAX_LOGIN_NAME, message=_l("Please enter a valid account (mobile phone number)")),
        ],
        filters=[normalise_login],
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


class LoginSmsForm(ZsdxForm):
    mode = HiddenField(default="sms")
    phone = phone_field()
    sms_code = sms_code_field()


class ForgotPasswordForm(ZsdxForm):
    phone = phone_field()
    sms_code = sms_code_field()
    password, confirm = new_password_fields(_l("New password"))


class ChangePasswordForm(ZsdxForm):
    old_password = PasswordField(
        _l("Original password"),
        validators=[_required(_l("the original password"))],
        widget=PasswordInput(hide_value=False),
        render_kw={"placeholder": _l("Please enter the original password")},
    )
    password, confirm = new_password_fields(_l("New password"))


class ChangePhoneForm(ZsdxForm):
    old_phone = phone_field(_l("Original mobile phone"), _l("Please enter the original mobile phone number"))
    phone = phone_field(_l("New mobile phone"), _l("Please enter the new mobile phone number"))
    sms_code = sms_code_field()


class InfoChangeForm(ZsdxForm):
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


class MessageForm(ZsdxForm):
    body = TextAreaField(
        _l("Message"),
        validators=[_required(_l("the message")), Length(max=1000, message=_l("At most 1000 characters"))],
        render_kw={"rows": 3, "placeholder": _l("Please enter your message")},
    )


def is_phone(value):
    return bool(re.match(PHONE_RE, value or ""))


# --- 项目备案 ---------------------------------------------------------------------------------------
from wtforms import DateField, FileField, RadioField, SelectMultipleField  # noqa: E402
from wtforms.widgets import CheckboxInput, ListWidget  # noqa: E402


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class FilingForm(ZsdxForm):
    """Every field Optional: 【保存】 keeps a draft as typed; 【提交】 checks the * fields (zsdx.filing).

    企业名称, 统一社会信用代码 and 所属镇街 are shown read-only: they come from the organisation (changed only
    through the reviewed 企业信息变更), whatever is posted for them is ignored (zsdx.views.filing)."""

    ent_name = StringField(_l("Enterprise name"), render_kw={"readonly": True})
    ent_credit_code = StringField(_l("Credit code"), render_kw={"readonly": True})
    town_id = SelectField(_l("Town"), coerce=int, validate_choice=False, render_kw={"disabled": True})
    ent_nature = RadioField(_l("Enterprise nature"), validators=[Optional()], validate_choice=True)
    ent_category = RadioField(_l("Enterprise category"), validators=[Optional()])
    ent_scale = RadioField(_l("Enterprise scale"), validators=[Optional()])
    product_category_id = SelectField(_l("Main product category"), coerce=int, validators=[Optional()])
    industry_id = SelectField(_l("Industry segment"), coerce=int, validators=[Optional()])
    quality_levels = MultiCheckboxField(_l("Quality SME status"), validators=[Optional()])
    ent_address = StringField(_l("Enterprise address"), validators=[Optional(), Length(max=255)])
    employees_total = BoundedIntegerField(
        _l("Total employees"), validators=[Optional()], render_kw={"type": "number", "min": 1}
    )
    employees_digital = BoundedIntegerField(
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
    planned_investment = BoundedDecimalField(
        _l("Planned project investment (excl. tax, 10k yuan)"),
        places=2,
        max_digits=14,
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


def _any_chosen(what):
    """At least one box ticked. A plain function: DataRequired would mark every checkbox `required`, and the
    browser would then demand all of them."""

    def check(form, field):
        if not field.data:
            raise StopValidation(_l("Please select %(what)s", what=what))

    return check


class ProductForm(ZsdxForm):
    """上架产品: a provider's product or service (SPEC §3.4). Choices are filled by the view."""

    name = StringField(
        _l("Product/service name"), validators=[_required(_l("the product/service name")), Length(max=200)]
    )
    category = RadioField(_l("Category"), validators=[_chosen(_l("the category"))])
    scenarios = MultiCheckboxField(_l("Applicable scenarios"), validators=[_any_chosen(_l("the applicable scenarios"))])
    max_price = BoundedDecimalField(
        _l("Maximum warehousing price (10k yuan)"),
        places=4,
        max_digits=14,
        minimum=Decimal("0.0001"),
        validators=[DataRequired(message=_l("Please enter %(what)s", what=_l("the maximum warehousing price")))],
        render_kw={"type": "number", "step": "0.0001", "min": "0.0001"},
    )
    price_note = TextAreaField(_l("Quotation notes"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 3})
    purchase_mode = RadioField(_l("Purchase method"), validators=[_chosen(_l("the purchase method"))])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 5})


# --- 项目签约 (zsdx.signing): every field Optional; 【提交】 checks what is required (zsdx.signing.problems) ------
def _money(label):
    return BoundedDecimalField(
        label,
        places=4,
        max_digits=14,
        minimum=Decimal("0"),
        validators=[Optional()],
        render_kw={"type": "number", "step": "0.0001", "min": "0"},
    )


class SigningForm(ZsdxForm):
    """项目基本信息 of a signing. Choices are filled by the view."""

    project_name = StringField(_l("Project name"), validators=[Optional(), Length(max=200)])
    summary = TextAreaField(
        _l("Project summary"),
        validators=[Optional(), Length(max=2000)],
        render_kw={
            "rows": 5,
            "maxlength": 2000,
            "placeholder": _l(
                "Describe the project: needs, place, scale, what is transformed, technical plan, construction "
                "period and schedule; within 2000 characters."
            ),
        },
    )
    start_date = DateField(_l("Transformation start date"), validators=[Optional()], render_kw={"type": "date"})
    end_date = DateField(_l("Transformation end date"), validators=[Optional()], render_kw={"type": "date"})
    acceptance_date = DateField(_l("Planned acceptance date"), validators=[Optional()], render_kw={"type": "date"})
    target_level = SelectField(_l("Target digital level"), validators=[Optional()])
    chain_leader = SelectField(_l("Driven by a chain leader"), validators=[Optional()])


class RowForm(ZsdxForm):
    """A repeated row of a page (a contract tab, a need, a product): prefixed names, no CSRF field of its own
    (the page's form carries it)."""

    class Meta:
        csrf = False


class ContractForm(RowForm):
    number = StringField(_l("Contract/agreement number"), validators=[Optional(), Length(max=64)])
    total_amount = _money(_l("Total contract amount (10k yuan)"))
    industry_provider = SelectField(_l("Signed industry service provider"), validators=[Optional()])
    subsidy_amount = _money(_l("Of which included in the subsidised project amount (10k yuan)"))


class NeedForm(RowForm):
    scenario = SelectField(_l("Application scenario"), validators=[Optional()])
    description = TextAreaField(
        _l("Scenario description"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 2}
    )
    analysis = TextAreaField(
        _l("Problem and needs analysis (within 300 characters)"),
        validators=[Optional(), Length(max=300)],
        render_kw={"rows": 2, "maxlength": 300},
    )


class SigningProductForm(RowForm):
    contract_id = SelectField(_l("Contract"), validators=[Optional()])
    cloud = RadioField(_l("Cloud use"), validators=[Optional()])
    content = TextAreaField(
        _l("Digital transformation content"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 3}
    )
    start_date = DateField(_l("Transformation start date"), validators=[Optional()], render_kw={"type": "date"})
    end_date = DateField(_l("Transformation end date"), validators=[Optional()], render_kw={"type": "date"})
    price = BoundedDecimalField(
        _l("Product/service signing price (10k yuan, tax included)"),
        places=4,
        max_digits=14,
        minimum=Decimal("0"),
        validators=[Optional()],
        render_kw={
            "type": "number",
            "step": "0.0001",
            "min": "0",
            "placeholder": _l("Excluding implementation, labour, training and maintenance fees"),
        },
    )
    over_price_reason = TextAreaField(
        _l("Explanation of a price above the maximum warehousing price"),
        validators=[Optional(), Length(max=500)],
        render_kw={"rows": 2, "maxlength": 500},
    )
    scenario = SelectField(_l("Corresponding transformation scenario"), validators=[Optional()])
    scenario_desc = TextAreaField(
        _l("Scenario description (within 500 characters)"),
        validators=[Optional(), Length(max=500)],
        render_kw={"rows": 2, "maxlength": 500},
    )


# --- 项目实施-改造中 (zsdx.implementation): 【提交】 checks what is required (zsdx.implementation.problems) ---------
class IndicatorForm(RowForm):
    """One 维度指标 (prefix "dim-<dimension>-"): ticked, or unticked as 不涉及; its 指标数据（改造前）."""

    ticked = BooleanField(_l("Involved"))
    before = TextAreaField(
        _l("Indicator data (before transformation)"),
        validators=[Optional(), Length(max=500, message=_l("At most %(n)s characters", n=500))],
        render_kw={"rows": 2, "maxlength": 500},
    )
