"""Authorities, the postal codes routed to them, and their appointment capacity."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.store.models.base import Base, utcnow


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
    """A postal code routed whole to one authority (`intake authorities import
    --postal-codes` with `postal_code,authority_key` rows, the demo): its places that no
    jurisdiction covers go there (`postal_route` is made from both)."""

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
    is one conditional UPDATE, so the database, not Python, decides who gets a seat.

    A `closed` slot takes no more bookings: the opening hours or closures changed, and it was
    kept for the households booked in it (intake.registrations.schedule)."""

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
    closed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


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
