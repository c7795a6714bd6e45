"""The new-password policy (NIST SP 800-63B-4): long enough, not too long, no composition
rules, and neither common nor guessable. Applied only when a password is set: stored
hashes keep working whatever they were made from.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from ..passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

# A word this short with digits or symbols around it is left to zxcvbn's estimate.
MIN_WORD_LENGTH = 4

# zxcvbn's estimate of the guesses a password needs, at least: 10^8 is its score 3,
# "safely unguessable" against online attacks.
MIN_GUESSES_LOG10 = 8

# zxcvbn's cost grows faster than the length: it reads this many characters (its own
# default limit). A longer password whose start is hard to guess is hard to guess.
JUDGED_CHARACTERS = 72

# zxcvbn keeps the user's words in a module-level dictionary between calls, so
# two threads must not run it at once (a call takes a few milliseconds).
_zxcvbn_lock = threading.Lock()


def password_problem(
    password: str,
    *,
    username: str,
    app_name: str,
    min_length: int = MIN_PASSWORD_LENGTH,
) -> str | None:
    """Why this new password is refused, in words for people; None if it is fine.

    ``min_length`` is 15 when the password is the only factor; NIST allows 8 with a second one.
    """
    if len(password) < min_length:
        return f"A password needs at least {min_length} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"A password has at most {MAX_PASSWORD_LENGTH} characters."
    words = {
        "your username": _letters_and_digits(username),
        "the app's name": _letters_and_digits(app_name),
    }
    for form in _forms(password):
        if form in _common_passwords():
            return "This is a common password (digits or symbols around it do not help). Choose another one."
        for what, word in words.items():
            if form == word:
                return f"A password must not be {what}, even with digits or symbols added."
    with _zxcvbn_lock:
        judged = zxcvbn(password[:JUDGED_CHARACTERS], user_inputs=[username, app_name, *app_name.split()])
    if judged["guesses_log10"] < MIN_GUESSES_LOG10:
        why = judged["feedback"]["warning"] or "It follows a pattern that guessers try early."
        return f"This password is too easy to guess. {why} A few unrelated words make a good one."
    return None


@functools.cache
def _common_passwords() -> frozenset[str]:
    """zxcvbn's list of the 30,000 passwords most often seen in breaches, in the form compared."""
    return frozenset(_letters_and_digits(common) for common in FREQUENCY_LISTS["passwords"])


def _letters_and_digits(text: str) -> str:
    """The text without case, spaces or symbols: "My-App!" and "myapp" are the same word."""
    return "".join(c for c in unicodedata.normalize("NFKC", text).casefold() if c.isalnum())


def _forms(password: str) -> set[str]:
    """The password and what is left when digits and symbols at its ends are taken off."""
    squashed = _letters_and_digits(password)
    stripped = re.sub(r"^\d+|\d+$", "", squashed)
    return {form for form in (squashed, stripped) if len(form) >= MIN_WORD_LENGTH}
