"""Fixtures: one app per test process (FAB's AppBuilder is a singleton, FAB-NOTES P14) on a fresh database
built by the real migrations: PostgreSQL when DATABASE_URL points at one (a database per xdist worker),
else a SQLite file. Tests isolate themselves with fresh phone numbers and organisations (`factory`)."""

import itertools
import logging
import os
import random
import re
import tempfile

import pytest

_TMP = tempfile.mkdtemp(prefix="zsdx-test-")
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")


def _database_url():
    from dbutil import fresh_database_url

    return fresh_database_url(f"zsdx_test_{WORKER}", os.path.join(_TMP, f"test-{WORKER}.db"))


TEST_DATABASE_URL = _database_url()
REAL_REDIS_URL = os.environ.get("REDIS_URL", "")  # set in CI: redis://127.0.0.1:6379/0
os.environ["DATABASE_URL"] = TEST_DATABASE_URL  # config.py reads the environment at import
os.environ.setdefault("CAPTCHA_ENABLED", "0")
os.environ["UPLOAD_FOLDER"] = os.path.join(_TMP, "files")


@pytest.fixture(scope="session")
def app():
    from flask_migrate import upgrade

    from zsdx import create_app
    from zsdx.seed import init_security, seed_reference

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL,
            "CAPTCHA_ENABLED": False,
            "UPLOAD_FOLDER": os.path.join(_TMP, "files"),
            "SERVER_NAME": None,
            # Jobs run in-process unless a test points REDIS_URL at the real Redis (tests/test_jobs.py).
            "REDIS_URL": "",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    app.test_client_class = ServerLikeClient
    with app.app_context():
        upgrade()
        init_security()
        seed_reference()
    yield app


def _server_like_client():
    from flask.testing import FlaskClient

    class ServerLikeClient(FlaskClient):
        """The test client, closing each response once it has read it, as a WSGI server does once it has sent
        it: what the app hands over in `call_on_close` (committed notifications) runs, as in production."""

        def open(self, *args, buffered=True, **kwargs):
            return super().open(*args, buffered=buffered, **kwargs)

    return ServerLikeClient


ServerLikeClient = _server_like_client()


@pytest.fixture()
def ctx(app):
    with app.app_context():
        yield app


_addr = itertools.count(1)


@pytest.fixture()
def client(app):
    """A browser-like client with its own IP (the login rate limit is per IP)."""
    n = next(_addr) + random.randint(0, 10_000) * 1000
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
    return c


_CSRF = re.compile(r'name="(?:[\w-]+-)?csrf_token"[^>]*value="([^"]+)"')
_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_from(html):
    m = _CSRF.search(html) or _META.search(html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def get_csrf(client, url="/login/"):
    return csrf_from(client.get(url).get_data(as_text=True))


class SmsOutbox(logging.Handler):
    """Reads the default SMS backend's log lines (`SMS to <phone>: <text>`): the real edge, not a mock."""

    def __init__(self):
        super().__init__(level=logging.INFO)
        self.messages = []

    def emit(self, record):
        msg = record.getMessage()
        m = re.match(r"SMS to (\d+): (.*)", msg, re.S)
        if m:
            self.messages.append((m.group(1), m.group(2)))

    def last_code(self, phone):
        for to, text in reversed(self.messages):
            if to == phone:
                m = re.search(r"(\d{6})", text)
                if m:
                    return m.group(1)
        raise AssertionError(f"no SMS code sent to {phone}")

    def texts(self, phone):
        return [t for to, t in self.messages if to == phone]


@pytest.fixture()
def sms():
    handler = SmsOutbox()
    logger = logging.getLogger("zsdx.sms")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)


_phones = itertools.count(random.randint(0, 10**6))
PASSWORD = "Test@2026x"


def fresh_phone():
    n = next(_phones)
    return f"139{int(WORKER[2:] or 0) % 10}{n % 10**7:07d}"


def _credit_code():
    from zsdx.creditcode import CHARSET, check_char

    body = "91442000" + "".join(random.choice(CHARSET[:10]) for _ in range(8)) + random.choice(CHARSET)
    return body + check_char(body)


class Factory:
    """Creates organisations and users straight in the database (the registration path has its own tests)."""

    def __init__(self, app):
        self.app = app

    def credit_code(self):
        return _credit_code()

    def user(self, role, org=None, town_code=None, password=PASSWORD, name="测试用户"):
        from zsdx.extensions import appbuilder, db
        from zsdx.models import Town
        from zsdx.security import placeholder_email

        with self.app.app_context():
            phone = fresh_phone()
            sm = appbuilder.sm
            user = sm.add_user(
                phone, name, "", placeholder_email(phone), role=sm.find_role(role), password=password, commit=False
            )
            user.phone = phone
            if org is not None:
                user.organisation_id = org
            if town_code:
                user.town = db.session.query(Town).filter_by(code=town_code).one()
            db.session.commit()
            return {"id": user.id, "phone": phone, "password": password, "org_id": org}

    def org(self, kind="enterprise", town_code="2010", name=None, **kw):
        from zsdx.extensions import db
        from zsdx.models import Organisation, Town

        with self.app.app_context():
            town = db.session.query(Town).filter_by(code=town_code).one()
            org = Organisation(
                kind=kind,
                name=name or f"中山市测试{random.randint(0, 10**8)}有限公司",
                credit_code=_credit_code(),
                town_id=town.id,
                contact_name="联系人",
                contact_phone=fresh_phone(),
                **kw,
            )
            db.session.add(org)
            db.session.commit()
            return org.id

    def enterprise_user(self, town_code="2010"):
        return self.user("企业", org=self.org("enterprise", town_code))


@pytest.fixture()
def factory(app):
    return Factory(app)


def login(client, user, password=None):
    """Log in through the real form (captcha is off in tests unless a test turns it on)."""
    token = get_csrf(client, "/login/")
    resp = client.post(
        "/login/",
        data={
            "pw-csrf_token": token,
            "pw-mode": "password",
            "mode": "password",
            "pw-phone": user["phone"],
            "pw-password": password or user["password"],
            "pw-captcha": "",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    return resp


@pytest.fixture()
def login_as(client, factory):
    """login_as("企业") → a fresh user of that role, logged in on `client`."""

    def _login(role, **kw):
        user = factory.enterprise_user() if role == "企业" and not kw else factory.user(role, **kw)
        login(client, user)
        return user

    return _login
