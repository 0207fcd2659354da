"""The password rule (SPEC §2): 8–20 characters with at least three of upper case, lower case, digits
and special characters. Every path that sets a password goes through `check_password`."""

import string

from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_babel import gettext, lazy_gettext

PASSWORD_RULE = lazy_gettext(
    "8-20 characters, containing at least three of: upper case letters, lower case letters, digits and special characters"
)


def password_problem(password):
    """Return a (translated) message saying what is wrong with the password, or None if it is fine."""
    password = password or ""
    if not 8 <= len(password) <= 20:
        return gettext("The password must be 8-20 characters long")
    if any(ch.isspace() for ch in password) or not password.isascii() or not password.isprintable():
        return gettext("The password may only contain letters, digits and special characters")
    classes = [
        any(ch.isupper() for ch in password),
        any(ch.islower() for ch in password),
        any(ch.isdigit() for ch in password),
        any(ch in string.punctuation for ch in password),
    ]
    if sum(classes) < 3:
        return gettext(
            "The password must contain at least three of: upper case letters, lower case letters, digits and special characters"
        )
    return None


def fab_validator(password):
    """FAB_PASSWORD_COMPLEXITY_VALIDATOR: FAB's admin and reset forms call this."""
    problem = password_problem(password)
    if problem:
        raise PasswordComplexityValidationError(problem)


class PasswordRule:
    """WTForms validator."""

    def __call__(self, form, field):
        from wtforms.validators import ValidationError

        problem = password_problem(field.data)
        if problem:
            raise ValidationError(problem)
