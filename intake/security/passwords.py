"""What makes a staff password acceptable, after NIST SP 800-63B (revision 4, section 3.1.1).

Length is what counts: at least 12 characters (the guideline's floor is 8 with a second
factor, which every staff account has; 15 without one), up to 128, any characters (spaces
and every script included), and no rules about their kinds. A password found in a list of
commonly used, expected or compromised values is refused: the 30,000 most common passwords
of breach corpora that zxcvbn ships (local: nothing leaves the machine), and words of the
context (the service, the account's e-mail address), through zxcvbn's estimate of how many
guesses the password would take.
"""

from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

SHORTEST = 12
LONGEST = 128
# zxcvbn's score 4: "very unguessable", 10^10 guesses and more. Score 3 let through a
# place and a year ("Berlin2026!!!") and the service's own words ("intakedesk2026!").
LEAST_SCORE = 4
_COMMON = frozenset(FREQUENCY_LISTS["passwords"])
_CONTEXT = ["intake", "desk", "staff", "password", "passwort"]


def normalized(password: str) -> str:
    """NFKC, as the guideline asks, so the same password typed on another keyboard matches:
    applied wherever a password is hashed or checked (intake.security.staff)."""
    return unicodedata.normalize("NFKC", password)


def problem(password: str, email: str) -> str | None:
    """Why the password is refused, translated; None if it is acceptable."""
    password = normalized(password)
    if len(password) < SHORTEST:
        return str(_l("Choose a longer password: at least %(count)d characters.",
                      count=SHORTEST))
    if len(password) > LONGEST:
        return str(_l("Choose a shorter password: at most %(count)d characters.",
                      count=LONGEST))
    email_words = [word for word in re.split(r"[@.+_-]", email.lower()) if word]
    local_part = email.lower().partition("@")[0]
    if len(local_part) >= 4 and local_part in password.lower():
        return str(_l("A password must not contain your e-mail address."))
    if password.lower() in _COMMON or zxcvbn(
        password[:100], user_inputs=[*_CONTEXT, email, *email_words]
    )["score"] < LEAST_SCORE:
        return str(_l("This password is too common or too easy to guess. "
                      "Several unrelated words make a strong one that is easy to remember."))
    return None
