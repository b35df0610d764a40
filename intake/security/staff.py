"""Staff accounts and their server-side sessions.

Passwords are hashed with argon2id. A session ends after IDLE_TIMEOUT without a request, after
ABSOLUTE_TIMEOUT in any case, and at logout; a login always starts a new session.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from intake.security import audit
from intake.security.crypto import random_token, token_hash
from intake.store import models

ROLES = ("volunteer", "authority", "admin")
IDLE_TIMEOUT = dt.timedelta(minutes=30)
ABSOLUTE_TIMEOUT = dt.timedelta(hours=12)
_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified when the account does not exist, so both answers take the same time.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Staff:
    """The signed-in staff member, as views and policies see them."""

    id: int
    email: str
    role: str
    authority_key: str | None

    def may_see_authority(self, key: str) -> bool:
        """Authority staff see their own authority only; volunteers and admins see all."""
        return self.role != "authority" or self.authority_key == key


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def create_user(session: Session, email: str, role: str, authority_key: str | None) -> str:
    """Create an account and return its one-time password (shown once, stored as a hash)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if (role == "authority") != (authority_key is not None):
        raise ValueError("an authority account needs --authority KEY, and only it")
    if authority_key is not None and session.get(models.Authority, authority_key) is None:
        raise ValueError(f"no authority with key {authority_key}")
    password = secrets.token_urlsafe(12)
    user = models.StaffUser(
        email=email.strip().lower(),
        role=role,
        authority_key=authority_key,
        password_hash=_HASHER.hash(password),
    )
    session.add(user)
    session.flush()
    audit.record(session, None, "create", "staff_user", str(user.id))
    return password


def listing(session: Session) -> list[models.StaffUser]:
    """Every account, oldest first (never a password hash shown)."""
    return list(session.scalars(select(models.StaffUser).order_by(models.StaffUser.id)))


def disable(session: Session, email: str) -> bool:
    """Disable an account and end its sessions (audited); False if there is no such one."""
    user = by_email(session, email)
    if user is None:
        return False
    user.disabled_at = user.disabled_at or _now()
    _end_sessions(session, user.id)
    audit.record(session, None, "disable", "staff_user", str(user.id))
    return True


def reset(session: Session, email: str) -> str | None:
    """A new one-time password for an account (the old one and its sessions end; audited);
    None if there is no such account."""
    user = by_email(session, email)
    if user is None:
        return None
    password = secrets.token_urlsafe(12)
    user.password_hash = _HASHER.hash(password)
    _end_sessions(session, user.id)
    audit.record(session, None, "reset", "staff_user", str(user.id))
    return password


def by_email(session: Session, email: str) -> models.StaffUser | None:
    return session.scalar(
        select(models.StaffUser).where(models.StaffUser.email == email.strip().lower())
    )


def _end_sessions(session: Session, user_id: int) -> None:
    session.execute(
        update(models.StaffSession)
        .where(models.StaffSession.user_id == user_id, models.StaffSession.ended_at.is_(None))
        .values(ended_at=_now())
    )


def authenticate(session: Session, email: str, password: str) -> models.StaffUser | None:
    """The account if the password is right (and it is enabled), else None."""
    user = session.scalar(
        select(models.StaffUser).where(models.StaffUser.email == email.strip().lower())
    )
    try:
        _HASHER.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled_at is not None:
        return None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return user


def start_session(session: Session, user: models.StaffUser) -> str:
    """A new session for the user; returns the cookie's token (never stored in the clear)."""
    token = random_token(32)
    session.add(models.StaffSession(token_hash=token_hash(token), user_id=user.id))
    return token


def resume(session: Session, token: str | None) -> Staff | None:
    """The staff member of a live session, marking it used; None if ended or timed out."""
    if not token:
        return None
    found = session.scalar(
        select(models.StaffSession).where(models.StaffSession.token_hash == token_hash(token))
    )
    now = _now()
    if found is None or found.ended_at is not None:
        return None
    if now - _aware(found.last_seen_at) > IDLE_TIMEOUT or (
        now - _aware(found.created_at) > ABSOLUTE_TIMEOUT
    ):
        found.ended_at = now
        return None
    user = session.get_one(models.StaffUser, found.user_id)
    if user.disabled_at is not None:
        return None
    found.last_seen_at = now
    return Staff(user.id, user.email, user.role, user.authority_key)


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(
            update(models.StaffSession)
            .where(models.StaffSession.token_hash == token_hash(token))
            .values(ended_at=_now())
        )
