"""WSGI entry point: `flask --app app run`, `gunicorn app:app`."""

from zsdx import create_app

app = create_app()
