"""Households as submitted, their members, drafts on the way, and what partners sent."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.store.models.base import Base, new_id, utcnow


class Registration(Base):
    """A household's submission. `data` holds the encrypted household-level fields."""

    __tablename__ = "registration"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(11), unique=True)
    status_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    authority_key: Mapped[str] = mapped_column(ForeignKey("authority.key"), index=True)
    language: Mapped[str] = mapped_column(String(5))
    data: Mapped[str | None] = mapped_column(Text)  # None once erased (retention, or on request)
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The API token that submitted it (None for the form): only that partner may book for it.
    api_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_token.id"))
    # The volunteer who entered it at a reception centre (None when people registered alone).
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # Keyed HMAC of the normalized e-mail address (store.mail_rows): the lost-link page
    # finds a registration by it without decrypting anyone. None: no address given.
    email_index: Mapped[str | None] = mapped_column(String(64), index=True)

    persons: Mapped[list[Person]] = relationship(
        back_populates="registration", order_by="Person.position"
    )


class Person(Base):
    """One household member; `application_id` is the antragsidentifikation sent for them."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("registration_id", "position"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # Found by the unique (registration_id, position) index: one on registration_id alone
    # would repeat it, at 130 bytes a registration (migration 0022).
    registration_id: Mapped[str] = mapped_column(ForeignKey("registration.id"))
    position: Mapped[int] = mapped_column(Integer)
    application_id: Mapped[str] = mapped_column(String(36), unique=True)
    data: Mapped[str | None] = mapped_column(Text)
    # Keyed HMACs for finding people without decrypting everyone (store.blind_index): by
    # both names and the date of birth, by the family name and the date of birth alone, by
    # the document number; 32 hex digits since migration 0022 (crypto.STORED_INDEX_CHARS).
    # None once erased; family_index also for rows stored before it existed, until
    # `intake db upgrade` fills it (blind_index.fill_missing).
    name_index: Mapped[str | None] = mapped_column(String(64), index=True)
    family_index: Mapped[str | None] = mapped_column(String(64), index=True)
    document_index: Mapped[str | None] = mapped_column(String(64), index=True)

    registration: Mapped[Registration] = relationship(back_populates="persons")


class IdempotencyKey(Base):
    """A partner's Idempotency-Key and what its first request registered (intake.store.idempotency).

    Keys are stored as a hash with the API token's id; `status_token` (the first answer's, to
    give it back) is encrypted, and emptied when the registration is erased.
    """

    __tablename__ = "idempotency_key"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    registration_id: Mapped[str] = mapped_column(ForeignKey("registration.id"), index=True)
    status_token: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class Draft(Base):
    """A registration being filled in, step by step; its `data` is encrypted like the rest.

    The browser holds only a random token (in the session cookie); the database holds its hash.
    """

    __tablename__ = "draft"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    data: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class HandOver(Base):
    """A volunteer's draft waiting to be picked up on the applicant's own phone (QR code)."""

    __tablename__ = "hand_over"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    draft_token: Mapped[str] = mapped_column(Text)  # encrypted: it opens the draft
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
