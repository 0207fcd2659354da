"""Server-side prepared statements (PostgreSQL; issue 12): planned once per connection, then executed by name.

PostgreSQL parses and plans each statement it is sent. For the signed-in user's load (the user, its roles,
whether it is in a group, the grants' version and the header's unread counts, zsdx.security) the planning took
longer than the answer (~0.8 ms of ~1.2 ms); on a detail page or a 工作台 tab the planning of its statements,
~0.5–0.9 ms, took longer than their execution. A prepared statement is sent once per database connection as
`PREPARE <name> AS …` and then as `EXECUTE <name>(…)`, with the same columns, so the ORM reads its rows as before.

Two kinds of statement are prepared:
- those marked with the execution option `zsdx_prepare="<name>"`: the user's load and an anonymous visitor's
  Public role with the grants' version (zsdx.permission_cache). Their parameters are declared with the types of
  their values (int as bigint, str as text, ...); a statement with a NULL or another kind of value is sent as text.
- any other SELECT whose parameters are all integers (ids, a page's LIMIT and OFFSET), or which has none: a record
  and its relations loaded by id, a 工作台 list of one enterprise. Each is named after a hash of its text, and its
  parameters are declared `integer` (bigint past its range), the type PostgreSQL gives the same number written
  in the text. A statement with a text, a date or a NULL parameter is sent as text: PostgreSQL's generic plan,
  which it keeps for every value once five custom plans cost no less, cannot see a search text or a keyset cursor
  (psycopg 3's preparation of every statement was tried and reverted: two such pages got 3–6× slower). A generic
  plan for integers is the plan of ids and page sizes alike; where it would cost more (an unknown LIMIT),
  PostgreSQL keeps planning each execution as before.
  A connection keeps at most AUTO_LIMIT of these (an IN list of each length is a text of its own); past it, the
  least recently used is deallocated.

Off with ZSDX_PREPARED_STATEMENTS=0 (config.py), for a pooler that spreads one client's statements over several
server connections.

A prepared statement belongs to the connection: it survives a rollback, the pool keeps it with the connection
(`PoolProxiedConnection.info`, cleared when the connection is replaced), and PostgreSQL replans it by itself after
a migration changes a table it reads. Only a changed type of a column it returns makes PostgreSQL refuse it: that
request fails and the process's connections are replaced (`_on_error`). SQLite is left alone.
"""

import datetime as dt
import functools
import hashlib
import re
from decimal import Decimal

from sqlalchemy import event

_PARAM = re.compile(r"%\((\w+)\)s")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_KEY = "zsdx_prepared"  # connection info: name -> (the statement text, its parameters' types) it was prepared for
# connection info: the names of the statements prepared by their integers, least recently used first
_AUTO_KEY = "zsdx_prepared_auto"
AUTO_LIMIT = 200
_INT4 = (-(2**31), 2**31 - 1)
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
    event.listen(engine, "handle_error", _on_error)


def _on_error(context):
    """A column a prepared statement reads changed its type (a migration run under live workers): PostgreSQL refuses
    the statement ("cached plan must not change result type"). That statement fails; the process's connections
    are then replaced, and with them every statement prepared on them."""
    if "cached plan must not change result type" in str(context.original_exception):
        context.is_disconnect = True
        context.invalidate_pool_on_disconnect = True


@functools.lru_cache(maxsize=1024)
def _shape(name, statement):
    """(the statement's parameter names in order, its EXECUTE text): the same for every execution of a text."""
    names = tuple(dict.fromkeys(_PARAM.findall(statement)))
    args = ", ".join(f"%({n})s" for n in names)
    return names, f"EXECUTE {name}({args})" if names else f"EXECUTE {name}"


def _execute_prepared(conn, cursor, statement, parameters, context, executemany):
    name = context.execution_options.get("zsdx_prepare") if context is not None else None
    if name:
        if executemany or not isinstance(parameters, dict) or not _NAME.match(name):
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
            _prepare(cursor, name, statement, names, types)
            prepared[name] = key
        context.zsdx_written = statement  # the statement as written, for whoever listens after (StatementCounter)
        return execute, parameters
    if (
        executemany
        or context is None
        or not statement.startswith("SELECT")
        or not isinstance(parameters, (dict, type(None)))
        or getattr(cursor, "name", None)  # a server-side cursor (a streamed export): DECLARE … FOR EXECUTE is no SQL
    ):
        return statement, parameters
    types = _integer_types(parameters or {})
    if types is None:
        return statement, parameters
    name, names, execute = _auto_shape(statement, types)
    types = dict(types)
    kept = conn.connection.info.setdefault(_AUTO_KEY, {})
    if name in kept:
        kept[name] = kept.pop(name)  # the most recently used last
    else:
        while len(kept) >= AUTO_LIMIT:
            oldest = next(iter(kept))
            cursor.execute(f"DEALLOCATE {oldest}")
            del kept[oldest]
        _prepare(cursor, name, statement, names, [types[n] for n in names])
        kept[name] = True
    context.zsdx_written = statement
    return execute, parameters or {}


def _integer_types(parameters):
    """((name, "integer" / "bigint"), …) sorted by name if every parameter is an int (not a bool), else None."""
    types = []
    for n, v in parameters.items():
        if type(v) is not int:
            return None
        types.append((n, "integer" if _INT4[0] <= v <= _INT4[1] else "bigint"))
    return tuple(sorted(types))


@functools.lru_cache(maxsize=1024)
def _auto_shape(statement, types):
    """(name, the parameters' names in order, the EXECUTE text) of a statement prepared by its integers."""
    name = "zsdx_auto_" + hashlib.blake2b(f"{statement}\0{types}".encode(), digest_size=10).hexdigest()
    return (name, *_shape(name, statement))


def _prepare(cursor, name, statement, names, types):
    numbered = {n: f"${i}" for i, n in enumerate(names, 1)}
    body = _PARAM.sub(lambda m: numbered[m.group(1)], statement).replace("%%", "%")
    declared = f"({', '.join(types)})" if types else ""
    cursor.execute(f"PREPARE {name}{declared} AS {body}")
