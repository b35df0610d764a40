"""Why a file is refused: a reason for the code, words for the person who sent it."""

from __future__ import annotations

from flask_babel.speaklater import LazyString


class Refused(ValueError):
    """A file that cannot be taken, with a translated message naming it.

    `str(error)` is the reason alone (such as "too_large"): exceptions reach logs and
    tracebacks, and a file's name can be personal ("Olena_Passport.jpg"). The name is only
    in `message`, for the page or the API answer that shows it to the person who sent it.
    """

    def __init__(self, reason: str, message: LazyString) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message
