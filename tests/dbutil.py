"""A fresh, empty database for a test process: PostgreSQL when DATABASE_URL points at one, else SQLite."""

import os


def fresh_database_url(name, sqlite_path):
    """Drop and create database `name` next to DATABASE_URL's server, or use the SQLite file."""
    # ZSDX_TEST_DB_PREFIX lets two test runs share one PostgreSQL server without dropping each other's databases
    name = os.environ.get("ZSDX_TEST_DB_PREFIX", "") + name
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgresql", "postgres://")):
        return "sqlite:///" + sqlite_path
    import psycopg2
    from sqlalchemy.engine import make_url

    url = make_url(base.replace("postgres://", "postgresql://", 1))
    admin = psycopg2.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password or None,
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return url.set(drivername="postgresql+psycopg2", database=name).render_as_string(hide_password=False)
