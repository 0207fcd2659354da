"""Every setting of zsdx, each overridable from the environment.

City rules (deadlines, review chains, subsidy caps) live here as data so that a city can change them
without touching code.
"""

import os
import secrets

from flask_appbuilder.const import AUTH_DB

BASE_DIR = os.path.abspath(os.path.dirname(__file__))


def _env_bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _secret_key():
    """SECRET_KEY from the environment, else one generated once and kept in instance/ (>= 32 bytes, P14)."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = os.path.join(BASE_DIR, "instance", "secret_key")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not os.path.exists(path):
        with open(path, "w") as fh:
            fh.write(secrets.token_hex(32))
    with open(path) as fh:
        return fh.read().strip()


# --- core -----------------------------------------------------------------------------------------
SECRET_KEY = _secret_key()
APP_NAME = "中山市中小企业数字化转型城市试点项目管理平台"
APP_THEME = ""
SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite:///" + os.path.join(BASE_DIR, "instance", "zsdx.db"))
if SQLALCHEMY_DATABASE_URI.startswith(("postgresql://", "postgres://")):
    # SQLAlchemy 2.1 defaults to psycopg 3; zsdx ships psycopg2-binary.
    SQLALCHEMY_DATABASE_URI = "postgresql+psycopg2://" + SQLALCHEMY_DATABASE_URI.split("://", 1)[1]
SQLALCHEMY_TRACK_MODIFICATIONS = False
# PostgreSQL: the signed-in user's load (every page), an anonymous visitor's Public role and every SELECT whose
# parameters are all integers (records read by id, a page's LIMIT) are prepared once per connection and then executed
# by name (zsdx/prepared.py: 0.5-0.9 ms of planning saved on a detail page). Set 0 behind a pooler
# that hands one client's statements to several server connections (PgBouncer in transaction or statement mode): a
# statement prepared on one would not exist on the next.
PREPARED_STATEMENTS = _env_bool("ZSDX_PREPARED_STATEMENTS", True)
# Empty: jobs run in-process. Set (redis://127.0.0.1:6379/0): jobs go to RQ and an `rq worker` runs them.
REDIS_URL = os.environ.get("REDIS_URL", "")
RQ_QUEUE = os.environ.get("RQ_QUEUE", "zsdx")
UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", os.path.join(BASE_DIR, "var", "files"))
# Where uploaded bytes live (zsdx/filestore.py, docs/deploy.md): "local" = UPLOAD_FOLDER (with several app
# nodes: a shared mount), or "s3" = an S3-compatible object store (MinIO, Ceph RGW, a cloud's OSS/COS).
FILE_STORE = os.environ.get("FILE_STORE", "local")
FILE_STORE_S3_BUCKET = os.environ.get("FILE_STORE_S3_BUCKET", "")
FILE_STORE_S3_ENDPOINT_URL = os.environ.get("FILE_STORE_S3_ENDPOINT_URL", "")  # empty: AWS itself
FILE_STORE_S3_REGION = os.environ.get("FILE_STORE_S3_REGION", "")
FILE_STORE_S3_PREFIX = os.environ.get("FILE_STORE_S3_PREFIX", "files/")
# empty: boto3's own chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, ~/.aws, an instance role)
FILE_STORE_S3_ACCESS_KEY = os.environ.get("FILE_STORE_S3_ACCESS_KEY", "")
FILE_STORE_S3_SECRET_KEY = os.environ.get("FILE_STORE_S3_SECRET_KEY", "")
MAX_CONTENT_LENGTH = 105 * 1024 * 1024  # one file <= 100 MB plus form overhead
MAX_FILE_BYTES = 100 * 1024 * 1024

# --- Flask-AppBuilder -------------------------------------------------------------------------------
AUTH_TYPE = AUTH_DB
AUTH_USER_REGISTRATION = False  # zsdx has its own registration (SMS, registry search), FAB-NOTES P5
AUTH_ROLE_ADMIN = "Admin"
AUTH_ROLE_PUBLIC = "Public"
FAB_CREATE_DB = False  # Alembic owns the schema (FAB-NOTES P12)
FAB_UPDATE_PERMS = False  # permissions are synced by `flask zsdx init`
FAB_ADD_SECURITY_API = False  # the CRUD security APIs are not used; /api/v1/security/login stays
FAB_SECURITY_MANAGER_CLASS = "zsdx.security.ZsdxSecurityManager"
FAB_INDEX_VIEW = "zsdx.views.home.HomeView"
FAB_BASE_TEMPLATE = "zsdx/base.html"
FAB_PASSWORD_COMPLEXITY_ENABLED = True
FAB_PASSWORD_COMPLEXITY_VALIDATOR = "zsdx.passwords.fab_validator"  # resolved in create_app
FAB_API_SWAGGER_UI = False

# --- language --------------------------------------------------------------------------------------
BABEL_DEFAULT_LOCALE = "zh"
BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
LANGUAGES = {"zh": {"flag": "cn", "name": "中文"}}
BABEL_TRANSLATION_DIRECTORIES = os.path.join(BASE_DIR, "translations")

# --- security --------------------------------------------------------------------------------------
WTF_CSRF_ENABLED = True
WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = _env_bool("ZSDX_SECURE_COOKIES", False)  # set 1 behind HTTPS in production
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
PERMANENT_SESSION_LIFETIME = 8 * 3600
AUTH_RATE_LIMITED = True
# Logins are limited per login name first (on top of the lockout after LOGIN_MAX_FAILURES wrong passwords);
# the per-IP limit is a generous ceiling, since a town office or the bureau shares one public address.
AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "300 per minute")  # per IP: form login and API login
AUTH_LOGIN_NAME_RATE_LIMIT = os.environ.get("AUTH_LOGIN_NAME_RATE_LIMIT", "10 per minute")  # per login name
RATELIMIT_ENABLED = True
RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
# a Redis that hangs (not only one that refuses) costs a limited request at most ~1 s, then the fallback below
RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
RATELIMIT_HEADERS_ENABLED = True
# a Redis outage must not block logins or reviews: fall back to per-process counting meanwhile
RATELIMIT_SWALLOW_ERRORS = True
RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "zsdx")
# per IP on /sms/send, a ceiling only: each phone gets 1 code per SMS_SEND_INTERVAL_SECONDS, SMS_SEND_DAILY_LIMIT a day
SMS_RATE_LIMIT = os.environ.get("SMS_RATE_LIMIT", "60 per minute")
CAPTCHA_ENABLED = _env_bool("CAPTCHA_ENABLED", True)
LOGIN_MAX_FAILURES = 5
LOGIN_LOCK_MINUTES = 15

# --- SMS -------------------------------------------------------------------------------------------
SMS_BACKEND = os.environ.get("SMS_BACKEND", "zsdx.sms.LogSmsBackend")
SMS_CODE_TTL_SECONDS = 300
SMS_CODE_MAX_TRIES = 5
SMS_SEND_INTERVAL_SECONDS = 60
SMS_SEND_DAILY_LIMIT = 10

# --- city rules (data) -----------------------------------------------------------------------------
CITY_NAME = "中山市"

# Review chains (SPEC §3.1). A chain is a list of steps (or {"steps": [...], "submit_guards": [...]}); each
# step names the role that may act, the scope (zsdx/scopes.py: town = the 镇街 of the record's town; city =
# anyone with the role; owner = the record's own organisation; assigned = the users assigned to the record,
# each of whom must approve; institution = the record's institution), the deadline in days, whether
# 审核不通过 (terminal) is offered, the step label (zsdx.workflow.STEP_LABELS; default: the key) and the
# guards checked before acting (zsdx.workflow.GUARDS, e.g. window_open, experts_assigned). An unknown
# scope, role, label or guard stops start-up; `flask zsdx check-chains` also lists records stranded at a
# step that was removed. Reorder or add a step here; the engine, the queues and the timelines follow.
REVIEW_CHAINS = {
    "filing": [
        {"key": "town", "role": "镇街", "scope": "town", "deadline_days": 5},
        {"key": "third_party", "role": "第三方", "scope": "city", "deadline_days": 5},
        {"key": "city", "role": "市工信", "scope": "city", "deadline_days": 5, "label": "city_recheck"},
    ],
    "info_change": [
        {"key": "city", "role": "市工信", "scope": "city", "deadline_days": 5},
    ],
    # 上架产品: a provider's product or service, approved by 市工信 (SPEC §3.4)
    "product": [
        {"key": "city", "role": "市工信", "scope": "city", "deadline_days": 5},
    ],
    # the institution's 改造前诊断报告: the enterprise 确认 / 退回修改 (SPEC §3.3)
    "diagnosis_report": [
        {"key": "enterprise_confirm", "role": "企业", "scope": "owner", "deadline_days": 10},
    ],
    # 行业型服务商协助填写: the page handed to the provider the enterprise chose (SPEC §3.4, §3.5)
    "assist": [
        {"key": "provider_fill", "role": "服务商", "scope": "helper", "deadline_days": 10},
    ],
    # the institution's 改造后评估报告: the enterprise 确认 / 退回修改 (SPEC §3.6)
    "post_assessment_report": [
        {"key": "enterprise_confirm", "role": "企业", "scope": "owner", "deadline_days": 10},
    ],
    # 预奖补申请 of a 已签约 project: 已审核 / 退回重填 / 审核不通过 (manual 04)
    "pre_subsidy": [
        {"key": "town", "role": "镇街", "scope": "town", "deadline_days": 5, "allow_reject": True},
        {"key": "city", "role": "市工信", "scope": "city", "deadline_days": 5, "allow_reject": True},
    ],
    # 项目入库 (manual 09, SPEC §3.8): only inside a 申报窗口; 市工信 assigns the 验收专家, every one must agree
    "warehousing": {
        "steps": [
            {"key": "town", "role": "镇街", "scope": "town", "deadline_days": 5},
            {
                "key": "expert",
                "role": "专家",
                "scope": "assigned",
                "deadline_days": 10,
                "guards": ["experts_assigned"],
            },
            {"key": "city", "role": "市工信", "scope": "city", "deadline_days": 5, "label": "city_recheck"},
        ],
        "submit_guards": ["window_open"],
    },
}
# How often the reminder job runs (rq cron), in seconds.
REMINDER_INTERVAL_SECONDS = _env_int("REMINDER_INTERVAL_SECONDS", 3600)
# Days after 已备案 within which the pre-diagnosis should be done (是否逾期 of 事前诊断).
PRE_DIAGNOSIS_DEADLINE_DAYS = 30
# Days within which the post-assessment should be done (是否逾期 of 事后评估), counted from the later of 改造中's
# submission (which opens it) and the signing's planned 改造实施结束时间: it assesses the finished transformation.
POST_ASSESSMENT_DEADLINE_DAYS = 30
# 数据看板: its figures are kept this many seconds per scope (the city, one town), shared by every worker and node
# (zs_dashboard_snapshot), so a page does not recount 100,000 projects; the page shows when they were counted.
# 0: counted on every request.
DASHBOARD_CACHE_SECONDS = _env_int("DASHBOARD_CACHE_SECONDS", 60)
# ... and for this many seconds more they are still shown (with their 数据更新于 time) while one worker recounts them
# in the background, so that the first visitors after they expire do not all wait ~0.5 s for the same count
# (at 3 workers, three such counts at once held every page up for a second). Older figures are counted in the
# request that needs them. 0: never shown once expired.
DASHBOARD_STALE_SECONDS = _env_int("DASHBOARD_STALE_SECONDS", 300)

# 项目入库 subsidy (SPEC §3.8, 中工信规字〔2024〕5号): the most paid (万元) by the 改造后 digital level reached, as
# confirmed by the 事后评估 of an institution; never more than the contracts' 纳入资金奖补项目金额; below 二级
# (or with no institution's level) nothing.
WAREHOUSING_SUBSIDY_CAPS = {2: "30", 3: "60", 4: "100"}
