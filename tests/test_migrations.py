"""The Alembic migrations are the schema (FAB_CREATE_DB=False, FAB-NOTES P11/P12): `flask db upgrade` builds
a fresh database on the configured backend, the result matches the models exactly (no autogenerate drift),
and downgrade to base + upgrade again works."""

import os
import subprocess
import sys

import pytest
from conftest import _TMP, TEST_DATABASE_URL, WORKER
from sqlalchemy import create_engine, inspect

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLASK = os.path.join(os.path.dirname(sys.executable), "flask")


@pytest.fixture()
def fresh_db_url():
    """An empty database on the backend the suite runs on (PostgreSQL or a SQLite file)."""
    if TEST_DATABASE_URL.startswith("postgresql"):
        from dbutil import fresh_database_url

        yield fresh_database_url(f"zsdx_mig_{WORKER}", "")
    else:
        path = os.path.join(_TMP, f"migrations-{WORKER}.db")
        if os.path.exists(path):
            os.unlink(path)
        yield "sqlite:///" + path
        if os.path.exists(path):
            os.unlink(path)


def flask_cli(db_url, *args):
    env = dict(os.environ, DATABASE_URL=db_url, FLASK_APP="app.py", CAPTCHA_ENABLED="0")
    env.pop("REDIS_URL", None)
    result = subprocess.run([FLASK, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _tables(db_url):
    engine = create_engine(db_url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _drift(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from zsdx.extensions import db

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    finally:
        engine.dispose()


ROUND_TRIP = """
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect
from zsdx import create_app
from zsdx.extensions import db
from zsdx.seed import init_security

app = create_app()
with app.app_context():
    downgrade(revision="base")
    print("after-downgrade", sorted(set(inspect(db.engine).get_table_names()) - {"alembic_version"}))
    upgrade()
    init_security()
    print("roles", sorted(r.name for r in db.session.query(app.appbuilder.sm.role_model)))
"""


def test_upgrade_from_empty_matches_the_models_and_round_trips(app, fresh_db_url):
    from zsdx.extensions import db
    from zsdx.roles import ROLES

    assert _tables(fresh_db_url) == set()
    flask_cli(fresh_db_url, "db", "upgrade")  # the real CLI, as `make db` runs it
    tables = _tables(fresh_db_url)
    assert set(db.metadata.tables) <= tables
    assert "alembic_version" in tables and "ab_user" in tables
    assert _drift(fresh_db_url) == []

    # downgrade to base, upgrade again, and the roles come up on the migrated schema (FAB-NOTES P12)
    env = dict(os.environ, DATABASE_URL=fresh_db_url, CAPTCHA_ENABLED="0")
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", ROUND_TRIP], cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "after-downgrade []" in result.stdout, result.stdout
    roles_line = next(line for line in result.stdout.splitlines() if line.startswith("roles"))
    for role in list(ROLES) + ["Admin", "Public"]:
        assert role in roles_line
    assert set(db.metadata.tables) <= _tables(fresh_db_url)
    assert _drift(fresh_db_url) == []


def test_there_is_a_single_head(app):
    from alembic.script import ScriptDirectory
    from flask_migrate import Migrate  # noqa: F401  (the migrations folder is Flask-Migrate's)

    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        assert len(ScriptDirectory.from_config(config).get_heads()) == 1
