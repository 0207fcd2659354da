"""zsdx.prepared: the signed-in user's load is prepared once per PostgreSQL connection and then executed by name
(issue 12), with the same answer, across rollbacks and new connections; SQLite is left alone."""

import count_queries as cq
import pytest
from conftest import login
from helpers import is_logged_in, logout
from helpers_review import new_client
from sqlalchemy import literal, select

from zsdx.extensions import db


def _on_postgres(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("prepared statements are a PostgreSQL matter (SQLite sends the statement as it is)")


def test_the_user_load_is_executed_by_name_with_the_same_answer(app, factory):
    _on_postgres(app)
    user = factory.user("镇街", name="预备语句审核员")
    browser = new_client(app)
    login(browser, user)
    with app.app_context():
        counter = cq.StatementCounter(db.engine)
    try:
        for _ in range(3):
            with counter.counting():
                page = browser.get("/notifications/")
            assert page.status_code == 200
            assert "预备语句审核员" in page.get_data(as_text=True)  # the header's signed-in user
            loads = [s for s in counter.statements if s.startswith("EXECUTE zsdx_user_load")]
            assert len(loads) == 1, counter.statements
            assert not any("FROM ab_user" in s for s in counter.statements), "the user load was sent as text"
        with app.app_context():
            db.engine.dispose()  # every pooled connection replaced: prepared again on the new one
        assert "预备语句审核员" in browser.get("/notifications/").get_data(as_text=True)
    finally:
        counter.close()


def test_a_logout_elsewhere_still_ends_the_session(app, factory):
    """The prepared load reads the session epoch as the text did: a logout in one browser signs the other out."""
    _on_postgres(app)
    user = factory.user("企业")
    first, second = new_client(app), new_client(app)
    login(first, user)
    login(second, user)
    assert is_logged_in(second)
    logout(first)
    assert not is_logged_in(second)


def test_a_name_keeps_to_its_text_and_outlives_a_rollback(app):
    _on_postgres(app)
    with app.app_context(), db.engine.connect() as conn:
        one = select(literal(1).label("n")).execution_options(zsdx_prepare="zsdx_test_statement")
        two = select((literal(2) + literal(3)).label("n")).execution_options(zsdx_prepare="zsdx_test_statement")
        assert conn.execute(one).scalar() == 1
        conn.rollback()
        assert conn.execute(one).scalar() == 1  # still prepared after the rollback
        assert conn.execute(two).scalar() == 5  # another text under the name: prepared anew
        assert conn.execute(one).scalar() == 1
        conn.rollback()


def test_the_switch_leaves_every_statement_as_text(app):
    """ZSDX_PREPARED_STATEMENTS=0 (behind PgBouncer in transaction mode): nothing is prepared."""
    _on_postgres(app)
    from conftest import TEST_DATABASE_URL
    from sqlalchemy import create_engine

    from zsdx import prepared

    statement = select(literal(7).label("n")).execution_options(zsdx_prepare="zsdx_test_statement")
    for enabled, sent in ((False, "SELECT"), (True, "EXECUTE zsdx_test_statement")):
        engine = create_engine(TEST_DATABASE_URL)
        prepared.register(engine, enabled)
        counter = cq.StatementCounter(engine)
        try:
            with counter.counting(), engine.connect() as conn:
                assert conn.execute(statement).scalar() == 7
            assert len(counter.statements) == 1 and counter.statements[0].startswith(sent), counter.statements
        finally:
            counter.close()
            engine.dispose()
