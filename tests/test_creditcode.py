"""统一社会信用代码 (GB 32100-2015): 18 characters from a 31-character set (no I, O, S, V, Z), positions 3–8
digits (the administrative division), last character a check character (mod 31, weights 3^i mod 31)."""

import pytest
from conftest import fresh_phone
from helpers import error_of, register, registration_form, send_code, user_row

from zsdx.creditcode import is_valid_credit_code, normalise

# The standard's own table, written out here independently of zsdx.creditcode.
GB32100_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def gb32100_check(first17):
    """Independent computation: C18 = 31 - (Σ Ci·Wi mod 31), 31 → 0, with Wi = 3^(i-1) mod 31."""
    total = 0
    for i, ch in enumerate(first17):
        total += GB32100_CHARS.index(ch) * pow(3, i, 31)
    return GB32100_CHARS[(31 - total % 31) % 31]


# Public codes of well-known organisations; each is re-checked below by the independent computation.
KNOWN_VALID = [
    "91350100M000100Y43",
    "91110000802100433B",
    "91440300708461136T",
    "914403001922038216",
    "91110108551385082Q",
    "91442000057830865C",  # the demo registry's first entry
]


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_known_codes_pass_the_independent_check(code):
    assert gb32100_check(code[:17]) == code[17]


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_known_codes_are_accepted(code):
    assert is_valid_credit_code(code)


def test_the_weights_are_the_standards():
    assert [pow(3, i, 31) for i in range(17)] == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_every_other_check_character_is_refused(code):
    for ch in GB32100_CHARS:
        if ch != code[17]:
            assert not is_valid_credit_code(code[:17] + ch), code[:17] + ch


def test_a_changed_body_character_is_caught(ctx):
    code = KNOWN_VALID[1]
    for pos in (0, 5, 10, 16):
        digit = code[pos]
        other = "1" if digit != "1" else "2"
        tampered = code[:pos] + other + code[pos + 1 :]
        assert not is_valid_credit_code(tampered), tampered


@pytest.mark.parametrize("code", ["9135010M000100Y43", "91350100M000100Y431", "91350100M000100Y4", "9", "", None])
def test_wrong_length_is_refused(code):
    assert not is_valid_credit_code(code)


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_forbidden_letters_are_refused(letter):
    # in the body, and as the check character
    body = "91350100" + letter + "000100Y4"
    assert len(body) == 17
    for check in GB32100_CHARS:
        assert not is_valid_credit_code(body + check)
    assert not is_valid_credit_code(KNOWN_VALID[0][:17] + letter)


def test_division_code_must_be_digits():
    # positions 3–8 are the administrative division code: digits only
    code = "91A50100M000100Y4"
    assert not is_valid_credit_code(code + gb32100_check(code))


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_lower_case_is_normalised(code):
    lower = code.lower()
    assert is_valid_credit_code(lower)
    assert is_valid_credit_code("  " + lower + " ")
    assert normalise(" " + lower + " ") == code


def test_random_codes_agree_with_the_independent_check():
    import random

    rng = random.Random(32100)
    for _ in range(500):
        body = (
            "".join(rng.choice(GB32100_CHARS) for _ in range(2))
            + "".join(rng.choice("0123456789") for _ in range(6))
            + "".join(rng.choice(GB32100_CHARS) for _ in range(9))
        )
        good = body + gb32100_check(body)
        assert is_valid_credit_code(good), good
        bad = body + GB32100_CHARS[(GB32100_CHARS.index(good[17]) + rng.randint(1, 30)) % 31]
        assert not is_valid_credit_code(bad), bad


# --- through the registration form ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "bad", ["91350100M000100Y44", "91350100M000100Y4", "91350100M000100Y4Z", "I1350100M000100Y43", "ABCDEFGHJKLMNPQRTU"]
)
def test_registration_refuses_invalid_code_beside_the_field(app, client, bad):
    phone = fresh_phone()
    resp = register(client, registration_form(app, phone, "123456", credit_code=bad))
    assert resp.status_code == 200
    assert error_of(resp, "credit_code")
    assert not error_of(resp, "org_name")
    assert not error_of(resp, "phone")
    assert user_row(app, phone) is None


def test_registration_stores_a_lower_case_code_upper_case(app, client, factory, sms):
    from zsdx.extensions import db
    from zsdx.models import Organisation

    code = factory.credit_code()
    phone = fresh_phone()
    assert send_code(client, phone, "register").status_code == 200
    resp = register(client, registration_form(app, phone, sms.last_code(phone), credit_code=code.lower()))
    assert resp.status_code == 302, error_of(resp, "credit_code")
    with app.app_context():
        org = db.session.query(Organisation).filter_by(id=user_row(app, phone)["org_id"]).one()
        assert org.credit_code == code
