"""Two-step sign-in building blocks: TOTP codes accepted once, recovery codes, the QR code."""

import base64
import re
from urllib.parse import parse_qs, unquote, urlsplit
from xml.etree import ElementTree

import pyotp

from auth.accounts import mfa

NOW = 1_800_000_000.0  # a fixed time, in the middle of a 30-second step
STEP = int(NOW // 30)


def code_at(secret: str, when: float) -> str:
    return pyotp.TOTP(secret).at(when)


def test_a_new_secret_has_160_random_bits():
    secrets = {mfa.new_totp_secret() for _ in range(5)}
    assert len(secrets) == 5
    assert all(len(base64.b32decode(s)) == 20 for s in secrets)


def test_the_provisioning_uri_names_the_app_and_the_user():
    secret = mfa.new_totp_secret()
    uri = mfa.provisioning_uri(secret, username="alice", issuer="Sales Weekly")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert unquote(parts.path) == "/Sales Weekly:alice"
    query = parse_qs(parts.query)
    assert query["secret"] == [secret]
    assert query["issuer"] == ["Sales Weekly"]
    assert pyotp.parse_uri(uri).now() == pyotp.TOTP(secret).now()  # what an authenticator app derives


def test_the_right_code_is_accepted_once():
    secret = mfa.new_totp_secret()
    code = code_at(secret, NOW)
    assert mfa.accepted_step(secret, code, last_step=None, now=NOW) == STEP
    assert mfa.accepted_step(secret, code, last_step=STEP, now=NOW) is None  # replayed
    assert mfa.accepted_step(secret, code, last_step=STEP, now=NOW + 20) is None  # still in its window


def test_codes_of_the_steps_next_to_now_are_accepted_for_clock_drift():
    secret = mfa.new_totp_secret()
    assert mfa.accepted_step(secret, code_at(secret, NOW - 30), last_step=None, now=NOW) == STEP - 1
    assert mfa.accepted_step(secret, code_at(secret, NOW + 30), last_step=None, now=NOW) == STEP + 1
    assert mfa.accepted_step(secret, code_at(secret, NOW - 60), last_step=None, now=NOW) is None
    assert mfa.accepted_step(secret, code_at(secret, NOW + 60), last_step=None, now=NOW) is None


def test_after_a_later_code_an_earlier_one_is_refused():
    secret = mfa.new_totp_secret()
    later = mfa.accepted_step(secret, code_at(secret, NOW + 30), last_step=None, now=NOW)
    assert mfa.accepted_step(secret, code_at(secret, NOW), last_step=later, now=NOW) is None


def test_a_code_typed_with_a_space_is_accepted():
    secret = mfa.new_totp_secret()
    code = code_at(secret, NOW)
    assert mfa.accepted_step(secret, f"{code[:3]} {code[3:]}", last_step=None, now=NOW) == STEP


def test_wrong_and_malformed_codes_are_refused():
    secret = mfa.new_totp_secret()
    window = {code_at(secret, NOW + d) for d in (-30, 0, 30)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in window)
    right = code_at(secret, NOW)
    for code in (wrong, right[:5], right + "1", "abcdef", "", "\uff11\uff12\uff13\uff14\uff15\uff16"):
        assert mfa.accepted_step(secret, code, last_step=None, now=NOW) is None, code


def test_ten_recovery_codes_easy_to_type_and_all_different():
    codes = mfa.new_recovery_codes()
    assert len(codes) == 10 == len(set(codes))
    for code in codes:
        assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", code)
        assert not set(code) & set("01ilo")  # nothing to mistake for another character


def test_recovery_codes_are_stored_only_as_hashes_and_match_as_typed():
    codes = mfa.new_recovery_codes()
    stored = [mfa.recovery_code_hash(code) for code in codes]
    assert not any(code.replace("-", "") in digest for code in codes for digest in stored)
    typed = codes[3].upper().replace("-", " ")
    assert mfa.matching_recovery_hash(typed, stored) == stored[3]
    assert mfa.matching_recovery_hash("aaaa-bbbb-cccc-dddd", stored) is None
    assert mfa.matching_recovery_hash(codes[3], stored[:3] + stored[4:]) is None  # spent already


def test_the_qr_code_is_an_svg_image_a_strict_page_can_show():
    uri = mfa.provisioning_uri(mfa.new_totp_secret(), username="alice", issuer="Sales Weekly")
    data_uri = mfa.qr_code_data_uri(uri)
    assert data_uri.startswith("data:image/svg+xml")  # allowed by img-src 'self' data:
    svg = ElementTree.fromstring(unquote(data_uri.split(",", 1)[1]))  # noqa: S314 (made here)
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert int(svg.get("width")) == int(svg.get("height")) > 100
    inline = mfa.qr_code_svg(uri)
    assert inline.startswith("<svg") and "<script" not in inline and "href" not in inline
    other = mfa.provisioning_uri(mfa.new_totp_secret(), username="alice", issuer="Sales Weekly")
    assert mfa.qr_code_svg(other) != inline
