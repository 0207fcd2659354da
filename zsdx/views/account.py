"""Manual chapters 01 and 10: registration, login (password + captcha, SMS), 忘记密码, 修改密码,
修改绑定手机号 and the 信息变更 request."""

from flask import abort, current_app, flash, g, jsonify, redirect, request, session, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.security.views import AuthDBView
from flask_appbuilder.utils.base import get_safe_redirect
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from sqlalchemy import or_
from werkzeug.security import check_password_hash

from .. import roles as R
from ..creditcode import normalise
from ..extensions import db
from ..files import EVIDENCE, UploadError, serve, store_upload
from ..forms import (
    ChangePasswordForm,
    ChangePhoneForm,
    ForgotPasswordForm,
    InfoChangeForm,
    LoginPasswordForm,
    LoginSmsForm,
    RegisterForm,
)
from ..models import (
    Industry,
    InfoChangeAttachment,
    InfoChangeRequest,
    LoginFailure,
    Organisation,
    OrgKind,
    RegistryEntry,
    ReviewStatus,
    Town,
    ZsdxUser,
)
from ..phones import MAX_TYPED_PHONE, is_login_name, is_phone, normalise_phone
from ..request_cache import per_request
from ..security import (
    SESSION_EPOCH_KEY,
    PasswordRuleError,
    SmsError,
    SmsPurpose,
    _clear_failures,
    check_captcha,
    check_sms_code,
    lock_remaining_minutes,
    new_captcha_png,
    placeholder_email,
    send_sms_code,
)
from ..stages import STAGES
from ..visibility import get_owned_or_404, owned
from ..workflow import submit_record


@per_request
def town_rows():
    """(id, name) of every town in display order: one statement per request, shared by every list that
    shows or filters by town."""
    return [(r.id, r.name) for r in db.session.query(Town.id, Town.name).order_by(Town.sort, Town.id)]


def town_choices(blank=True):
    return ([(0, _("Please select"))] if blank else []) + list(town_rows())


@per_request
def _town_names():
    return dict(town_rows())


def town_name(town_id):
    """A town's name by id from town_rows (no statement of its own); '' for none."""
    return _town_names().get(town_id, "") if town_id else ""


def industry_choices(blank=True):
    rows = db.session.query(Industry.id, Industry.name).order_by(Industry.sort, Industry.id).all()
    return ([(0, _("Please select industry segment"))] if blank else []) + [(r.id, r.name) for r in rows]


def landing_url(user):
    """Where a user lands after logging in."""
    if any(r.name == current_app.config["AUTH_ROLE_ADMIN"] for r in user.roles):
        return url_for("HomeView.index")
    return url_for("WorkbenchView.index")


