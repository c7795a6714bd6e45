"""The new-password policy: length, common and guessable passwords refused with a reason."""

import secrets

import pytest
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from auth.accounts.strength import password_problem
from auth.passwords import UserError, check_new_password, hash_password, new_password, verify_password

APP = "Sales Weekly"  # any app name: the test gives its own


def problem(password: str, **options) -> str | None:
    return password_problem(password, username="alice", app_name=APP, **options)


def test_fifteen_characters_when_the_password_is_the_only_factor():
    assert problem("violet-tram-ow") == "A password needs at least 15 characters."
    assert problem("violet-tram-owl") is None


def test_eight_characters_may_be_allowed_with_a_second_factor():
    assert problem("wq7#Vx2!pz", min_length=8) is None
    assert "at least 15" in problem("wq7#Vx2!pz")
    assert "at least 8" in problem("wq7#Vx2", min_length=8)


def test_at_most_1024_characters():
    long_random = secrets.token_urlsafe(800)[:1024]
    assert problem(long_random) is None
    assert problem(long_random + "x") == "A password has at most 1024 characters."


def test_no_composition_rules():
    assert problem("sleepy otters juggle plums") is None  # lower case only, no digit, no symbol


@pytest.mark.parametrize(
    "password",
    ["password1234567", "Iloveyou1234567!", "qwertyuiop123456", "P@ssw0rd12345678", "!!dragon2024!!!!"],
)
def test_common_passwords_are_refused_even_padded(password):
    assert problem(password).startswith("This is a common password")


def test_the_list_reaches_past_the_ten_thousandth_password():
    deep = next(w for w in FREQUENCY_LISTS["passwords"][10_000:] if w.isalpha() and len(w) >= 6)
    padded = deep + "1234567890"[: max(0, 15 - len(deep))] + "!"
    assert problem(padded).startswith("This is a common password")


@pytest.mark.parametrize("password", ["Alice2024!!!!!!!", "ALICE-123456789", "alice..........."])
def test_the_username_is_refused_in_any_case_with_digits_or_symbols(password):
    assert problem(password) == "A password must not be your username, even with digits or symbols added."


@pytest.mark.parametrize("password", ["Sales-Weekly-2024!", "salesweekly12345", "SALES WEEKLY !!!!"])
def test_the_app_name_is_refused_in_any_case_with_digits_or_symbols(password):
    assert problem(password) == "A password must not be the app's name, even with digits or symbols added."


@pytest.mark.parametrize(
    "password", ["aaaaaaaaaaaaaaaa", "abcdefghijklmnop", "1234567890123456", "alicealicealice!", "ab" * 512]
)
def test_patterns_a_guesser_tries_early_are_refused(password):
    assert problem(password).startswith("This password is too easy to guess.")


def test_generated_passwords_pass_the_policy():
    for _ in range(20):
        assert problem(new_password()) is None


def test_the_basic_check_without_dependencies_also_needs_fifteen():
    with pytest.raises(UserError, match="at least 15"):
        check_new_password("x" * 14)
    with pytest.raises(UserError, match="at most 1024"):
        check_new_password("x" * 1025)
    assert check_new_password("x" * 15) == "x" * 15


def test_existing_hashes_of_shorter_passwords_keep_working():
    # Made before the policy: it applies when a password is set, not when it is checked.
    stored = hash_password("old-short-pw")
    assert verify_password("old-short-pw", stored)
