"""Admin screens: FAB's user management extended with phone, organisation and town; reference data;
announcements (市工信)."""

from flask import g
from flask_appbuilder import ModelView
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_appbuilder.security.views import RoleModelView, UserDBModelView
from flask_appbuilder.widgets import ListWidget, ShowWidget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Regexp, ValidationError

from ..forms import PHONE_RE
from ..models import Announcement, Industry, Organisation, ProductCategory, RegistryEntry, Town
from ..phones import normalise_phone
from ..request_cache import ProcessMemo, per_request
from ..security import placeholder_email
from .datamodel import EagerSQLAInterface

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


ORG_KINDS = [
    ("enterprise", _l("Enterprise")),
    ("provider", _l("Service provider")),
    ("institution", _l("Assessment institution")),
    ("government", _l("Government department")),
]
INSTITUTION_TYPES = [
    ("", _l("None")),
    ("diagnostic", _l("Diagnostic service institution")),
    ("comprehensive", _l("Comprehensive service institution")),
]


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
    formatters_columns = {
        "active": _yes_no,
        "organisation": _name_or_blank,
        "town": _name_or_blank,
        "roles": _role_list,
    }
    list_columns = ["first_name", "phone", "organisation", "town", "roles", "active"]
    search_columns = ["first_name", "phone", "active"]  # no relationship filters: no unbounded scans
    add_columns = ["first_name", "phone", "organisation", "town", "active", "roles", "password", "conf_password"]
    edit_columns = ["first_name", "phone", "organisation", "town", "active", "roles"]
    show_fieldsets = [
        (
            _l("User info"),
            {"fields": ["first_name", "phone", "organisation", "town", "active", "roles", "login_count"]},
        ),
        (
            _l("Audit info"),
            {"fields": ["last_login", "fail_login_count", "created_on", "changed_on"], "expanded": False},
        ),
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
            filters=[normalise_phone],  # full-width digits, spaces and dashes: the same phone
            widget=BS3TextFieldWidget(),
        ),
    )
    edit_form_extra_fields = {"phone": add_form_extra_fields["phone"]}
    # FAB's validator reads form["groups"], a field zsdx's forms leave out: KeyError (a 500) on an empty role
    validators_columns = {"roles": [DataRequired(message=_l("Please select a role"))]}
    page_size = 20

    def __init__(self, **kwargs):
        # FAB's security manager hands this view a plain SQLAInterface(user_model); the list shows each
        # user's organisation, town and roles: load them with the page, not row by row (issue 7).
        from .datamodel import EagerSQLAInterface

        self.datamodel = EagerSQLAInterface(self.datamodel.obj, joined=("organisation", "town"), selectin=("roles",))
        super().__init__(**kwargs)

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
            clash = (
                db.session.query(ZsdxUser.id)
                .filter((ZsdxUser.phone == item.phone) | (ZsdxUser.username == item.phone), ZsdxUser.id != item.id)
                .first()
            )
        if clash:
            raise ValueError(gettext("This mobile phone number is already registered"))
        item.username = item.phone
        item.email = placeholder_email(item.phone)


class TownView(ModelView):
    datamodel = EagerSQLAInterface(Town)
    locals().update(titles(_l("Town or street")))
    label_columns = {"code": _l("Town code"), "name": _l("Town name"), "sort": _l("Sort order")}
    list_columns = ["code", "name", "sort"]
    add_columns = edit_columns = show_columns = ["code", "name", "sort"]
    search_columns = ["code", "name"]
    base_order = ("sort", "asc")
    page_size = 50


class IndustryView(ModelView):
    datamodel = EagerSQLAInterface(Industry)
    locals().update(titles(_l("Industry segment")))
    label_columns = {"name": _l("Industry segment"), "sort": _l("Sort order")}
    list_columns = add_columns = edit_columns = show_columns = ["name", "sort"]
    search_columns = ["name"]
    base_order = ("sort", "asc")
    page_size = 50


class ProductCategoryView(BlankChoiceMixin, ModelView):
    datamodel = EagerSQLAInterface(ProductCategory, options=lambda m: [joinedload(m.parent).joinedload(m.parent)])
    blank_choice_columns = ("parent",)
    locals().update(titles(_l("Main product category")))
    formatters_columns = {"parent": _name_or_blank}
    label_columns = {"name": _l("Category name"), "level": _l("Level"), "parent": _l("Parent category")}
    list_columns = ["name", "level", "parent"]
    add_columns = edit_columns = show_columns = ["name", "level", "parent"]
    search_columns = ["name", "level"]
    page_size = 50

    def _check(self, item):
        """The tree stays a tree of three levels: level 1 has no parent, level n has a parent of level n-1."""
        if item.level not in (1, 2, 3):
            raise ValidationError(_("The level must be 1, 2 or 3"))
        if item.level == 1 and item.parent is not None:
            raise ValidationError(_("A first-level category has no parent category"))
        if item.level > 1 and (item.parent is None or item.parent.level != item.level - 1):
            raise ValidationError(_("Please choose a parent category of level %(n)s", n=item.level - 1))

    def pre_add(self, item):
        self._check(item)

    def pre_update(self, item):
        self._check(item)


