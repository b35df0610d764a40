"""SQLAlchemy tables. Personal data lives only in the encrypted `data` columns."""

from __future__ import annotations

import datetime as dt
import uuid

import uuid_utils.compat
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    and_,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_uuid() -> uuid.UUID:
    """A UUID of version 7 (RFC 9562): random, after the millisecond it was made in.

    Rows made one after another get ids near each other, so inserting them touches the
    same few index pages instead of a random page per index and row, which costs SQLite
    much CPU time per registration written. The time in an id says no more than the row's
    created_at.
    """
    return uuid_utils.compat.uuid7()


def new_id() -> str:
    return new_uuid().hex


class Base(DeclarativeBase):
    pass


def table(model: type[Base]) -> Table:
    """The Core table of a model, for statements that skip the ORM on hot paths."""
    return Base.metadata.tables[model.__tablename__]


class Authority(Base):
    """An Ausländerbehörde; `key` is its BHKNZ from the official ABH list."""

    __tablename__ = "authority"

    key: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(50))  # Ausländerbehörde, Erstaufnahme...
    state: Mapped[str | None] = mapped_column(String(50))  # Bundesland
    street: Mapped[str | None] = mapped_column(String(200))
    house_number: Mapped[str | None] = mapped_column(String(20))
    postal_code: Mapped[str | None] = mapped_column(String(5))
    city: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    # Capacity for appointments (booking); an authority without opening hours has no slots.
    slot_minutes: Mapped[int] = mapped_column(Integer, default=15)
    seats_per_slot: Mapped[int] = mapped_column(Integer, default=10)
    priority_seats: Mapped[int] = mapped_column(Integer, default=0)
    # The authority's RSA public key (a JWK): its batches are sealed to it, and only it can
    # read them. Without one, batch files are encrypted under the service's data key.
    public_key: Mapped[str | None] = mapped_column(Text)
    public_key_thumbprint: Mapped[str | None] = mapped_column(String(64))

    postal_codes: Mapped[list[PostalCode]] = relationship(back_populates="authority")


class PostalCode(Base):
    """Routing: the one authority responsible for a postal code."""

    __tablename__ = "postal_code"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    authority_key: Mapped[str] = mapped_column(ForeignKey("authority.key"), index=True)

    authority: Mapped[Authority] = relationship(back_populates="postal_codes")


