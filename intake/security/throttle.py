"""Sign-in throttling: each failure brings a longer wait, and no failure locks the owner out.

Two counters count failed sign-ins (a wrong password or a wrong second-factor code): one
for the account and the address together, one for the account from anywhere. The first
slows a guesser at one address quickly (1 s after the third failure, doubling up to 15
minutes) while its owner, elsewhere, signs in as usual; the second slows a guesser who
spreads across many addresses, gently: a minute at most between attempts. A success
clears both. A refused attempt checks no password and counts nothing.

A browser the account signed in on before carries a device cookie (intake.web.sign_in):
its attempts count against that device alone, so neither a guesser elsewhere nor one sharing
its address (a reception centre's NAT) slows the owner down there.

Keys are keyed hashes (the blind index), so no e-mail or address is stored.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.orm import Session

from intake.security.crypto import FieldCipher
from intake.store import models


@dataclass(frozen=True)
class Rule:
    name: str
    free_failures: int
    longest_wait: dt.timedelta

    def wait_after(self, failures: int) -> dt.timedelta:
        if failures < self.free_failures:
            return dt.timedelta(0)
        doublings = min(failures - self.free_failures, 20)  # 2**20 s is past any longest wait
        return min(dt.timedelta(seconds=2 ** doublings), self.longest_wait)


FROM_ONE_ADDRESS = Rule("address", free_failures=3, longest_wait=dt.timedelta(minutes=15))
FROM_ANYWHERE = Rule("account", free_failures=20, longest_wait=dt.timedelta(minutes=1))
_FORGET_AFTER = dt.timedelta(days=1)  # a counter without failures for this long is deleted


def keys(
    cipher: FieldCipher, email: str, address: str, device: str | None = None
) -> dict[Rule, str]:
    """The counters an attempt at this account counts against."""
    account = email.strip().lower()
    if device is not None:  # a device this account has signed in on: it alone
        return {FROM_ONE_ADDRESS: cipher.blind_index(f"sign-in:{account}|device:{device}")}
    return {
        FROM_ONE_ADDRESS: cipher.blind_index(f"sign-in:{account}|{address}"),
        FROM_ANYWHERE: cipher.blind_index(f"sign-in:{account}"),
    }


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def seconds_to_wait(session: Session, counters: dict[Rule, str], now: dt.datetime) -> int:
    """How long the next attempt must wait (0: it may go ahead)."""
    longest = 0.0
    for key in counters.values():  # locked: parallel attempts are counted one after another
        found = session.get(models.SignInThrottle, key, with_for_update=True)
        if found is not None:
            longest = max(longest, (_aware(found.not_before) - now).total_seconds())
    return math.ceil(longest)


def failed(session: Session, counters: dict[Rule, str], now: dt.datetime) -> None:
    """Count a failure against every counter, each setting its next allowed moment."""
    session.execute(delete(models.SignInThrottle).where(
        models.SignInThrottle.not_before < now - _FORGET_AFTER
    ))
    for rule, key in counters.items():
        found = session.get(models.SignInThrottle, key, with_for_update=True)
        if found is None:
            found = models.SignInThrottle(key=key, failures=0, not_before=now)
            session.add(found)
        found.failures += 1
        found.not_before = now + rule.wait_after(found.failures)


def succeeded(session: Session, counters: dict[Rule, str]) -> None:
    session.execute(delete(models.SignInThrottle).where(
        models.SignInThrottle.key.in_(counters.values())
    ))
