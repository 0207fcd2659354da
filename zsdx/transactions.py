"""How a request's transaction ends, so that PostgreSQL's prepared statements survive it (issue 12).

With psycopg 3 (the PostgreSQL driver, config.py), a statement that a connection has run five times is prepared
on the server, and PostgreSQL then neither parses nor plans it again: for the user's statement that every page
sends, that is ~0.8 of its ~1.1 ms. But psycopg forgets (DEALLOCATEs) every prepared statement of a connection
when the connection rolls back, and Flask-SQLAlchemy ends each request by closing the session, which rolls back:
so nothing would stay prepared past the request that prepared it.

So a request (or an app context of a job or a command) that wrote nothing ends its transaction with COMMIT,
which for a transaction that only read is, to the database, the same as a rollback. "Wrote nothing" is told by
the statements sent: any statement that is not a SELECT marks the connection until its transaction ends. A
context that ends with an exception, or whose session holds changes not yet flushed, or that wrote, is left to
the rollback as before: nothing a request did not commit itself is ever committed here.
"""

import logging

from sqlalchemy import event

log = logging.getLogger(__name__)

WROTE = "zsdx_wrote"  # in the connection's info: a statement other than a SELECT was sent in this transaction


def _mark_writes(conn, cursor, statement, parameters, context, executemany):
    if statement.lstrip()[:6].upper() != "SELECT":
        conn.info[WROTE] = True


def _new_transaction(conn):
    conn.info.pop(WROTE, None)


def end_read_only(session, exc=None):
    """Commit the session's transaction if it only read; otherwise leave it to the rollback of the session's
    close. Returns whether it committed."""
    if exc is not None or not session.in_transaction() or session.new or session.dirty or session.deleted:
        return False
    if session.connection().info.get(WROTE):  # zsdx has one database: the session's one connection
        return False
    expire, session.expire_on_commit = session.expire_on_commit, False  # objects read stay as a rollback left them
    try:
        session.commit()
    except Exception:  # e.g. a SELECT failed and was caught: the transaction is spoilt, roll it back as before
        log.debug("read-only transaction not committed", exc_info=True)
        session.rollback()
        return False
    finally:
        session.expire_on_commit = expire
    return True


def _prepare_settings(app):
    """(prepare_threshold, prepared_max) of psycopg's connections from DB_PREPARE_THRESHOLD / DB_PREPARED_MAX."""
    threshold = str(app.config.get("DB_PREPARE_THRESHOLD", "5")).strip().lower()
    return (None if threshold in ("off", "none", "") else int(threshold)), int(app.config.get("DB_PREPARED_MAX", 256))


def register(app, db):
    """Mark writes on the app's engine, end each app context's read-only transaction with COMMIT, and set how
    psycopg prepares statements on each new connection."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.driver == "psycopg":
        threshold, most = _prepare_settings(app)

        @event.listens_for(engine, "connect")
        def _prepare(dbapi_connection, _record):
            dbapi_connection.prepare_threshold = threshold
            dbapi_connection.prepared_max = most

    event.listen(engine, "before_cursor_execute", _mark_writes)
    event.listen(engine, "begin", _new_transaction)

    @app.teardown_appcontext
    def _end_read_only(exc):  # registered after Flask-SQLAlchemy's, so it runs before the session is closed
        if db.session.registry.has():  # a context that never used the database has no session
            end_read_only(db.session(), exc)