class ZsdxAuthView(AuthDBView):
    """Login by 手机号 + 密码 + 图形验证码, or by 手机号 + 短信验证码 (FAB rate-limits its POSTs)."""

    login_template = "zsdx/login.html"
    invalid_login_message = _l("Wrong account or password")

    @expose("/login/", methods=["GET", "POST"])
    def login(self):
        if g.user is not None and g.user.is_authenticated:
            return redirect(landing_url(g.user))
        mode = request.form.get("sms-mode") or request.form.get("pw-mode") or request.args.get("mode", "password")
        pw_form = LoginPasswordForm(prefix="pw")
        sms_form = LoginSmsForm(prefix="sms")
        if request.method == "POST":
            if mode == "sms" and sms_form.validate_on_submit():
                user = self._login_by_sms(sms_form)
                if user:
                    return self._logged_in(user)
            elif mode != "sms" and pw_form.validate_on_submit():
                user = self._login_by_password(pw_form)
                if user:
                    return self._logged_in(user)
        return self._render_login(pw_form, sms_form, mode)

    def _render_login(self, pw_form, sms_form, mode, error=None):
        return self.render_template(
            self.login_template,
            title=_("Login"),
            pw_form=pw_form,
            sms_form=sms_form,
            mode="sms" if mode == "sms" else "password",
            captcha_enabled=current_app.config.get("CAPTCHA_ENABLED", True),
            login_error=error,
            appbuilder=self.appbuilder,
        )

    def create_blueprint(self, appbuilder, endpoint=None, static_folder=None):
        blueprint = super().create_blueprint(appbuilder, endpoint=endpoint, static_folder=static_folder)
        blueprint.register_error_handler(429, self._rate_limited)
        return blueprint

    def _rate_limited(self, error):
        """A login over a rate limit: the login page itself, in Chinese, with what was typed (429)."""
        from ..errors import render_error, too_many_message

        if request.method != "POST" or request.is_json:
            return render_error(error)
        mode = request.form.get("sms-mode") or request.form.get("pw-mode") or "password"
        pw_form = LoginPasswordForm(prefix="pw")
        sms_form = LoginSmsForm(prefix="sms")
        pw_form.password.data = None  # never echo a password back
        response = current_app.make_response(self._render_login(pw_form, sms_form, mode, too_many_message(error)))
        response.status_code = 429
        return response

    def _login_by_password(self, form):
        if not check_captcha(form.captcha.data):
            form.captcha.errors.append(_("The graphic verification code is wrong or has expired"))
            return None
        phone = form.phone.data  # normalised by the field (zsdx.phones.normalise_login)
        if not is_login_name(phone):  # overlong or control characters: refused, counted against no account
            form.phone.errors.append(_("Please enter a valid account (mobile phone number)"))
            return None
        user = self.appbuilder.sm.auth_user_db(phone, form.password.data)
        if user:
            return user
        locked = getattr(g, "login_locked_minutes", 0)
        if locked:
            form.password.errors.append(_locked_message(locked))
        else:
            row = db.session.query(LoginFailure).filter_by(login=phone).one_or_none()
            left = current_app.config["LOGIN_MAX_FAILURES"] - (row.failures if row else 0)
            form.password.errors.append(
                _("Wrong account or password; %(left)s tries left before the account is locked", left=left)
            )
        return None

    def _login_by_sms(self, form):
        phone = form.phone.data.strip()
        user = self.appbuilder.sm.user_by_phone(phone)
        if user is None or not user.is_active:
            form.phone.errors.append(_("This mobile phone number is not registered"))
            return None
        # A lock is a lock: a password-locked account does not get in by SMS either (the code is not used up,
        # the lock is not cleared); wrong codes count only against the code (zsdx.security.check_sms_code).
        locked = lock_remaining_minutes(user.username)
        if locked:
            form.sms_code.errors.append(_locked_message(locked))
            return None
        problem = check_sms_code(phone, SmsPurpose.LOGIN, form.sms_code.data)
        if problem:
            form.sms_code.errors.append(problem)
            return None
        self.appbuilder.sm.update_user_auth_stat(user, True)
        _clear_failures(user.username)
        return user

    def _logged_in(self, user):
        login_user(user, remember=False)
        # get_safe_redirect("") logs "Invalid redirect detected": only ask it about a `next` there is.
        next_arg = request.args.get("next")
        next_url = get_safe_redirect(next_arg) if next_arg else landing_url(user)
        return redirect(next_url)

    @expose("/logout/", methods=["GET", "POST"])
    def logout(self):
        """POST (with the CSRF token CSRFProtect checks) signs out, and ends every session and token of the
        user everywhere (a copied cookie included). GET only asks: a link or an image cannot sign anyone out."""
        user = g.user if g.user is not None and g.user.is_authenticated else None
        if request.method == "GET":
            if user is None:
                return redirect(url_for(".login"))
            return self.render_template("zsdx/logout.html", title=_("Log out"), appbuilder=self.appbuilder)
        if user is not None:
            user_id = user.id
            self.appbuilder.sm.end_sessions(user_id)
            logout_user()
            self.appbuilder.sm.on_user_logout(self.appbuilder.sm.get_user_by_id(user_id))
        session.pop(SESSION_EPOCH_KEY, None)
        return redirect(self.appbuilder.get_url_for_index)

    @expose("/login/captcha.png")
    def captcha(self):
        response = current_app.response_class(new_captcha_png(), mimetype="image/png")
        response.headers["Cache-Control"] = "no-store"
        return response


def _locked_message(minutes):
    return _(
        "Too many wrong passwords: the account is locked, please try again in %(minutes)s minutes",
        minutes=minutes,
    )


