"""`rq worker -w zsdx.worker.ZsdxWorker`: builds the Flask app once in the parent, so the forked
work-horse of every job inherits it instead of building its own (~1 s a job otherwise)."""

from rq import Worker


class ZsdxWorker(Worker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from . import create_app
        from .jobs import _worker_app

        _worker_app.setdefault("app", create_app())
