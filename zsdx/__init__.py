"""zsdx: the project-management platform of the SME digital-transformation city pilot."""

import logging
import os

from flask import Flask
from werkzeug.routing import IntegerConverter

from .inputs import INT32_MAX


class BoundedIntConverter(IntegerConverter):
    """Flask's `int` converter, limited to the ids an INTEGER column can hold (every id column of zsdx and FAB
    is one): a larger number is a 404, where PostgreSQL would refuse it as a parameter."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", INT32_MAX)
        super().__init__(map, *args, **kwargs)


def create_app(test_config=None):
    """The application factory. Order matters: CSRF before AppBuilder (FAB-NOTES P2)."""
    app = Flask(__name__, instance_path=os.path.join(os.path.dirname(os.path.dirname(__file__)), "instance"))
    app.config.from_object("config")
    if test_config:
        app.config.update(test_config)
    from .passwords import fab_validator

    app.config["FAB_PASSWORD_COMPLEXITY_VALIDATOR"] = fab_validator
    _configure_logging(app)
    if app.config.get("ZSDX_PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)

    from .extensions import appbuilder, csrf, db, migrate

    # <int:…> URL parts beyond a 64-bit id are a 404, not a driver overflow (SQLite) at the first query
    app.url_map.converters["int"] = BoundedIntConverter

    db.init_app(app)
    csrf.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"))
    with app.app_context():
        from . import models  # noqa: F401  (the models on the metadata)
        from .views import register_views

        register_stages()

        appbuilder.init_app(app, db.session)
        register_views(appbuilder)
    from .workflow import validate_chains

    validate_chains(app)  # an unknown scope, role, step label or guard stops start-up (fail closed)
    from .security import apply_login_limits

    apply_login_limits(app)
    from .cli import zsdx_cli
    from .jobs import hand_over_after_response
    from .notifications import deliver_pending

    app.cli.add_command(zsdx_cli)
    # Flask runs after_request functions last-registered first: the jobs a request asked for (deliver_pending's
    # among them) are handed over once its response is sent, by the hook registered first
    app.after_request(hand_over_after_response)
    app.after_request(deliver_pending)  # takes the committed notifications' ids
    from . import templating

    templating.register(app)
    from . import errors

    errors.register(app)
    from . import guards, headers

    guards.register(app)
    headers.register(app)
    from . import benchhooks, prepared

    with app.app_context():  # PostgreSQL: the user's load is prepared once per connection
        prepared.register(db.engine, app.config.get("PREPARED_STATEMENTS"))
    benchhooks.register(app)  # off unless ZSDX_BENCH=1 (bench/run.py)
    if not app.config.get("REDIS_URL") and not app.config.get("TESTING"):
        from .jobs import start_inprocess_ticker

        # embedded default: the scheduled jobs tick in-process once the app serves requests
        app.before_request(lambda: start_inprocess_ticker(app))
    return app


def register_stages():
    """Import every stage module: each registers its stage, tabs and visibility on import."""
    from . import (  # noqa: F401
        assist,
        catalog,
        completion,
        diagnosis,
        filing,
        implementation,
        infochange,
        post_assessment,
        presubsidy,
        signing,
        upcoming,
        warehousing,
    )


def _configure_logging(app):
    level = app.config.get("LOG_LEVEL", os.environ.get("LOG_LEVEL", "INFO"))
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("zsdx").setLevel(level)
