"""The shared singletons, in one place so that their initialisation order is visible (see create_app)."""

from flask_appbuilder import AppBuilder
from flask_appbuilder.models.sqla import Model
from flask_appbuilder.utils.legacy import get_sqla_class
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

# FAB's models live on their own declarative metadata; Flask-SQLAlchemy must share it so that Alembic
# sees ab_* and zsdx tables alike (FAB-NOTES P11).
db = get_sqla_class()(metadata=Model.metadata)
csrf = CSRFProtect()
migrate = Migrate()
# Permissions are synced by `flask zsdx init`, not at every start (FAB-NOTES P12).
appbuilder = AppBuilder(update_perms=False)


def dialect_insert(conn):
    """The INSERT construct of `conn`'s dialect (PostgreSQL or SQLite): both have ON CONFLICT … DO UPDATE."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


# FAB's security manager adopts this limiter (ZsdxSecurityManager.create_limiter), so the form login,
# the API login and zsdx's own SMS endpoints share one configured storage (Redis in production).
from flask_limiter import Limiter  # noqa: E402
from flask_limiter.util import get_remote_address  # noqa: E402

limiter = Limiter(key_func=get_remote_address)
