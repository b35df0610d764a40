"""API tokens for partner systems and authorities: created once, stored as a hash."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.security import audit
from intake.security.crypto import random_token, token_hash
from intake.store import models

SCOPE = re.compile(r"^(submit|metrics|authority:\d{6})$")


def create(session: Session, name: str, scope: str) -> str:
    """Store a new token and return it; this is the only time it is ever seen (audited)."""
    if not SCOPE.match(scope):
        raise ValueError("scope must be 'submit', 'metrics' or 'authority:<6-digit key>'")
    authority = scope.removeprefix("authority:") if scope.startswith("authority:") else None
    if authority is not None and session.get(models.Authority, authority) is None:
        raise ValueError(f"no authority with key {authority}")
    token = random_token(32)
    row = models.ApiToken(name=name, scope=scope, token_hash=token_hash(token))
    session.add(row)
    session.flush()
    audit.record(session, None, "create", "api_token", str(row.id))
    return token


def listing(session: Session) -> list[models.ApiToken]:
    """Every token, oldest first (names, scopes and dates; never a value)."""
    return list(session.scalars(select(models.ApiToken).order_by(models.ApiToken.id)))


def revoke(session: Session, token_id: int) -> bool:
    """Revoke a token (audited); False if there is no such live token."""
    found = session.get(models.ApiToken, token_id)
    if found is None or found.revoked_at is not None:
        return False
    found.revoked_at = dt.datetime.now(dt.UTC)
    audit.record(session, None, "revoke", "api_token", str(token_id))
    return True


def find(session: Session, token: str, scope: str) -> models.ApiToken | None:
    """The live token with this value and scope, or None.

    The scope "authority" accepts the token of any authority (`authority:<key>`); the view
    then serves that authority's objects only.
    """
    if not token:
        return None
    found = session.scalar(
        select(models.ApiToken).where(
            models.ApiToken.token_hash == token_hash(token),
            models.ApiToken.revoked_at.is_(None),
        )
    )
    if found is None:
        return None
    if found.scope == scope or (scope == "authority" and found.scope.startswith("authority:")):
        return found
    return None
