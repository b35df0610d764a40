"""API tokens for partner systems and authorities: created once, stored as a hash."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.security.crypto import random_token, token_hash
from intake.store import models

SCOPE = re.compile(r"^(submit|metrics|authority:\d{6})$")


def create(session: Session, name: str, scope: str) -> str:
    """Store a new token and return it; this is the only time it is ever seen."""
    if not SCOPE.match(scope):
        raise ValueError("scope must be 'submit', 'metrics' or 'authority:<6-digit key>'")
    token = random_token(32)
    session.add(models.ApiToken(name=name, scope=scope, token_hash=token_hash(token)))
    return token


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
