"""Admin screens: FAB's user management extended with phone, organisation and town; reference data;
announcements (市工信)."""

from flask import g
from flask_appbuilder import ModelView
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.views import UserDBModelView
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Regexp

from ..forms import PHONE_RE
from ..models import Announcement, Industry, Organisation, ProductCategory, RegistryEntry, Town
from ..security import placeholder_email

USER_LABELS = {
    "first_name": _l("Name"),
    "last_name": _l("Name (continued)"),
    "username": _l("Login name"),
    "phone": _l("Mobile phone"),
    "organisation": _l("Organisation"),
    "town": _l("Town"),
    "active": _l("Active"),
    "roles": _l("Roles"),
    "email": _l("Email"),
    "last_login": _l("Last login"),
    "login_count": _l("Login count"),
    "fail_login_count": _l("Failed login count"),
    "created_on": _l("Created on"),
    "changed_on": _l("Changed on"),
    "password": _l("Password"),
    "conf_password": _l("Confirm password"),
    "groups": _l("Groups"),
}


def _yes_no(value):
    from flask_babel import gettext

    return gettext("Yes") if value else gettext("No")


def _name_or_blank(value):
    return "" if value is None else str(value)


def _role_list(roles):
    return "、".join(r.name for r in roles or [])


def titles(noun):
    """FAB's default titles are "List Organisation" etc.: Chinese ones from one noun."""
    return {
        "list_title": _l("%(noun)s list", noun=noun),
        "add_title": _l("Add %(noun)s", noun=noun),
        "edit_title": _l("Edit %(noun)s", noun=noun),
        "show_title": _l("View %(noun)s", noun=noun),
    }


ORG_KINDS = [("enterprise", _l("Enterprise")), ("provider", _l("Service provider")),
             ("institution", _l("Assessment institution")), ("government", _l("Government department"))]
INSTITUTION_TYPES = [("", _l("None")), ("diagnostic", _l("Diagnostic service institution")),
                     ("comprehensive", _l("Comprehensive service institution"))]


def _choice_formatter(choices):
    def fmt(value):
        return str(dict(choices).get(value or "", value or ""))

    return fmt


class BlankChoiceMixin:
    """FAB renders an optional relation's empty choice as "__None": give it a Chinese label."""

    blank_choice_columns = ()

    def _init_forms(self):
        super()._init_forms()
        for form in (self.add_form, self.edit_form):
            for name in self.blank_choice_columns:
                field = getattr(form, name, None)
                if field is not None and hasattr(field, "kwargs"):
                    field.kwargs["blank_text"] = _l("Please select")


class ZsdxUserDBModelView(BlankChoiceMixin, UserDBModelView):
    list_title = _l("User list")
    add_title = _l("Add user")
    edit_title = _l("Edit user")
    show_title = _l("View user")
    """Admin creates reviewer (镇街 with its town), expert and institution accounts here.

    The phone is the login name: username and the placeholder e-mail follow it.
    """

    label_columns = USER_LABELS
    blank_choice_columns = ("organisation", "town")
    formatters_columns = {"active": _yes_no, "organisation": _name_or_blank, "town": _name_or_blank, "roles": _role_list}
    list_columns = ["first_name", "phone", "organisation", "town", "roles", "active"]
    search_columns = ["first_name", "phone", "active"]  # no relationship filters: no unbounded scans
    add_columns = ["first_name", "phone", "organisation", "town", "active", "roles", "password", "conf_password"]
    edit_columns = ["first_name", "phone", "organisation", "town", "active", "roles"]
    show_fieldsets = [
        (_l("User info"), {"fields": ["first_name", "phone", "organisation", "town", "active", "roles", "login_count"]}),
        (_l("Audit info"), {"fields": ["last_login", "fail_login_count", "created_on", "changed_on"], "expanded": False}),
    ]
    user_show_fieldsets = [(_l("User info"), {"fields": ["first_name", "phone", "organisation", "town", "roles"]})]
    add_form_extra_fields = dict(
        UserDBModelView.add_form_extra_fields,
        phone=StringField(
            _l("Mobile phone"),
            validators=[
                DataRequired(message=_l("Please enter the mobile phone number")),
                Regexp(PHONE_RE, message=_l("Please enter a valid 11-digit mobile phone number")),
            ],
            widget=BS3TextFieldWidget(),
        ),
    )
    edit_form_extra_fields = {"phone": add_form_extra_fields["phone"]}
    page_size = 20

    def pre_add(self, item):
        self._sync_login(item)
        item.last_name = item.last_name or ""
        super().pre_add(item)  # FAB hashes the password here; without it the password is stored in clear

    def pre_update(self, item):
        self._sync_login(item)
        super().pre_update(item)  # changed_on / changed_by

    def _sync_login(self, item):
        from flask_babel import gettext

        from ..extensions import db
        from ..models import ZsdxUser

        item.phone = (item.phone or "").strip()
        with db.session.no_autoflush:  # the half-built user must not be flushed by this check
            clash = db.session.query(ZsdxUser.id).filter(
                (ZsdxUser.phone == item.phone) | (ZsdxUser.username == item.phone), ZsdxUser.id != item.id
            ).first()
        if clash:
            raise ValueError(gettext("This mobile phone number is already registered"))
        item.username = item.phone
        item.email = placeholder_email(item.phone)


