"""Phone numbers and login names as people type them: one spelling per account.

An input method in 全角 mode types １３９…; people paste 139-0000-1234 or 139 0000 1234. Every place that reads
a phone (registration, both logins, SMS send and verify, 修改绑定手机号, 忘记密码, the admin user form,
`flask zsdx create-user`) normalises it here first, so every spelling is the same account with the same SMS
counters and the same lockout; anything that is then not exactly 11 ASCII digits is refused.
"""

import re
import unicodedata

# [0-9], not \d (which also matches full-width and Arabic-Indic digits); \Z, not $ (which matches before "\n").
PHONE_RE = r"^1[3-9][0-9]{9}\Z"
_PHONE = re.compile(PHONE_RE)
# No one types a phone this long: longer input is refused as it is, without normalising it.
MAX_TYPED_PHONE = 64
# ab_user.username and zs_login_failure.login are 128 characters.
MAX_LOGIN_NAME = 128
# Spaces and dashes people put between digit groups (NFKC has already made full-width ones ASCII). Not \s:
# it also matches control characters (\x1c-\x1f), which are refused, never dropped.
_SEPARATORS = re.compile(r"[ \t\-\u2010-\u2015\u2212]")
# Control, format (zero-width, bidi overrides) and surrogate characters never belong in a login name.
_BAD_CATEGORIES = {"Cc", "Cf", "Cs"}


def normalise_phone(value):
    """The phone as stored: NFKC (full-width digits become ASCII), separators removed. Not a string, or too
    long to be a phone: returned unchanged, for the caller to refuse."""
    if not isinstance(value, str) or len(value) > MAX_TYPED_PHONE:
        return value
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value))


def is_phone(value):
    """Exactly a mainland mobile number in ASCII digits (after normalise_phone)."""
    return isinstance(value, str) and _PHONE.match(value) is not None


def has_control_characters(value):
    return any(unicodedata.category(ch) in _BAD_CATEGORIES for ch in value)


def normalise_login(value):
    """A login name as the account stores it: a phone in any spelling becomes the phone; anything else (an
    e-mail, FAB's admin name) is only NFKC-normalised and stripped. Not a string: returned unchanged."""
    if not isinstance(value, str) or len(value) > MAX_LOGIN_NAME * 2:
        return value
    name = unicodedata.normalize("NFKC", value).strip(" \t\r\n")
    phone = normalise_phone(name)
    return phone if is_phone(phone) else name


def is_login_name(value):
    """A login name worth looking up: a string of at most 128 characters without control characters (the
    caller normalises first). Anything else is refused before it reaches the database or any lockout count."""
    return isinstance(value, str) and 0 < len(value) <= MAX_LOGIN_NAME and not has_control_characters(value)
