"""Staff accounts and their server-side sessions.

Passwords are hashed with argon2id. A session ends after IDLE_TIMEOUT without a request, after
ABSOLUTE_TIMEOUT in any case, and at logout; a login always starts a new session.

A session opens the desk only at stage "ready". Before that it walks the stages of a sign-in:
"code" (the second factor's code, when enrolled), "password" (a one-time password, new or
reset, is replaced), "enrol" (an authenticator app is set up, when none is). A session that
has not got through them in SIGN_IN_TIMEOUT ends.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import email_validator
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from intake.security import audit, second_factor
from intake.security.crypto import random_token, token_hash
from intake.security.passwords import normalized
from intake.store import models

ROLES = ("volunteer", "authority", "admin")
# The stages of a sign-in, in order; a session opens the desk at READY only.
CODE, PASSWORD, ENROL, READY = "code", "password", "enrol", "ready"
STAGES = (CODE, PASSWORD, ENROL, READY)
IDLE_TIMEOUT = dt.timedelta(minutes=30)
ABSOLUTE_TIMEOUT = dt.timedelta(hours=12)
SIGN_IN_TIMEOUT = dt.timedelta(minutes=10)
_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified when the account does not exist, so both answers take the same time.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Staff:
    """The signed-in staff member, as views and policies see them."""

    id: int
    email: str
    role: str
    authority_key: str | None  # an authority account's own authority
    stage: str
    authorities: frozenset[str]  # whose registrations this account may see

    def may_see_authority(self, key: str) -> bool:
        """Authority staff see their own authority's registrations, volunteers those of the
        authorities their reception centre serves, admins none (they manage, not read)."""
        return key in self.authorities


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def create_user(session: Session, email: str, role: str, authorities: Sequence[str]) -> str:
    """Create an account and return its one-time password (shown once, stored as a hash).

    An authority account works for exactly one authority, a volunteer for those its
    reception centre serves (one or more), an admin for none."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    try:  # the address signs in and receives nothing: its form is checked, not its domain
        email_validator.validate_email(email, check_deliverability=False)
    except email_validator.EmailNotValidError as error:
        raise ValueError(f"{email} is not an e-mail address: {error}") from None
    _check_authorities(session, role, authorities)
    password = secrets.token_urlsafe(12)
    user = models.StaffUser(
        email=email.strip().lower(),
        role=role,
        authority_key=authorities[0] if role == "authority" else None,
        password_hash=_HASHER.hash(password),
    )
    session.add(user)
    session.flush()
    if role == "volunteer":
        _bind(session, user, authorities)
    audit.record(session, None, "create", "staff_user", str(user.id))
    return password


# How many authorities each role works for, and how the command line says so.
# (fewest, most: None for no limit, the command line's rule)
_BINDINGS: dict[str, tuple[int, int | None, str]] = {
    "authority": (1, 1, "an authority account takes exactly one --authority KEY"),
    "volunteer": (1, None, "a volunteer account takes at least one --authority KEY"),
    "admin": (0, 0, "an admin account takes no --authority (admins see no registrations)"),
}


def _check_authorities(session: Session, role: str, authorities: Sequence[str]) -> None:
    fewest, most, rule = _BINDINGS[role]
    count = len(set(authorities))
    if count < fewest or (most is not None and count > most):
        raise ValueError(rule)
    for key in authorities:
        if session.get(models.Authority, key) is None:
            raise ValueError(f"no authority with key {key}")


def _bind(session: Session, user: models.StaffUser, authorities: Sequence[str]) -> None:
    session.execute(delete(models.StaffAuthority).where(models.StaffAuthority.user_id == user.id))
    session.add_all(models.StaffAuthority(user_id=user.id, authority_key=key)
                    for key in sorted(set(authorities)))