class TownView(ModelView):
    datamodel = SQLAInterface(Town)
    locals().update(titles(_l("Town or street")))
    label_columns = {"code": _l("Town code"), "name": _l("Town name"), "sort": _l("Sort order")}
    list_columns = ["code", "name", "sort"]
    add_columns = edit_columns = show_columns = ["code", "name", "sort"]
    search_columns = ["code", "name"]
    base_order = ("sort", "asc")
    page_size = 50


class IndustryView(ModelView):
    datamodel = SQLAInterface(Industry)
    locals().update(titles(_l("Industry segment")))
    label_columns = {"name": _l("Industry segment"), "sort": _l("Sort order")}
    list_columns = add_columns = edit_columns = show_columns = ["name", "sort"]
    search_columns = ["name"]
    base_order = ("sort", "asc")
    page_size = 50


class ProductCategoryView(BlankChoiceMixin, ModelView):
    datamodel = SQLAInterface(ProductCategory)
    blank_choice_columns = ("parent",)
    locals().update(titles(_l("Main product category")))
    formatters_columns = {"parent": _name_or_blank}
    label_columns = {"name": _l("Category name"), "level": _l("Level"), "parent": _l("Parent category")}
    list_columns = ["name", "level", "parent"]
    add_columns = edit_columns = show_columns = ["name", "level", "parent"]
    search_columns = ["name", "level"]
    page_size = 50


class OrganisationView(BlankChoiceMixin, ModelView):
    datamodel = SQLAInterface(Organisation)
    blank_choice_columns = ("town", "industry")
    locals().update(titles(_l("Unit")))
    formatters_columns = {
        "town": _name_or_blank, "industry": _name_or_blank, "is_industry_provider": _yes_no,
        "is_scenario_provider": _yes_no, "is_ecosystem_provider": _yes_no, "credit_code": _name_or_blank,
        "kind": _choice_formatter(ORG_KINDS), "institution_type": _choice_formatter(INSTITUTION_TYPES),
        "contact_name": _name_or_blank, "contact_phone": _name_or_blank,
    }
    add_form_extra_fields = edit_form_extra_fields = {
        "kind": SelectField(_l("Organisation kind"), choices=ORG_KINDS, widget=Select2Widget()),
        "institution_type": SelectField(
            _l("Institution type"), choices=INSTITUTION_TYPES, widget=Select2Widget(),
            filters=[lambda v: v or None],
        ),
    }
    label_columns = {
        "kind": _l("Organisation kind"),
        "name": _l("Organisation name"),
        "credit_code": _l("Social credit code"),
        "town": _l("Town"),
        "industry": _l("Industry segment"),
        "contact_name": _l("Contact person"),
        "contact_phone": _l("Contact phone"),
        "is_industry_provider": _l("Industry service provider"),
        "is_scenario_provider": _l("Scenario service provider"),
        "is_ecosystem_provider": _l("Industrial ecosystem service provider"),
        "institution_type": _l("Institution type"),
        "created_on": _l("Created on"),
    }
    list_columns = ["name", "kind", "credit_code", "town", "institution_type"]
    columns = [
        "kind", "name", "credit_code", "town", "industry", "contact_name", "contact_phone",
        "is_industry_provider", "is_scenario_provider", "is_ecosystem_provider", "institution_type",
    ]
    add_columns = edit_columns = show_columns = columns
    search_columns = ["name", "kind", "credit_code", "institution_type"]
    page_size = 20


class RegistryView(BlankChoiceMixin, ModelView):
    datamodel = SQLAInterface(RegistryEntry)
    blank_choice_columns = ("town",)
    locals().update(titles(_l("Business registry entry")))
    formatters_columns = {"town": _name_or_blank, "legal_representative": _name_or_blank, "address": _name_or_blank}
    label_columns = {
        "name": _l("Enterprise name"),
        "credit_code": _l("Social credit code"),
        "town": _l("Town"),
        "legal_representative": _l("Legal representative"),
        "address": _l("Address"),
    }
    list_columns = ["name", "credit_code", "town"]
    add_columns = edit_columns = show_columns = ["name", "credit_code", "town", "legal_representative", "address"]
    search_columns = ["name", "credit_code"]
    page_size = 20


class AnnouncementAdminView(ModelView):
    """公告 management for 市工信 (and Admin)."""

    datamodel = SQLAInterface(Announcement)
    locals().update(titles(_l("Announcement")))
    label_columns = {
        "title": _l("Title"),
        "body": _l("Content"),
        "published": _l("Published"),
        "published_at": _l("Published at"),
        "author": _l("Author"),
    }
    list_columns = ["title", "published", "published_at", "author"]
    add_columns = edit_columns = ["title", "body", "published"]
    show_columns = ["title", "body", "published", "published_at", "author"]
    search_columns = ["title", "published"]
    formatters_columns = {"published": _yes_no, "author": _name_or_blank}
    base_order = ("published_at", "desc")
    page_size = 20

    def pre_add(self, item):
        item.author_id = g.user.id