class OrganisationView(BlankChoiceMixin, ModelView):
    datamodel = EagerSQLAInterface(Organisation, joined=("town",))
    blank_choice_columns = ("town", "industry")
    locals().update(titles(_l("Unit")))
    formatters_columns = {
        "town": _name_or_blank,
        "industry": _name_or_blank,
        "is_industry_provider": _yes_no,
        "is_scenario_provider": _yes_no,
        "is_ecosystem_provider": _yes_no,
        "credit_code": _name_or_blank,
        "kind": _choice_formatter(ORG_KINDS),
        "institution_type": _choice_formatter(INSTITUTION_TYPES),
        "contact_name": _name_or_blank,
        "contact_phone": _name_or_blank,
    }
    add_form_extra_fields = edit_form_extra_fields = {
        "kind": SelectField(_l("Organisation kind"), choices=ORG_KINDS, widget=Select2Widget()),
        "institution_type": SelectField(
            _l("Institution type"),
            choices=INSTITUTION_TYPES,
            widget=Select2Widget(),
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
        "kind",
        "name",
        "credit_code",
        "town",
        "industry",
        "contact_name",
        "contact_phone",
        "is_industry_provider",
        "is_scenario_provider",
        "is_ecosystem_provider",
        "institution_type",
    ]
    add_columns = edit_columns = show_columns = columns
    search_columns = ["name", "kind", "credit_code", "institution_type"]
    page_size = 20


class RegistryView(BlankChoiceMixin, ModelView):
    datamodel = EagerSQLAInterface(RegistryEntry, joined=("town",))
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

    datamodel = EagerSQLAInterface(Announcement, joined=("author",))
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


# --- 角色列表: permissions readable in Chinese, grouped by screen -----------------------------------------
# FAB names a permission after a method (can_list, can_index, …) and a view after its class or menu name;
# the Admin sees them as "<screen>：<operation>". Screens take their menu labels (zsdx/views/__init__.py and
# FAB's security menu); the screens without a menu and the operations are named here.
PERMISSION_LABELS = {
    "menu_access": _l("Menu"),
    "can_index": _l("Open"),
    "can_list": _l("List"),
    "can_show": _l("View"),
    "can_add": _l("Add"),
    "can_edit": _l("Edit"),
    "can_delete": _l("Delete"),
    "muldelete": _l("Delete in bulk"),
    "can_download": _l("Download"),
    "can_get": _l("Read data"),
    "can_post": _l("Create"),
    "can_put": _l("Modify"),
    "can_info": _l("Describe"),
    "can_act": _l("Review"),
    "can_assign": _l("Assign"),
    "can_attachment": _l("Attachments"),
    "can_authorization_template": _l("Authorisation letter template"),
    "can_bulk": _l("Bulk approval"),
    "can_change": _l("Change"),
    "can_chart": _l("Chart"),
    "can_confirm": _l("Confirm"),
    "can_detail": _l("Details"),
    "can_export": _l("Export"),
    "can_file": _l("Files"),
    "can_form": _l("Fill in"),
    "can_new": _l("Start"),
    "can_open": _l("Open item"),
    "can_password": _l("Change password"),
    "can_phone": _l("Change bound phone"),
    "can_queue": _l("Queue"),
    "can_read_all": _l("Mark all as read"),
    "can_reply": _l("Reply"),
    "can_report": _l("Report"),
    "can_report_file": _l("Report file"),
    "can_result": _l("Result"),
    "can_start": _l("Start"),
    "can_submit": _l("Submit"),
    "can_this_form_get": _l("Open form"),
    "can_this_form_post": _l("Submit form"),
    "can_thread": _l("Conversation"),
    "can_threads": _l("Conversations"),
    "can_upload": _l("Upload"),
    "can_userinfo": _l("Own profile"),
    "copyrole": _l("Copy role"),
    "resetmypassword": _l("Reset own password"),
    "resetpasswords": _l("Reset passwords"),
    "userinfoedit": _l("Edit own profile"),
}
PERMISSION_ORDER = {name: i for i, name in enumerate(PERMISSION_LABELS)}
# Screens that have no menu entry (their permission view is the class name); a stage's own screen declares
# its label as `screen_label` on its view class instead.
VIEW_LABELS = {
    "AccountView": _l("Account settings"),
    "InfoChangeView": _l("Information change"),
    "NotificationView": _l("Notifications"),
    "MessageBoardView": _l("Message board"),
    "FilingView": _l("Project filing"),
    "DiagnosisView": _l("Pre-diagnosis"),
    "FilingApi": _l("Project filing API"),
    "MenuApi": _l("Menu API"),
    "ResetMyPasswordView": _l("Reset own password"),
    "ResetPasswordView": _l("Reset passwords"),
    "UserInfoEditView": _l("Edit own profile"),
    "RegisterView": _l("Register"),
    "SmsView": _l("SMS verification code"),
    "ForgotPasswordView": _l("Forgot password"),
}
ROLE_LABELS = {"AUTH_ROLE_ADMIN": _l("Platform administrator"), "AUTH_ROLE_PUBLIC": _l("Public access")}


def _menu_labels():
    """Permission view name → menu label: each menu item under its menu name and its view's permission name."""
    from flask import current_app

    labels = {}

    def walk(items):
        for item in items:
            if item.label:
                labels.setdefault(item.name, item.label)
                if item.baseview is not None:
                    labels.setdefault(item.baseview.class_permission_name, item.label)
            walk(item.childs)

    walk(current_app.appbuilder.menu.get_list())
    return labels


def _declared_label(name):
    """The label a screen without a menu entry declares itself (`screen_label` on its view class)."""
    from flask import current_app

    for view in current_app.appbuilder.baseviews:
        if view.class_permission_name == name:
            return getattr(view, "screen_label", None)
    return None


def view_label(name, menu_labels=None):
    menu_labels = _menu_labels() if menu_labels is None else menu_labels
    return str(menu_labels.get(name) or VIEW_LABELS.get(name) or _declared_label(name) or name)


def permission_label(name):
    label = PERMISSION_LABELS.get(name)
    return str(label) if label is not None else name.removeprefix("can_")


def permission_view_label(pv, menu_labels=None):
    """One permission as the Admin reads it: "我的工作台：访问"."""
    return f"{view_label(pv.view_menu.name, menu_labels)}：{permission_label(pv.permission.name)}"


def role_label(name):
    from flask import current_app

    for key, label in ROLE_LABELS.items():
        if name == current_app.config.get(key):
            return str(label)
    return name


@per_request
def _request_labels():
    """The screen and operation labels of this request, each translated once (the 角色列表 shows every
    role's permissions: a few hundred rows naming the same hundred screens): two dicts the caller fills as
    it translates, and the menu's labels."""
    return {}, {}, _menu_labels()


def grouped_permissions(grants):
    """[(screen, [operation, …]), …] sorted by screen, operations in PERMISSION_LABELS' order. `grants`: a
    role's PermissionView rows (its form, its show page) or its (permission, view) name pairs (the 角色列表,
    zsdx.views.datamodel.RoleInterface)."""
    screens, operations, menu_labels = _request_labels()
    groups = {}
    for grant in grants or []:
        permission, name = grant if isinstance(grant, tuple) else (grant.permission.name, grant.view_menu.name)
        screen = screens.get(name)
        if screen is None:
            screen = screens[name] = view_label(name, menu_labels)
        groups.setdefault(screen, set()).add(permission)
    out = []
    for screen, perms in sorted(groups.items()):
        labels = []
        for p in sorted(perms, key=lambda p: (PERMISSION_ORDER.get(p, 999), p)):
            if p not in operations:
                operations[p] = permission_label(p)
            labels.append(operations[p])
        out.append((screen, labels))
    return out


_GRANTS_HTML = ProcessMemo()  # (locale, a role's name pairs) -> its list cell: the pairs change with the grants


def _permissions_html(grants):
    from flask_babel import get_locale
    from markupsafe import Markup, escape

    key = (str(get_locale()), grants) if isinstance(grants, frozenset) else None
    if key is not None and key in _GRANTS_HTML:
        return _GRANTS_HTML[key]
    items = "".join(
        Markup('<li><span class="zs-perm-view">{}</span>：{}</li>').format(screen, "、".join(ops))
        for screen, ops in grouped_permissions(grants)
    )
    html = Markup('<ul class="zs-perm-groups">') + Markup(items) + Markup("</ul>") if items else escape("")
    return _GRANTS_HTML.keep(key, html) if key is not None else html


class ZsdxRoleModelView(RoleModelView):
    """FAB's 角色列表 with Chinese names. Permission names stay FAB's; only what is shown changes."""

    class_permission_name = "RoleModelView"  # keep the permission rows of FAB's view (FAB-NOTES P3)
    list_widget = ListWidget  # FAB's role widgets ignore formatters; zsdx has no FAB_ROLES builtin roles
    show_widget = ShowWidget
    list_title = _l("Role list")
    show_title = _l("View role")
    add_title = _l("Add role")
    edit_title = _l("Edit role")
    label_columns = {"name": _l("Role name"), "permissions": _l("Permissions")}
    search_columns = ["name"]  # FAB's default also fills dropdowns of every permission, user and group
    # users get their roles on the user form; a role form listing every user would load all of them
    add_columns = edit_columns = ["name", "permissions"]
    formatters_columns = {"name": role_label, "permissions": _permissions_html}

    def _init_forms(self):
        super()._init_forms()
        for form in (self.add_form, self.edit_form):
            field = getattr(form, "permissions", None)
            if field is not None and hasattr(field, "kwargs"):
                field.kwargs["get_label"] = permission_view_label
