"""zsdx.prepared: the signed-in user's load is prepared once per PostgreSQL connection and then executed by name
(issue 12), with the same answer, across rollbacks and new connections; SQLite is left alone."""

import re

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
            loads = [s for s in counter.sent if s.startswith("EXECUTE zsdx_user_load")]
            assert len(loads) == 1, counter.sent
            assert not any("FROM ab_user" in s for s in counter.sent), "the user load was sent as text"
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
            assert len(counter.sent) == 1 and counter.sent[0].startswith(sent), counter.sent
        finally:
            counter.close()
            engine.dispose()


def _auto_prepared(conn):
    from sqlalchemy import text

    return {r[0] for r in conn.execute(text("SELECT name FROM pg_prepared_statements WHERE name LIKE 'zsdx_auto_%'"))}


def test_statements_of_integers_are_prepared_and_answer_as_text_did(app):
    """Any SELECT whose parameters are all integers is prepared by its text; its integers are declared as
    PostgreSQL reads a number written in the text (integer), so functions and operators of `integer` still
    apply and a number in the SELECT list comes back a number."""
    import datetime as dt

    from sqlalchemy import bindparam, text

    _on_postgres(app)
    with app.app_context():
        counter = cq.StatementCounter(db.engine)
        try:
            with db.engine.connect() as conn:
                for _ in range(2):
                    with counter.counting():
                        assert conn.execute(text("SELECT substr('abcdef', :n) AS s"), {"n": 3}).scalar() == "cdef"
                        day = conn.execute(text("SELECT CURRENT_DATE + :n AS d"), {"n": 1}).scalar()
                        assert (
                            isinstance(day, dt.date) and day == conn.execute(text("SELECT CURRENT_DATE + 1")).scalar()
                        )
                        assert conn.execute(select((literal(2) + bindparam("n", 3)).label("n"))).scalar() == 5
                        assert conn.execute(text("SELECT CAST(:n AS bigint) * 2"), {"n": 2**40}).scalar() == 2**41
                    assert all(s.startswith("EXECUTE zsdx_auto_") for s in counter.sent), counter.sent
                    assert not any(s.startswith("EXECUTE") for s in counter.statements), counter.statements
                conn.rollback()
        finally:
            counter.close()


def test_a_text_or_date_parameter_keeps_the_statement_as_text(app):
    """A generic plan cannot see a search text or a keyset cursor: such a statement is planned each time."""
    import datetime as dt

    from sqlalchemy import text

    _on_postgres(app)
    with app.app_context():
        counter = cq.StatementCounter(db.engine)
        try:
            with db.engine.connect() as conn, counter.counting():
                assert conn.execute(text("SELECT :q || 'x'"), {"q": "项目"}).scalar() == "项目x"
                day = dt.date(2026, 1, 2)
                assert conn.execute(text("SELECT CAST(:d AS date)"), {"d": day}).scalar() == day
                assert conn.execute(text("SELECT :n + 1, :t"), {"n": 1, "t": None}).one() == (2, None)
                assert conn.execute(text("SELECT :b AND true"), {"b": True}).scalar() is True
                conn.rollback()
            assert not any(s.startswith("EXECUTE") for s in counter.sent), counter.sent
        finally:
            counter.close()


def test_a_statement_with_a_status_is_planned_each_time(app):
    """A text parameter keeps a statement as text even when it is a constant of the code: written into prepared
    statements, the constants made the statements of the review queues generic in their integers too, and the
    generic plan of a 镇街's 已审核 tab (its actor, its town) took 35 ms where each planned execution took 9."""
    from sqlalchemy import text

    _on_postgres(app)
    with app.app_context():
        counter = cq.StatementCounter(db.engine)
        try:
            with db.engine.connect() as conn, counter.counting():
                query = text("SELECT count(*) FROM zs_filing WHERE status = :s AND id > :n")
                assert conn.execute(query, {"s": "reviewing", "n": 0}).scalar() >= 0
                conn.rollback()
        finally:
            counter.close()
    assert counter.sent == counter.statements, counter.sent


def test_a_connection_keeps_a_bounded_number_and_a_streamed_select_is_left_alone(app, monkeypatch):
    from sqlalchemy import text

    from zsdx import prepared

    _on_postgres(app)
    monkeypatch.setattr(prepared, "AUTO_LIMIT", 3)
    with app.app_context(), db.engine.connect() as conn:
        for _ in range(2):
            for k in range(6):  # six texts: the oldest are deallocated, and prepared again when used again
                assert conn.execute(text(f"SELECT :n + {k}"), {"n": 10}).scalar() == 10 + k
                assert len(_auto_prepared(conn)) <= 3
        # a server-side cursor DECLAREs its SELECT: sent as text, and its rows are the same
        streamed = conn.execution_options(stream_results=True).execute(
            text("SELECT g FROM generate_series(1, :n) AS g"), {"n": 5}
        )
        assert [r[0] for r in streamed] == [1, 2, 3, 4, 5]
        conn.rollback()


def test_pages_read_by_id_are_the_same_with_their_statements_prepared(app, factory):
    """The 项目备案 detail of an enterprise reads its records by id: prepared on PostgreSQL, the page is the
    same on every visit, and another enterprise's id is still refused."""
    from helpers_review import make_filing

    _on_postgres(app)
    owner, other = factory.enterprise_user(), factory.enterprise_user()
    filing_id = make_filing(app, owner)
    browser, stranger = new_client(app), new_client(app)
    login(browser, owner)
    login(stranger, other)
    with app.app_context():
        counter = cq.StatementCounter(db.engine)
    try:
        pages = []
        for _ in range(3):
            with counter.counting():
                resp = browser.get(f"/filing/{filing_id}")
            assert resp.status_code == 200
            pages.append(resp.get_data(as_text=True))
            assert stranger.get(f"/filing/{filing_id}").status_code in (403, 404)
        assert any(s.startswith("EXECUTE zsdx_auto_") for s in counter.sent), counter.sent
        strip = lambda html: re.sub(r'name="csrf_token"[^>]*>|content="[^"]*"|nonce="[^"]*"', "", html)  # noqa: E731
        assert strip(pages[0]) == strip(pages[1]) == strip(pages[2])
    finally:
        counter.close()


def test_a_column_changing_type_under_a_prepared_statement_costs_one_failure(app):
    """A migration run under live workers may change the type of a column a prepared statement returns;
    PostgreSQL then refuses that statement. The failing execution replaces the process's connections, and the
    same statement answers again on the next."""
    from sqlalchemy import exc, text

    _on_postgres(app)
    read = text("SELECT a FROM zsdx_test_prepared WHERE a = :n")
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS zsdx_test_prepared"))
            conn.execute(text("CREATE TABLE zsdx_test_prepared (a integer)"))
            conn.execute(text("INSERT INTO zsdx_test_prepared VALUES (4)"))
        try:
            with db.engine.connect() as conn:
                assert conn.execute(read, {"n": 4}).scalar() == 4
                conn.rollback()
                with db.engine.begin() as other:  # the migration, on another connection
                    other.execute(text("ALTER TABLE zsdx_test_prepared ALTER COLUMN a TYPE bigint"))
                with pytest.raises(exc.DBAPIError, match="cached plan must not change result type"):
                    conn.execute(read, {"n": 4})
                assert conn.invalidated
            with db.engine.connect() as conn:  # a new connection: prepared anew, for the new type
                assert conn.execute(read, {"n": 4}).scalar() == 4
                conn.rollback()
        finally:
            with db.engine.begin() as conn:
                conn.execute(text("DROP TABLE zsdx_test_prepared"))