def bind(session: Session, email: str, authorities: Sequence[str]) -> bool:
    """Set the authorities a volunteer works for (audited); False if there is no such account."""
    user = by_email(session, email)
    if user is None:
        return False
    if user.role != "volunteer":
        raise ValueError("only a volunteer account is bound this way; an authority account "
                         "is created for its authority")
    _check_authorities(session, user.role, authorities)
    _bind(session, user, authorities)
    audit.record(session, None, "bind", "staff_user", str(user.id))
    return True


def authorities_of(session: Session, user: models.StaffUser) -> frozenset[str]:
    if user.role == "authority":
        return frozenset([user.authority_key]) if user.authority_key else frozenset()
    return frozenset(session.scalars(select(models.StaffAuthority.authority_key).where(
        models.StaffAuthority.user_id == user.id
    )))


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


def reset(session: Session, email: str, second_factor_too: bool = False) -> str | None:
    """A new one-time password for an account (the old one and its sessions end; audited),
    and with `second_factor_too` no authenticator either (for a lost phone without recovery
    codes: the next sign-in enrols again). None if there is no such account."""
    user = by_email(session, email)
    if user is None:
        return None
    password = secrets.token_urlsafe(12)
    user.password_hash = _HASHER.hash(password)
    user.password_set_at = None
    _end_sessions(session, user.id)
    audit.record(session, None, "reset", "staff_user", str(user.id))
    if second_factor_too:
        second_factor.remove(session, user)
        audit.record(session, None, "second factor removed", "staff_user", str(user.id))
    return password


def change_password(
    session: Session, user: models.StaffUser, password: str, keep_token: str | None
) -> None:
    """Set a password the user chose (checked by intake.security.passwords); every other
    session of the account ends (audited)."""
    user.password_hash = _HASHER.hash(normalized(password))
    user.password_set_at = _now()
    session.execute(
        update(models.StaffSession)
        .where(models.StaffSession.user_id == user.id, models.StaffSession.ended_at.is_(None),
               models.StaffSession.token_hash != token_hash(keep_token or ""))
        .values(ended_at=_now())
    )
    audit.record(session, user.id, "password change", "staff_user", str(user.id))


def verify_password(user: models.StaffUser, password: str) -> bool:
    try:
        return _HASHER.verify(user.password_hash, normalized(password))
    except (VerificationError, InvalidHashError):
        return False


def first_stage(user: models.StaffUser) -> str:
    """Where a sign-in goes after the right password."""
    if second_factor.enrolled(user):
        return "code"
    return "password" if user.password_set_at is None else "enrol"


def stage_after(user: models.StaffUser, passed: str) -> str:
    """The next stage once `passed` is done ("code" first, then "password", then "enrol")."""
    if passed == "code" and user.password_set_at is None:
        return "password"
    if passed in ("code", "password") and not second_factor.enrolled(user):
        return "enrol"
    return "ready"


def set_stage(session: Session, token: str | None, stage: str) -> None:
    session.execute(
        update(models.StaffSession)
        .where(models.StaffSession.token_hash == token_hash(token or ""))
        .values(stage=stage)
    )


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
    user = by_email(session, email)
    password = normalized(password)
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
    """A new session for the user, at the first stage of its sign-in; returns the cookie's
    token (never stored in the clear)."""
    token = random_token(32)
    session.add(models.StaffSession(
        token_hash=token_hash(token), user_id=user.id, stage=first_stage(user)
    ))
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
    age = now - _aware(found.created_at)
    if now - _aware(found.last_seen_at) > IDLE_TIMEOUT or age > ABSOLUTE_TIMEOUT or (
        found.stage != "ready" and age > SIGN_IN_TIMEOUT
    ):
        found.ended_at = now
        return None
    user = session.get_one(models.StaffUser, found.user_id)
    if user.disabled_at is not None:
        return None
    found.last_seen_at = now
    return Staff(user.id, user.email, user.role, user.authority_key, found.stage,
                 authorities_of(session, user))


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(
            update(models.StaffSession)
            .where(models.StaffSession.token_hash == token_hash(token))
            .values(ended_at=_now())
        )