class SmsView(BaseView):
    """POST /sms/send: a verification code for registration, login, reset or a new phone.

    Every refusal is JSON with a Chinese message, shown beside the field (zsdx.js), the per-IP limit and an
    expired page included."""

    route_base = "/sms"

    def create_blueprint(self, appbuilder, endpoint=None, static_folder=None):
        from werkzeug.exceptions import HTTPException

        from ..errors import json_error

        blueprint = super().create_blueprint(appbuilder, endpoint=endpoint, static_folder=static_folder)
        blueprint.register_error_handler(HTTPException, json_error)
        return blueprint

    @expose("/send", methods=["POST"])
    def send(self):
        data = request.get_json(silent=True) if request.is_json else request.form
        if not isinstance(data, dict):  # a JSON list, string or number: not a request this page sends
            abort(400)
        purpose = data.get("purpose")
        if not isinstance(purpose, str) or purpose not in SmsPurpose.ALL:
            abort(400)
        phone = data.get("phone")
        # full-width digits, spaces and dashes are the same phone, with the same send limits (zsdx.phones)
        phone = normalise_phone(phone) if isinstance(phone, str) and len(phone) <= MAX_TYPED_PHONE else None
        if not is_phone(phone):
            return jsonify(ok=False, field="phone", message=_("Please enter a valid 11-digit mobile phone number")), 400
        registered = self.appbuilder.sm.user_by_phone(phone) is not None
        if purpose in (SmsPurpose.REGISTER, SmsPurpose.CHANGE_PHONE) and registered:
            return jsonify(ok=False, field="phone", message=_("This mobile phone number is already registered")), 400
        if purpose in (SmsPurpose.LOGIN, SmsPurpose.RESET) and not registered:
            return jsonify(ok=False, field="phone", message=_("This mobile phone number is not registered")), 400
        if purpose == SmsPurpose.CHANGE_PHONE and (g.user is None or not g.user.is_authenticated):
            abort(401)
        try:
            send_sms_code(phone, purpose)
        except SmsError as exc:
            return jsonify(ok=False, field="sms_code", message=str(exc)), 429
        return jsonify(ok=True, message=_("The verification code has been sent"))


class RegisterView(BaseView):
    """【注册】: tabs 企业 / 服务商. A registered account gets the role of its tab, never any other."""

    route_base = "/register"
    default_view = "form"

    @expose("/", methods=["GET", "POST"])
    def form(self):
        form = RegisterForm()
        form.town_id.choices = town_choices()
        form.industry_id.choices = industry_choices()
        if request.method == "GET" and request.args.get("kind") == "provider":
            form.kind.data = "provider"
        if form.validate_on_submit():
            if self._register(form):
                flash(_("Registration succeeded, please log in"), "success")
                return redirect(url_for("ZsdxAuthView.login"))
        return self.render_template("zsdx/register.html", form=form, title=_("Register"))

    def _register(self, form):
        phone = form.phone.data.strip()
        if self.appbuilder.sm.user_by_phone(phone) or self.appbuilder.sm.find_user(username=phone):
            form.phone.errors.append(_("This mobile phone number is already registered"))
            return False
        code = normalise(form.credit_code.data)
        # not a row load: only whether the credit code is taken
        if db.session.query(Organisation.id).filter_by(credit_code=code).first():
            form.credit_code.errors.append(
                _("This enterprise already has an account; please ask its administrator or the platform to add you")
            )
            return False
        if not db.session.get(Town, form.town_id.data):
            form.town_id.errors.append(_("Please select the region"))
            return False
        problem = check_sms_code(phone, SmsPurpose.REGISTER, form.sms_code.data)
        if problem:
            form.sms_code.errors.append(problem)
            return False
        is_provider = form.kind.data == "provider"
        org = Organisation(
            kind=OrgKind.PROVIDER if is_provider else OrgKind.ENTERPRISE,
            name=form.org_name.data.strip(),
            credit_code=code,
            town_id=form.town_id.data,
            industry_id=form.industry_id.data or None,
            contact_name=form.contact_name.data.strip(),
            contact_phone=phone,
            is_industry_provider=is_provider and form.is_industry_provider.data,
            is_scenario_provider=is_provider and form.is_scenario_provider.data,
            is_ecosystem_provider=is_provider and form.is_ecosystem_provider.data,
        )
        db.session.add(org)
        role = self.appbuilder.sm.find_role(R.PROVIDER if is_provider else R.ENTERPRISE)
        try:
            user = self.appbuilder.sm.add_user(
                username=phone,
                first_name=form.contact_name.data.strip()[:64],
                last_name="",
                email=placeholder_email(phone),
                role=role,
                password=form.password.data,
                commit=False,
            )
        except PasswordRuleError as exc:
            db.session.rollback()
            form.password.errors.append(str(exc))
            return False
        if not user:
            db.session.rollback()
            form.phone.errors.append(_("Registration failed, please try again"))
            return False
        user.phone = phone
        user.organisation = org
        db.session.commit()
        return True

    @expose("/registry")
    def registry(self):
        """Fuzzy search of the business registry by name: fills 社会信用代码 and 所属地区."""
        q = (request.args.get("q") or "").strip()
        if len(q) < 2:
            return jsonify(results=[])
        like = "%" + q.replace("%", r"\%").replace("_", r"\_") + "%"
        rows = (
            db.session.query(RegistryEntry)
            .filter(or_(RegistryEntry.name.like(like, escape="\\"), RegistryEntry.credit_code == q.upper()))
            .order_by(RegistryEntry.name)
            .limit(10)
            .all()
        )
        return jsonify(
            results=[
                {
                    "name": r.name,
                    "credit_code": r.credit_code,
                    "town_id": r.town_id,
                    "town": r.town.name if r.town else "",
                }
                for r in rows
            ]
        )


