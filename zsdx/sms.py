"""The SMS gateway interface. The default backend sends nothing and writes one log line per message."""

import logging

from flask import current_app
from werkzeug.utils import import_string

log = logging.getLogger("zsdx.sms")


class SmsBackend:
    def send(self, phone, text):  # pragma: no cover - interface
        raise NotImplementedError


class LogSmsBackend(SmsBackend):
    def send(self, phone, text):
        log.info("SMS to %s: %s", phone, text)


def get_backend():
    return import_string(current_app.config["SMS_BACKEND"])()