class OpeningHours(Base):
    """A period on a weekday (0 = Monday) in the authority's local time."""

    __tablename__ = "opening_hours"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    authority_key: Mapped[str] = mapped_column(ForeignKey("authority.key"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    opens: Mapped[dt.time] = mapped_column(Time)
    closes: Mapped[dt.time] = mapped_column(Time)


class ClosedDay(Base):
    __tablename__ = "closed_day"

    authority_key: Mapped[str] = mapped_column(ForeignKey("authority.key"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str | None] = mapped_column(String(100))


class Slot(Base):
    """Seats at one time at one authority. `taken` never exceeds `capacity`: every booking
    is one conditional UPDATE, so the database, not Python, decides who gets a seat."""

    __tablename__ = "slot"
    __table_args__ = (
        UniqueConstraint("authority_key", "starts_at"),
        CheckConstraint("taken >= 0 AND taken <= capacity", name="slot_seats"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    authority_key: Mapped[str] = mapped_column(ForeignKey("authority.key"), index=True)
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    capacity: Mapped[int] = mapped_column(Integer)
    held_for_priority: Mapped[int] = mapped_column(Integer, default=0)
    taken: Mapped[int] = mapped_column(Integer, default=0)


class Appointment(Base):
    """A household's booking: one seat per person, at most one appointment per registration."""

    __tablename__ = "appointment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    registration_id: Mapped[str] = mapped_column(ForeignKey("registration.id"), unique=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id"), index=True)
    seats: Mapped[int] = mapped_column(Integer)
    priority: Mapped[bool] = mapped_column(Boolean, default=False)
    booked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    checked_in_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    waiting_number: Mapped[int | None] = mapped_column(Integer)

    slot: Mapped[Slot] = relationship()


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
    registration_id: Mapped[str] = mapped_column(ForeignKey("registration.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    application_id: Mapped[str] = mapped_column(String(36), unique=True)
    data: Mapped[str | None] = mapped_column(Text)
    # Keyed HMACs for finding people without decrypting everyone (see `index`).
    name_index: Mapped[str | None] = mapped_column(String(64), index=True)
    document_index: Mapped[str | None] = mapped_column(String(64), index=True)

    registration: Mapped[Registration] = relationship(back_populates="persons")


# Outbox rows whose work is neither done nor given up: the index's condition, which a query
# must state (Outbox.pending()) for the database to use the index.
PENDING = "done_at IS NULL AND failed_at IS NULL"


class Outbox(Base):
    """Work owed for a registration, written in the same transaction as the registration.

    The database, not Redis, is the record of what is owed: the relay moves rows onto the
    queue and a row is done only when its job has finished.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # Work not finished: a few rows among many done. The relay finds the rows still to
        # queue by `enqueued_at IS NULL`, the reconciler the stale ones by `enqueued_at <`.
        # An index on done_at alone led both to read the whole backlog of a burst, the relay
        # twice a second and, on SQLite, while holding the write lock.
        Index(
            "outbox_pending", "enqueued_at", "id",
            sqlite_where=text(PENDING), postgresql_where=text(PENDING),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    registration_id: Mapped[str] = mapped_column(ForeignKey("registration.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    enqueued_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Why the last attempt could not build the messages (element paths and reasons, never a
    # value); cleared when they are built, or when an operator sends the row again.
    failure: Mapped[str | None] = mapped_column(Text)
    # The rq job that carries this row (one job carries a chunk of rows).
    job_id: Mapped[str | None] = mapped_column(String(64))

    @classmethod
    def pending(cls) -> ColumnElement[bool]:
        """Work neither done nor given up (PENDING, as the outbox_pending index has it)."""
        return and_(cls.done_at.is_(None), cls.failed_at.is_(None))


# Mails neither sent nor given up (the mail_pending index's condition, as for the outbox).
MAIL_PENDING = "sent_at IS NULL AND failed_at IS NULL"


class Mail(Base):
    """A mail owed to an applicant, written in the transaction that makes it owed.

    `data` holds what the mail needs and the database keeps nowhere else (the status token,
    of which the registration keeps only a hash), encrypted; it is emptied once sent. The
    address is read from the registration when sending.
    """

    __tablename__ = "mail"
    __table_args__ = (
        Index(
            "mail_pending", "enqueued_at", "id",
            sqlite_where=text(MAIL_PENDING), postgresql_where=text(MAIL_PENDING),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    registration_id: Mapped[str] = mapped_column(ForeignKey("registration.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # store.mail_rows: "confirmation", ...
    data: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    enqueued_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    job_id: Mapped[str | None] = mapped_column(String(64))
    # Set, in a transaction of its own, just before the mail is handed to the server: a
    # mail claimed and not sent was interrupted mid-way, and is never sent again.
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Why it was not sent (the error's kind, never an address or a server's words).
    failure: Mapped[str | None] = mapped_column(Text)

    @classmethod
    def pending(cls) -> ColumnElement[bool]:
        return and_(cls.sent_at.is_(None), cls.failed_at.is_(None))


class Message(Base):
    """An XAusländer message built for one person; at most one per person, by constraint."""

    __tablename__ = "message"
    __table_args__ = (
        # The messages waiting for a batch, in delivery order: a few among many delivered.
        Index(
            "message_waiting", "authority_key", "created_at", "id",
            sqlite_where=text("batch_id IS NULL AND erased_at IS NULL"),
            postgresql_where=text("batch_id IS NULL AND erased_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), unique=True)
    registration_id: Mapped[str] = mapped_column(ForeignKey("registration.id"), index=True)
    authority_key: Mapped[str] = mapped_column(ForeignKey("authority.key"), index=True)
    message_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    file_name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The one batch that carries it: set once, by a conditional UPDATE (batches.assemble).
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("batch.id"), index=True)
    # When its payload was deleted (retention, or erasure on request); never batched after.
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class MessagePayload(Base):
    """A message's XML, sealed (batches.seal); deleted when the retention time ends.

    A row of its own, not a column of the message: giving messages their batch rewrites
    their rows, and on SQLite a row is rewritten whole, payload included, while
    registrations wait for the one write lock.
    """

    __tablename__ = "message_payload"

    message_id: Mapped[str] = mapped_column(ForeignKey("message.id"), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)


def message_waiting() -> ColumnElement[bool]:
    """Messages built and not yet in a batch (the partial index message_waiting)."""
    return and_(Message.batch_id.is_(None), Message.erased_at.is_(None))


class Batch(Base):
    """Messages delivered together to one authority, numbered without gaps per authority."""

    __tablename__ = "batch"
    __table_args__ = (UniqueConstraint("authority_key", "sequence"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    authority_key: Mapped[str] = mapped_column(ForeignKey("authority.key"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    count: Mapped[int] = mapped_column(Integer)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The thumbprint of the authority key its file is sealed to; None: under the data key.
    sealed_to: Mapped[str | None] = mapped_column(String(64))


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


class HandOver(Base):
    """A volunteer's draft waiting to be picked up on the applicant's own phone (QR code)."""

    __tablename__ = "hand_over"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    draft_token: Mapped[str] = mapped_column(Text)  # encrypted: it opens the draft
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A bearer token for a partner system or an authority; only its hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(50))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
