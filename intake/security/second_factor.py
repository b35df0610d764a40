"""The staff's second factor: a TOTP authenticator app (RFC 6238) and single-use recovery codes.

Secrets are stored encrypted under the data key. A new secret is offered (pending) and
replaces the account's secret only once a code from the app has confirmed it, so an
abandoned enrolment leaves the old authenticator working. Each accepted code records its
time step: a code is accepted once (no replay), from the step before or after the server's
clock (30 s of drift).
Recovery codes hold 49 random bits each and are stored as a keyed hash (the blind index's key
is not in the database); one is used up when used.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import unicodedata

import pyotp
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from intake.security.crypto import FieldCipher
from intake.store import models

RECOVERY_CODES = 10
_DRIFT_STEPS = 1  # the step before and after the server's own
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # nothing to mistake: no 0/o, 1/l/i


def _context(user: models.StaffUser) -> str:
    return f"staff_user:{user.id}:totp"


def enrolled(user: models.StaffUser) -> bool:
    return user.totp_secret is not None


def pending_secret(cipher: FieldCipher, user: models.StaffUser) -> str:
    """The secret to enrol with: the one offered before (a page reloaded keeps the code
    already scanned), else a new one."""
    if user.totp_pending is None:
        user.totp_pending = cipher.encrypt(pyotp.random_base32(), _context(user))
    return cipher.decrypt(user.totp_pending, _context(user))


def confirm(cipher: FieldCipher, user: models.StaffUser, code: str, now: dt.datetime) -> bool:
    """Make the offered secret the account's if the code is its app's."""
    if user.totp_pending is None:
        return False
    step = _matching_step(cipher.decrypt(user.totp_pending, _context(user)), code, now, None)
    if step is None:
        return False
    user.totp_secret, user.totp_pending, user.totp_last_step = user.totp_pending, None, step
    return True


def provisioning_uri(secret: str, account_label: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account_label, issuer_name=issuer)


def check_code(cipher: FieldCipher, user: models.StaffUser, code: str, now: dt.datetime) -> bool:
    """Whether the code is the app's for now (or the neighbouring step) and not used before;
    a right code is used up."""
    if user.totp_secret is None:
        return False
    step = _matching_step(cipher.decrypt(user.totp_secret, _context(user)), code, now,
                          user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    return True


def _digits(typed: str) -> str | None:
    """The code as ASCII digits, however typed: with spaces, or in Arabic-Indic or Persian
    digits (a phone set to Arabic or Persian may show and type them); None if not digits."""
    digits = [unicodedata.digit(char, None) for char in typed if not char.isspace()]
    if not digits or None in digits:
        return None
    return "".join(str(digit) for digit in digits)


def _matching_step(secret: str, typed: str, now: dt.datetime, last: int | None) -> int | None:
    """The time step whose code this is, if it is near now and after the last one used."""
    code = _digits(typed)
    if code is None:
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - _DRIFT_STEPS, current + _DRIFT_STEPS + 1):
        if (last is None or step > last) and hmac.compare_digest(
            totp.generate_otp(step).encode(), code.encode()
        ):
            return step
    return None


def new_recovery_codes(
    session: Session, cipher: FieldCipher, user: models.StaffUser
) -> list[str]:
    """Fresh recovery codes (shown once); earlier ones stop working."""
    session.execute(delete(models.RecoveryCode).where(models.RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(models.RecoveryCode(code_hash=_hashed(cipher, codes[-1]), user_id=user.id))
    return codes


def _hashed(cipher: FieldCipher, code: str) -> str:
    """As typed, with or without the hyphen, spaces or capitals."""
    return cipher.blind_index("recovery:" + "".join(code.lower().split()).replace("-", ""))


def use_recovery_code(
    session: Session, cipher: FieldCipher, user: models.StaffUser, code: str, now: dt.datetime
) -> bool:
    """Use up a recovery code of this account; False if it is none, or used. One statement
    marks it, so two requests racing with the same code cannot both succeed."""
    used = session.execute(
        update(models.RecoveryCode)
        .where(models.RecoveryCode.user_id == user.id,
               models.RecoveryCode.code_hash == _hashed(cipher, code),
               models.RecoveryCode.used_at.is_(None))
        .values(used_at=now)
    )
    return bool(used.rowcount)  # type: ignore[attr-defined]


def remove(session: Session, user: models.StaffUser) -> None:
    """Forget the authenticator and the recovery codes (the next sign-in enrols again)."""
    user.totp_secret = user.totp_pending = None
    user.totp_last_step = None
    session.execute(delete(models.RecoveryCode).where(models.RecoveryCode.user_id == user.id))
