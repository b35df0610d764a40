"""Staff accounts, their sign-in state, the audit trail, and API tokens."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.store.models.base import Base, utcnow


class StaffUser(Base):
    """A volunteer, authority employee (bound to one authority) or administrator."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    authority_key: Mapped[str | None] = mapped_column(ForeignKey("authority.key"))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # None while the password is a one-time one (new or reset): the next sign-in changes it.
    password_set_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    totp_secret: Mapped[str | None] = mapped_column(Text)  # encrypted; None: not enrolled
    totp_pending: Mapped[str | None] = mapped_column(Text)  # encrypted; offered, unconfirmed
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # a code is used once only


class StaffAuthority(Base):
    """The authorities a volunteer works for (an authority account has its own in staff_user)."""

    __tablename__ = "staff_authority"

    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), primary_key=True)
    authority_key: Mapped[str] = mapped_column(ForeignKey("authority.key"), primary_key=True)


class RecoveryCode(Base):
    """A staff member's single-use recovery code, for a lost authenticator; only its hash."""

    __tablename__ = "recovery_code"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class SignInThrottle(Base):
    """Failed sign-ins per account, and per account and address: each brings a longer wait.

    `key` is a keyed hash (no e-mail or address is stored)."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StaffSession(Base):
    """A server-side staff session: the cookie holds a random token, this row its hash."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # What the session still needs before the desk opens: "password" (a one-time password is
    # to be changed), "enrol" (a second factor to set up), "code" (its code), or "ready".
    stage: Mapped[str] = mapped_column(String(20), default="ready", server_default="ready")


class AuditEntry(Base):
    """Who viewed or changed which record, when: ids only, never the data itself."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(40), index=True)


class ApiToken(Base):
    """A bearer token for a partner system or an authority; only its hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(50))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