class ForgotPasswordView(BaseView):
    """忘记密码: phone + SMS code + new password twice → 去登录."""

    route_base = "/forgot-password"
    default_view = "form"

    @expose("/", methods=["GET", "POST"])
    def form(self):
        form = ForgotPasswordForm()
        done = False
        if form.validate_on_submit():
            phone = form.phone.data.strip()
            user = self.appbuilder.sm.user_by_phone(phone)
            if user is None:
                form.phone.errors.append(_("This mobile phone number is not registered"))
            else:
                problem = check_sms_code(phone, SmsPurpose.RESET, form.sms_code.data)
                if problem:
                    form.sms_code.errors.append(problem)
                else:
                    self.appbuilder.sm.reset_password(user.id, form.password.data)
                    _clear_failures(phone)
                    done = True
        return self.render_template("zsdx/forgot_password.html", form=form, done=done, title=_("Forgot password"))


class AccountView(BaseView):
    """修改密码 and 修改绑定手机号, for every signed-in user."""

    route_base = "/account"
    default_view = "password"

    @expose("/password", methods=["GET", "POST"])
    @has_access
    def password(self):
        form = ChangePasswordForm()
        if form.validate_on_submit():
            if not check_password_hash(g.user.password or "", form.old_password.data):
                form.old_password.errors.append(_("The original password is wrong"))
            elif form.old_password.data == form.password.data:
                form.password.errors.append(_("The new password must differ from the original one"))
            else:
                self.appbuilder.sm.reset_password(g.user.id, form.password.data)
                flash(_("The password has been changed"), "success")
                return redirect(url_for("WorkbenchView.index"))
        return self.render_template("zsdx/account_form.html", form=form, title=_("Change password"), sms_field=None)

    @expose("/phone", methods=["GET", "POST"])
    @has_access
    def phone(self):
        form = ChangePhoneForm()
        if form.validate_on_submit():
            user = db.session.get(ZsdxUser, g.user.id)
            new_phone = form.phone.data.strip()
            if form.old_phone.data.strip() != (user.phone or ""):
                form.old_phone.errors.append(_("The original mobile phone number is not the one bound to this account"))
            elif new_phone == user.phone:
                form.phone.errors.append(_("The new mobile phone number is the same as the original one"))
            elif self.appbuilder.sm.user_by_phone(new_phone) or self.appbuilder.sm.find_user(username=new_phone):
                form.phone.errors.append(_("This mobile phone number is already registered"))
            else:
                problem = check_sms_code(new_phone, SmsPurpose.CHANGE_PHONE, form.sms_code.data)
                if problem:
                    form.sms_code.errors.append(problem)
                else:
                    if user.organisation and user.organisation.contact_phone == user.phone:
                        user.organisation.contact_phone = new_phone
                    user.phone = new_phone
                    user.username = new_phone
                    user.email = placeholder_email(new_phone)
                    db.session.commit()
                    flash(
                        _("The bound mobile phone number has been changed; log in with the new number next time"),
                        "success",
                    )
                    return redirect(url_for("WorkbenchView.index"))
        return self.render_template(
            "zsdx/account_form.html", form=form, title=_("Change bound mobile phone"), sms_field="sms_code"
        )


