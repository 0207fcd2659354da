"""Accounts: the SecurityManager subclass, SMS verification codes, the image captcha, login lockout and the
session epoch that makes sessions revocable.

Every password that gets set passes `zsdx.passwords` (add_user and reset_password are the choke points
that FAB's forms, its CLI and zsdx's own views all go through: FAB-NOTES P4, P7).
"""

import datetime as dt
import hashlib
import hmac
import io
import logging
import secrets
import time

from flask import current_app, flash, g, has_request_context, redirect, request, session, url_for
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_babel import gettext
from flask_login import current_user, user_logged_in
from sqlalchemy import func, update

from .extensions import db
from .models import LoginFailure, SmsCode, ZsdxUser
from .passwords import password_problem
from .permission_cache import PermissionCacheMixin
from .phones import is_login_name, normalise_login

log = logging.getLogger(__name__)


class PasswordRuleError(ValueError):
    pass


# --- login lockout ----------------------------------------------------------------------------------
def _failure_row(login):
    return db.session.query(LoginFailure).filter_by(login=login).one_or_none()


def lock_remaining_minutes(login):
    """Minutes (rounded up) the login name stays locked, 0 when it is not locked."""
    row = _failure_row(login)
    if row is None or row.locked_until is None:
        return 0
    remaining = (row.locked_until - dt.datetime.now()).total_seconds()
    return max(0, int(-(-remaining // 60)))


def _record_failure(login):
    cfg = current_app.config
    row = _failure_row(login)
    if row is None:
        row = LoginFailure(login=login, failures=0)
        db.session.add(row)
    if row.locked_until and row.locked_until <= dt.datetime.now():
        row.failures, row.locked_until = 0, None  # the old lock ran out: count afresh
    row.failures += 1
    row.last_failed_at = dt.datetime.now()
    if row.failures >= cfg["LOGIN_MAX_FAILURES"]:
        row.locked_until = dt.datetime.now() + dt.timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
    db.session.commit()
    return row


def _clear_failures(login):
    row = _failure_row(login)
    if row is not None:
        db.session.delete(row)
        db.session.commit()


# --- SMS verification codes -------------------------------------------------------------------------
class SmsPurpose:
    REGISTER = "register"
    LOGIN = "login"
    RESET = "reset"
    CHANGE_PHONE = "change_phone"
    ALL = (REGISTER, LOGIN, RESET, CHANGE_PHONE)


class SmsError(Exception):
    """A refusal the user is shown as it is (already translated)."""


def _hash_code(phone, purpose, code):
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{phone}|{purpose}|{code}".encode(), hashlib.sha256).hexdigest()


def send_sms_code(phone, purpose):
    """Issue a 6-digit code and send it now (the user is waiting for it), respecting the send limits."""
    cfg = current_app.config
    now = dt.datetime.now()
    last = db.session.query(func.max(SmsCode.created_at)).filter(SmsCode.phone == phone).scalar()
    if last is not None and (now - last).total_seconds() < cfg["SMS_SEND_INTERVAL_SECONDS"]:
        wait = cfg["SMS_SEND_INTERVAL_SECONDS"] - int((now - last).total_seconds())
        raise SmsError(gettext("Please wait %(seconds)s seconds before requesting another code", seconds=wait))
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    sent_today = (
        db.session.query(func.count(SmsCode.id))
        .filter(SmsCode.phone == phone, SmsCode.created_at >= day_start)
        .scalar()
    )
    if sent_today >= cfg["SMS_SEND_DAILY_LIMIT"]:
        raise SmsError(gettext("Too many codes have been sent to this number today, please try again tomorrow"))
    code = f"{secrets.randbelow(10**6):06d}"
    db.session.add(
        SmsCode(
            phone=phone,
            purpose=purpose,
            code_hash=_hash_code(phone, purpose, code),
            created_at=now,
            expires_at=now + dt.timedelta(seconds=cfg["SMS_CODE_TTL_SECONDS"]),
        )
    )
    db.session.commit()
    from .sms import get_backend

    minutes = cfg["SMS_CODE_TTL_SECONDS"] // 60
    get_backend().send(
        phone,
        gettext(
            "[%(app)s] Your verification code is %(code)s, valid for %(minutes)s minutes. Do not tell anyone.",
            app=gettext("Zhongshan SME digital transformation platform"),
            code=code,
            minutes=minutes,
        ),
    )
    return code


def check_sms_code(phone, purpose, code, consume=True):
    """Return None when the code is right (and mark it used), else the translated reason."""
    cfg = current_app.config
    now = dt.datetime.now()
    row = (
        db.session.query(SmsCode)
        .filter(SmsCode.phone == phone, SmsCode.purpose == purpose, SmsCode.used_at.is_(None))
        .order_by(SmsCode.created_at.desc(), SmsCode.id.desc())
        .first()
    )
    if row is None or row.expires_at <= now:
        return gettext("The verification code has expired or does not exist, please request a new one")
    if row.attempts >= cfg["SMS_CODE_MAX_TRIES"]:
        return gettext("Too many wrong attempts, please request a new code")
    if not hmac.compare_digest(row.code_hash, _hash_code(phone, purpose, (code or "").strip())):
        row.attempts += 1
        db.session.commit()
        if row.attempts >= cfg["SMS_CODE_MAX_TRIES"]:
            return gettext("Too many wrong attempts, please request a new code")
        return gettext("The verification code is wrong")
    if consume:
        # Single use even under concurrency: only one UPDATE finds used_at still empty.
        result = db.session.execute(
            update(SmsCode).where(SmsCode.id == row.id, SmsCode.used_at.is_(None)).values(used_at=now)
        )
        if result.rowcount != 1:
            db.session.rollback()
            return gettext("The verification code has expired or does not exist, please request a new one")
    return None


# --- image captcha ----------------------------------------------------------------------------------
CAPTCHA_CHARS = "ABCDEFHJKMNPRSTUVWXY345678"  # no look-alikes (0/O, 1/I/L, 2/Z)
CAPTCHA_TTL_SECONDS = 300


def new_captcha_png():
    """A fresh 4-character captcha; the answer is kept (hashed) in the session for one check."""
    from captcha.image import ImageCaptcha

    text = "".join(secrets.choice(CAPTCHA_CHARS) for _ in range(4))
    session["captcha"] = {"h": _captcha_hash(text), "t": time.time()}
    buf = io.BytesIO()
    ImageCaptcha(width=120, height=44, font_sizes=(30, 34, 36)).write(text, buf, format="png")
    return buf.getvalue()


def _captcha_hash(text):
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, text.upper().encode(), hashlib.sha256).hexdigest()


def check_captcha(answer):
    """True when the answer matches the session's captcha; every check uses the captcha up."""
    if not current_app.config.get("CAPTCHA_ENABLED", True):
        return True
    stored = session.pop("captcha", None)
    if not stored or time.time() - stored.get("t", 0) > CAPTCHA_TTL_SECONDS:
        return False
    return hmac.compare_digest(stored["h"], _captcha_hash((answer or "").strip()))


# --- login rate limits ------------------------------------------------------------------------------
# Per login name first: a town office or the bureau shares one public address, so a tight per-IP limit
# would lock all of them out together. The per-IP limit (AUTH_RATE_LIMIT, applied by FAB to the form login
# and below to the API login) is only a generous ceiling.
LOGIN_NAME_SCOPE = "login-name"


def login_name_key():
    """The account a login POST is for (form: the phone of either tab; API: username), normalised the way
    FAB matches it, so that case or the placeholder e-mail do not open extra buckets. "" skips the limit."""
    if request.is_json:
        data = request.get_json(silent=True)
        name = data.get("username") if isinstance(data, dict) else None
    else:
        name = request.form.get("pw-phone") or request.form.get("sms-phone")
    name = normalise_login(name if isinstance(name, str) else "")
    if not is_login_name(name):
        return ""  # refused before any lookup (zsdx.phones): only the per-IP ceiling applies, and no new bucket
    name = name.lower()
    if name.endswith(PLACEHOLDER_EMAIL_DOMAIN):
        name = name[: -len(PLACEHOLDER_EMAIL_DOMAIN)]
    return f"login:{name}"


def _too_many_logins_message():
    from .errors import retry_after_seconds

    return gettext(
        "Too many login attempts for this account, please try again in %(seconds)s seconds",
        seconds=retry_after_seconds() or 60,
    )


def apply_login_limits(app):
    """The per-login-name limit on the form login and /api/v1/security/login (one shared count), and the
    per-IP ceiling on the API login too (FAB limits only its HTML login view, FAB-NOTES P8)."""
    from .extensions import limiter

    per_name = limiter.shared_limit(
        lambda: current_app.config["AUTH_LOGIN_NAME_RATE_LIMIT"],
        scope=LOGIN_NAME_SCOPE,
        key_func=login_name_key,
        methods=["POST"],
        error_message=_too_many_logins_message,
    )
    per_name(app.appbuilder.sm.auth_view.blueprint)
    api = app.blueprints.get("SecurityApi")
    if api is not None:
        limiter.limit(lambda: current_app.config["AUTH_RATE_LIMIT"], methods=["POST"])(api)
        per_name(api)


# --- revocable sessions -----------------------------------------------------------------------------
# Flask's session is a signed cookie: on its own, a copy made before 退出登录 would keep working. Every user
# has a session epoch (ab_user.session_epoch); login stores it in the session (and in the JWT's claims), the
# user load compares it (the same single statement, no extra query), and logout, a password change or reset
# and deactivation bump it, which ends every session of that user everywhere.
SESSION_EPOCH_KEY = "_zsdx_epoch"
JWT_EPOCH_CLAIM = "zsdx_epoch"
_FLASK_LOGIN_KEYS = ("_user_id", "_fresh", "_id", "_remember_seconds", SESSION_EPOCH_KEY)


def bump_session_epoch(user_id):
    """End every session and token of the user (the caller commits). FAB's screens pass the id as text."""
    db.session.execute(
        update(ZsdxUser).where(ZsdxUser.id == int(user_id)).values(session_epoch=ZsdxUser.session_epoch + 1),
        execution_options={"synchronize_session": False},
    )


def _current_session_user_id():
    if not has_request_context():  # a CLI command or a job: there is no session of this device to keep
        return None
    try:
        return int(session.get("_user_id")) if session.get("_user_id") is not None else None
    except (TypeError, ValueError):
        return None


def reissue_session(user_id):
    """Keep this device signed in after the user's own password change: the session gets the new epoch."""
    if _current_session_user_id() == user_id:
        epoch = db.session.query(ZsdxUser.session_epoch).filter(ZsdxUser.id == user_id).scalar()
        session[SESSION_EPOCH_KEY] = epoch


def _stamp_session(sender, user, **kwargs):
    """Every login_user() (form and SMS login) records the epoch the session was issued under."""
    session[SESSION_EPOCH_KEY] = user.session_epoch


user_logged_in.connect(_stamp_session, weak=False)


def _session_expired():
    """The session's epoch is stale: sign it out here (the keys Flask-Login reads) and say so once."""
    for key in _FLASK_LOGIN_KEYS:
        session.pop(key, None)
    g.zsdx_session_expired = True


def check_session_epoch():
    """before_request: load the signed-in user now (FAB loads it lazily), so that a stale session is
    noticed before the view runs; a page request then goes to the login page with the reason."""
    if "_user_id" not in session or request.endpoint is None or request.endpoint.endswith("static"):
        return None
    user = current_user._get_current_object()  # the user load, which every page makes anyway: no extra statement
    if g.get("user") is current_user:
        # FAB's g.user is Flask-Login's proxy: each of a page's permission checks (70 on an admin list) went through
        # it to find the user again. The user itself, for this request (a login or logout here then redirects).
        g.user = user
    if not g.pop("zsdx_session_expired", False):
        return None
    from .errors import wants_json

    if wants_json():
        return None  # the call goes on anonymous and is refused by its own access check (401/403)
    flash(gettext("Your login has expired, please log in again"), "warning")
    login_endpoint = current_app.appbuilder.sm.auth_view.endpoint + ".login"
    if request.method in ("GET", "HEAD") and request.endpoint != login_endpoint:
        return redirect(url_for(login_endpoint, next=request.full_path if request.args else request.path))
    return None


# --- the security manager ---------------------------------------------------------------------------
PLACEHOLDER_EMAIL_DOMAIN = "@phone.zsdx.invalid"


def placeholder_email(phone):
    """ab_user.email is NOT NULL and unique; zsdx accounts are phone-based, so derive one."""
    return f"{phone}{PLACEHOLDER_EMAIL_DOMAIN}"


class ZsdxSecurityManager(PermissionCacheMixin, SecurityManager):
    user_model = ZsdxUser

    def __init__(self, appbuilder):
        from .views.account import ZsdxAuthView
        from .views.admin import ZsdxRoleModelView, ZsdxUserDBModelView

        self.authdbview = ZsdxAuthView
        self.userdbmodelview = ZsdxUserDBModelView
        self.rolemodelview = ZsdxRoleModelView
        super().__init__(appbuilder)
        self._eager_admin_lists()
        self.jwt_manager.additional_claims_loader(self._jwt_claims)
        current_app.before_request(check_session_epoch)

    def _load_active_user(self, pk):
        """The user with its roles in one statement (FAB loads them one query each), whether it belongs to any
        group, the version of the grants (PermissionCacheMixin.grants_version_column: the permission pairs kept in
        the process serve the request only if they are of that version) and its unread counts for the header
        (zsdx.notifications.unread_columns); the session epoch is a column of the same row, so checking it
        costs nothing.

        FAB's get_user_roles adds the roles of the user's groups (user.groups). zsdx gives no one a group, so
        a user without any gets an empty `groups` as loaded (no statement); one with groups loads them when
        FAB reads them, as FAB would. Joining the groups in the statement instead cost every signed-in page
        ~0.3 ms of SQLAlchemy's row set-up for a join that is always empty (issue 12)."""
        from sqlalchemy.orm.attributes import set_committed_value

        from .notifications import remember_unread

        pk = int(pk)
        row = self.session.execute(self._user_load_statement(), {"zsdx_user_pk": pk}).unique().one_or_none()
        if row is None:
            return None
        user, version, *unread, in_a_group = row
        if not (user and user.is_active):
            return None
        if not in_a_group:
            set_committed_value(user, "groups", [])
        self.remember_grants_version(version)
        remember_unread(pk, *unread)
        return user

    def _user_load_statement(self):
        """The statement of `_load_active_user`, built once with the user's id as a parameter: building it (five
        subqueries, an eager join) cost about 1 ms a request, more than the database takes to answer it."""
        statement = self.__dict__.get("_zsdx_user_load")
        if statement is None:
            from flask_appbuilder.security.sqla.models import assoc_user_group
            from sqlalchemy import bindparam, exists, select
            from sqlalchemy.orm import joinedload

            from .notifications import unread_columns

            model, pk = self.user_model, bindparam("zsdx_user_pk")
            in_a_group = exists().where(assoc_user_group.c.user_id == pk)
            statement = (
                select(model, self.grants_version_column(), *unread_columns(pk), in_a_group)
                .options(joinedload(model.roles))
                .where(model.id == pk)
                .execution_options(zsdx_prepare="zsdx_user_load")  # zsdx.prepared: planned once per connection
            )
            self.__dict__["_zsdx_user_load"] = statement
        return statement

    def load_user(self, pk):
        """Flask-Login's user loader: the session's user, if the session is still of its current epoch."""
        user = self._load_active_user(pk)
        if user is None or session.get(SESSION_EPOCH_KEY) != user.session_epoch:
            _session_expired()
            return None
        return user

    def load_user_jwt(self, _jwt_header, jwt_data):
        """A JWT counts only while its epoch claim is the user's epoch (tokens issued before a logout,
        password change or deactivation are refused)."""
        user = self._load_active_user(jwt_data["sub"])
        if user is None or jwt_data.get(JWT_EPOCH_CLAIM) != user.session_epoch:
            return None
        g.user = user
        return user

    def _jwt_claims(self, identity):
        """Access and refresh tokens carry the epoch they were issued under."""
        epoch = db.session.query(ZsdxUser.session_epoch).filter(ZsdxUser.id == int(identity)).scalar()
        return {JWT_EPOCH_CLAIM: epoch}

    def end_sessions(self, user_id):
        """Logout / an admin's action: every session and token of the user ends, now."""
        bump_session_epoch(user_id)
        db.session.commit()

    def _eager_admin_lists(self):
        """FAB's role, group and permission lists show each row's relations: load them with the page."""
        from sqlalchemy.orm import selectinload

        from .views.datamodel import EagerSQLAInterface, RoleInterface

        pv = self.permissionview_model
        self.rolemodelview.datamodel = RoleInterface(
            self.role_model,
            options=lambda m: [
                selectinload(m.permissions).joinedload(pv.permission),
                selectinload(m.permissions).joinedload(pv.view_menu),
            ],
        )
        self.groupmodelview.datamodel = EagerSQLAInterface(self.group_model, selectin=("roles", "users"))
        self.permissionviewmodelview.datamodel = EagerSQLAInterface(pv, joined=("permission", "view_menu"))

    def create_limiter(self, app):
        from .extensions import limiter

        limiter.init_app(app)
        return limiter

    # Password rule on every path that sets a password.
    def add_user(self, username, first_name, last_name, email, role=None, password="", hashed_password="", **kw):
        if password and not hashed_password:
            problem = password_problem(password)
            if problem:
                log.warning("user %s not created: %s", username, problem)
                raise PasswordRuleError(problem)
        return super().add_user(
            username, first_name, last_name, email, role=role, password=password, hashed_password=hashed_password, **kw
        )

    def reset_password(self, userid, password):
        """Every password change (修改密码, 忘记密码, FAB's reset forms for oneself and by the admin) ends the
        user's other sessions; the user's own session on this device is re-issued."""
        problem = password_problem(password)
        if problem:
            raise PasswordRuleError(problem)
        bump_session_epoch(userid)  # committed together with the new password by FAB's update_user
        result = super().reset_password(userid, password)
        reissue_session(int(userid))
        return result

    def auth_user_db(self, username, password):
        """FAB's check, wrapped in the lockout: both the form login and /api/v1/security/login go here."""
        username = normalise_login(username or "")
        g.login_locked_minutes = 0
        if not is_login_name(username):
            # overlong or with control characters: refused before any lookup, counted against no account
            return None
        # The lock belongs to the account, not to the typed string: FAB also accepts the e-mail (and the
        # username case-insensitively), and each spelling must not get its own 5 tries.
        account = self.find_user(username=username) or self.find_user(email=username)
        key = account.username if account is not None else username
        minutes = lock_remaining_minutes(key)
        if minutes:
            g.login_locked_minutes = minutes
            return None
        user = super().auth_user_db(username, password)
        if user is None:
            row = _record_failure(key)
            if row.locked_until:
                g.login_locked_minutes = lock_remaining_minutes(key)
            return None
        _clear_failures(key)
        return user

    def user_by_phone(self, phone):
        return db.session.query(ZsdxUser).filter(ZsdxUser.phone == phone).one_or_none()
