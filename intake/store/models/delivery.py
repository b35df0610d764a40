"""Work owed after a registration: outbox rows, mails, messages and their batches."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    ColumnElement,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from intake.store.models.base import Base, new_id, utcnow

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
    # When its payload was deleted on request (`intake erase`); never batched after. A
    # message the retention sweep erases keeps NULL: its batch's erased_at dates it.
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Its share of a batch file, in characters (batches.seal, batches.assemble). NULL for
    # messages stored before migration 0018, which are counted by their stored payload.
    stored_bytes: Mapped[int | None] = mapped_column(Integer)


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


# Batches not acknowledged yet (the batch_unacknowledged index's condition).
UNACKNOWLEDGED = "acknowledged_at IS NULL"


class Batch(Base):
    """Messages delivered together to one authority, numbered without gaps per authority."""

    __tablename__ = "batch"
    __table_args__ = (
        UniqueConstraint("authority_key", "sequence"),
        # Batches an authority has not acknowledged: a few among the many of every day, read
        # at each scrape of /metrics (delivery.overview.owed).
        Index(
            "batch_unacknowledged", "authority_key", "created_at",
            sqlite_where=text(UNACKNOWLEDGED), postgresql_where=text(UNACKNOWLEDGED),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    authority_key: Mapped[str] = mapped_column(ForeignKey("authority.key"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    count: Mapped[int] = mapped_column(Integer)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The thumbprint of the authority key its file is sealed to; None: under the data key.
    sealed_to: Mapped[str | None] = mapped_column(String(64))