class InfoChangeView(BaseView):
    """信息变更: a request to change the organisation's basic data, applied only after 市工信 approves."""

    route_base = "/info-change"
    default_view = "form"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def form(self):
        org = g.user.organisation
        if org is None:
            abort(404)
        history = (  # the newest ten requests, the first of which decides what the form shows
            owned(InfoChangeRequest)
            .order_by(InfoChangeRequest.created_at.desc(), InfoChangeRequest.id.desc())
            .limit(10)
            .all()
        )
        latest = history[0] if history else None
        pending = latest if latest is not None and latest.status == ReviewStatus.REVIEWING else None
        returned = latest if latest is not None and latest.status == ReviewStatus.RETURNED else None
        source = returned or org
        form = InfoChangeForm(
            data=None
            if request.method == "POST"
            else {
                "name": source.name,
                "credit_code": source.credit_code,
                "town_id": source.town_id or 0,
                "industry_id": source.industry_id or 0,
                "contact_name": source.contact_name,
                "contact_phone": source.contact_phone,
            }
        )
        form.town_id.choices = town_choices()
        form.industry_id.choices = industry_choices()
        upload_error = None
        if form.validate_on_submit():
            if pending:
                flash(_("A change request is already waiting for review"), "warning")
            elif not db.session.get(Town, form.town_id.data):
                form.town_id.errors.append(_("Please select the district"))
            else:
                code = normalise(form.credit_code.data)
                clash = (  # not a row load: only whether another organisation has the code
                    db.session.query(Organisation.id)
                    .filter(Organisation.credit_code == code, Organisation.id != org.id)
                    .first()
                )
                if clash:
                    form.credit_code.errors.append(_("Another registered enterprise already uses this credit code"))
                else:
                    # A returned request is corrected and resubmitted; otherwise a new one is made.
                    change = returned or InfoChangeRequest(organisation_id=org.id, requester_id=g.user.id)
                    change.name = form.name.data.strip()
                    change.credit_code = code
                    change.town_id = form.town_id.data
                    change.industry_id = form.industry_id.data or None
                    change.contact_name = form.contact_name.data.strip()
                    change.contact_phone = form.contact_phone.data.strip()
                    try:
                        for storage in request.files.getlist("attachments"):
                            if storage and storage.filename:
                                stored = store_upload(storage, EVIDENCE, g.user.id)
                                change.attachments.append(InfoChangeAttachment(file=stored))
                    except UploadError as exc:
                        db.session.rollback()
                        upload_error = str(exc)
                    else:
                        db.session.add(change)
                        db.session.flush()
                        submit_record(change, g.user)  # the request, its files and the submission: one commit
                        flash(_("The change request has been submitted and takes effect after review"), "success")
                        return redirect(url_for("InfoChangeView.form"))
        from ..models import ReviewAction

        opinions = {
            a.subject_id: a.opinion
            for a in db.session.query(ReviewAction)
            .filter(
                ReviewAction.subject_type == "info_change",
                ReviewAction.subject_id.in_([r.id for r in history] or [0]),
                ReviewAction.action.in_(("approve", "return", "reject")),
            )
            .order_by(ReviewAction.created_at, ReviewAction.id)
        }
        return self.render_template(
            "zsdx/info_change.html",
            opinions=opinions,
            returned_opinion=opinions.get(returned.id) if returned else None,
            form=form,
            org=org,
            pending=pending,
            returned=returned,
            history=history,
            upload_error=upload_error,
            title=_("Information change"),
        )

    @expose("/<int:pk>/attachment/<int:att>")
    @has_access
    def attachment(self, pk, att):
        record = get_owned_or_404(InfoChangeRequest, pk)
        stored = STAGES["info_change"].files["attachment"](record, att)
        if stored is None:
            abort(404)
        return serve(stored, inline=request.args.get("inline") == "1")
