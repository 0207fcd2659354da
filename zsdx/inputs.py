"""Typed input, checked the same way everywhere (forms, the review engine's opinions, hand-parsed fields):
no control characters, and numbers that fit their columns. Messages are English msgids (zh catalog)."""

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l

# Control characters (Unicode Cc): PostgreSQL refuses NUL, and none of them belongs in a form. A multi-line
# field keeps tab and line breaks.
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_CHARS_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
CONTROL_CHARS_MESSAGE = _l("Contains control characters that are not allowed; please delete them")
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
_INTEGER_RE = re.compile(r"[+-]?[0-9]{1,12}")
# ASCII digits only (int()/Decimal() also take full-width digits and '1_000'); no NaN/Infinity by construction
_DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]{1,40}(?:\.[0-9]{0,40})?|\.[0-9]{1,40})(?:[eE][+-]?[0-9]{1,4})?")


def has_control_chars(text, multiline=False):
    return bool((CONTROL_CHARS_MULTILINE if multiline else CONTROL_CHARS).search(text or ""))


def parse_integer(text, minimum=INT32_MIN, maximum=INT32_MAX):
    """A typed whole number within [minimum, maximum] (a 32-bit column by default): (value, None) or
    (None, message)."""
    text = (text or "").strip()
    if not _INTEGER_RE.fullmatch(text):
        return None, _l("Please enter a whole number")
    value = int(text)
    if value > maximum:
        return None, _l("Must not be greater than %(max)s", max=maximum)
    if value < minimum:
        return None, _l("Must not be less than %(min)s", min=minimum)
    return value, None


def parse_decimal(text, places=2, max_digits=14, minimum=None, maximum=None):
    """A typed finite decimal that fits Numeric(max_digits, places) and [minimum, maximum]: (value, None) or
    (None, message); the value is quantized to `places`."""
    text = (text or "").strip()
    if not _DECIMAL_RE.fullmatch(text):
        return None, _l("Please enter a number")
    value = Decimal(text)
    step = Decimal(1).scaleb(-places)
    column_max = Decimal(10) ** (max_digits - places) - step
    upper = column_max if maximum is None else min(Decimal(maximum), column_max)
    lower = -column_max if minimum is None else max(Decimal(minimum), -column_max)
    if value > upper:
        return None, _l("Must not be greater than %(max)s", max=upper)
    if value < lower:
        return None, _l("Must not be less than %(min)s", min=lower)
    if value.quantize(step) != value:
        return None, _l("At most %(n)s decimal places", n=places)
    return value.quantize(step), None
