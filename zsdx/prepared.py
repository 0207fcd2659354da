"""Server-side prepared statements for the few statements of every request (PostgreSQL; issue 12).

PostgreSQL parses and plans each statement it is sent; for the signed-in user's load (the user, its roles,
whether it is in a group, the grants' version and the header's unread counts, zsdx.security) the planning took
longer than the answer (~0.8 ms of ~1.2 ms). A statement built with the execution option `zsdx_prepare="<name>"`
is prepared once per database connection (`PREPARE <name> AS …`) and then sent as `EXECUTE <name>(…)`, with the
same columns, so the ORM reads its rows as before. The other one marked so is an anonymous visitor's (the Public
role with the grants' version, zsdx.permission_cache).

Only such marked statements are prepared: their parameters are an id and constants, so the plan PostgreSQL may
keep for every value is the plan of any value. (psycopg 3 prepares every statement run five times; that was tried
and reverted: a generic plan cannot see a search text or a keyset cursor, and two pages got 3–6× slower.)

The parameters are declared with the types of their first values (int as bigint, str as text, ...); a statement
with a NULL or another kind of value is sent as text. Off with ZSDX_PREPARED_STATEMENTS=0 (config.py), for a
pooler that spreads one client's statements over several server connections.

A prepared statement belongs to the connection: it survives a rollback, the pool keeps it with the connection
(`PoolProxiedConnection.info`, cleared when the connection is replaced), and PostgreSQL replans it by itself after
a migration changes a table it reads. SQLite is left alone.
"""

import datetime as dt
import functools
import re
from decimal import Decimal

from sqlalchemy import event

_PARAM = re.compile(r"%\((\w+)\)s")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_KEY = "zsdx_prepared"  # connection info: name -> (the statement text, its parameters' types) it was prepared for
# the parameters' types, from their Python values: PREPARE without types lets PostgreSQL guess, and a parameter
# in a SELECT list is then `text` (`SELECT $1` answers '1' where the text statement answered 1)
_TYPES = (
    (bool, "boolean"),  # before int: a bool is an int
    (int, "bigint"),
    (str, "text"),
    (float, "double precision"),
    (Decimal, "numeric"),
    (dt.datetime, "timestamp"),  # before date: a datetime is a date
    (dt.date, "date"),
)


def _type_of(value):
    return next((name for cls, name in _TYPES if isinstance(value, cls)), None)


def register(engine, enabled=True):
    """Prepare the marked statements of `engine`, if `enabled` (config PREPARED_STATEMENTS) and on PostgreSQL."""
    if not enabled or engine.dialect.name != "postgresql":
        return
    if event.contains(engine, "before_cursor_execute", _execute_prepared):
        return
    event.listen(engine, "before_cursor_execute", _execute_prepared, retval=True)


@functools.lru_cache(maxsize=64)
def _shape(name, statement):
    """(the statement's parameter names in order, its EXECUTE text): the same for every execution of a text."""
    names = tuple(dict.fromkeys(_PARAM.findall(statement)))
    args = ", ".join(f"%({n})s" for n in names)
    return names, f"EXECUTE {name}({args})" if names else f"EXECUTE {name}"


def _execute_prepared(conn, cursor, statement, parameters, context, executemany):
    name = context.execution_options.get("zsdx_prepare") if context is not None else None
    if not name or executemany or not isinstance(parameters, dict) or not _NAME.match(name):
        return statement, parameters
    names, execute = _shape(name, statement)
    types = [_type_of(parameters.get(n)) for n in names]
    if None in types:  # a NULL or a value of another kind: sent as text, as any statement
        return statement, parameters
    prepared = conn.connection.info.setdefault(_KEY, {})
    key = (statement, tuple(types))
    if prepared.get(name) != key:
        if name in prepared:  # the same name for another text (another version of the statement)
            cursor.execute(f"DEALLOCATE {name}")
            del prepared[name]
        numbered = {n: f"${i}" for i, n in enumerate(names, 1)}
        body = _PARAM.sub(lambda m: numbered[m.group(1)], statement).replace("%%", "%")
        declared = f"({', '.join(types)})" if types else ""
        cursor.execute(f"PREPARE {name}{declared} AS {body}")
        prepared[name] = key
    return execute, parameters
