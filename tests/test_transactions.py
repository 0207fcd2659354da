"""A request that only read ends its transaction with COMMIT, so PostgreSQL keeps the statements psycopg
prepared (zsdx/transactions.py, issue 12); anything a request wrote and did not commit itself is still
rolled back."""

import pytest
from conftest import login
from helpers_review import new_client
from sqlalchemy import event, select, text, update

from zsdx.extensions import db
from zsdx.models import Town


def _ends(app):
    """Counts of the engine's commits and rollbacks while the block runs."""
    seen = {"commit": 0, "rollback": 0}

    def listener(name):
        return lambda conn: seen.__setitem__(name, seen[name] + 1)

    with app.app_context():
        engine = db.engine
    hooks = {name: listener(name) for name in seen}
    for name, hook in hooks.items():
        event.listen(engine, name, hook)
    return seen, lambda: [event.remove(engine, name, hook) for name, hook in hooks.items()]


def _town_name(app, town_id):
    with app.app_context():
        return db.session.get(Town, town_id).name


def _a_town(app):
    with app.app_context():
        return db.session.execute(select(Town.id, Town.name).order_by(Town.id)).first()


def test_a_page_that_only_reads_commits(app, factory):
    client = new_client(app)
    login(client, factory.enterprise_user())
    seen, stop = _ends(app)
    try:
        assert client.get("/").status_code == 200
    finally:
        stop()
    assert seen == {"commit": 1, "rollback": 0}


def test_a_flushed_change_not_committed_is_rolled_back(app):
    town_id, name = _a_town(app)
    with app.test_request_context("/"):
        db.session.get(Town, town_id).name = "不应保存的镇名"
        db.session.flush()  # sent, not committed
    assert _town_name(app, town_id) == name


def test_an_unflushed_change_is_not_committed(app):
    town_id, name = _a_town(app)
    with app.test_request_context("/"):
        db.session.execute(select(Town.id)).all()
        db.session.get(Town, town_id).name = "不应保存的镇名"  # pending in the session only
    assert _town_name(app, town_id) == name


def test_a_core_update_not_committed_is_rolled_back(app):
    town_id, name = _a_town(app)
    with app.app_context():
        db.session.execute(update(Town).where(Town.id == town_id).values(name="不应保存的镇名"))
    assert _town_name(app, town_id) == name


def test_a_context_that_ends_with_an_exception_rolls_back(app):
    seen, stop = _ends(app)
    try:
        with pytest.raises(RuntimeError), app.app_context():
            db.session.execute(select(Town.id)).all()
            raise RuntimeError("boom")
    finally:
        stop()
    assert seen == {"commit": 0, "rollback": 1}


def test_a_spoilt_read_only_transaction_ends_quietly(app):
    with app.app_context():
        try:
            db.session.execute(text("SELECT CAST('x' AS INTEGER)")).all()  # PostgreSQL: an error, caught
        except Exception:
            pass  # as a view might: on PostgreSQL the transaction is now aborted
    with app.app_context():  # the context ended without an error, and the connection went back clean
        assert db.session.execute(select(Town.id).limit(1)).scalar() is not None


def test_statements_stay_prepared_across_requests(app, factory):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("prepared statements: PostgreSQL")
    client = new_client(app)
    login(client, factory.enterprise_user())
    for _ in range(8):  # psycopg prepares a statement the fifth time a connection runs it
        assert client.get("/").status_code == 200
    with app.app_context():
        pool, prepared = db.engine.pool, []
        conns = [db.engine.connect() for _ in range(max(pool.checkedin(), 1))]
        try:
            for conn in conns:
                prepared += conn.execute(
                    text("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
                ).all()
        finally:
            for conn in conns:
                conn.close()
    runs = [n for statement, n in prepared if statement.startswith("SELECT ab_user.id")]
    assert runs and max(runs) >= 3  # the user's statement ran prepared in the requests after the fifth


def test_objects_read_in_a_context_stay_readable_after_it(app):
    """As after the rollback before: the commit of a read-only context does not expire what it read."""
    town_id, name = _a_town(app)
    with app.app_context():
        town = db.session.get(Town, town_id)
    assert town.name == name


def test_how_statements_are_prepared_is_configured(app):
    from types import SimpleNamespace

    from zsdx.transactions import _prepare_settings

    assert _prepare_settings(SimpleNamespace(config={})) == (5, 256)
    assert _prepare_settings(SimpleNamespace(config={"DB_PREPARE_THRESHOLD": "off", "DB_PREPARED_MAX": "50"})) == (
        None,
        50,
    )
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            assert (raw.driver_connection.prepare_threshold, raw.driver_connection.prepared_max) == (5, 256)
        finally:
            raw.close()
