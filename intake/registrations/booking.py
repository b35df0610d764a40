"""Appointments: seats booked so that no slot is ever overbooked (slots: schedule.py).

Every seat change is one conditional UPDATE on the slot row; the database serializes them
(a row lock on PostgreSQL, the write lock on SQLite), so concurrent bookings cannot both win.
A household's own changes (book, cancel, rebook) take its registration row's lock first, so
two of them never both read the same appointment and free its seats twice. A household that
gave an e-mail address is owed a mail about each change, written in the change's transaction
(store.mail_rows).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Exists, delete, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from intake.dataset.wording import LOCAL_TIME as LOCAL_TIME  # callers say booking.LOCAL_TIME
from intake.security.crypto import FieldCipher
from intake.store import mail_rows, models

BOOKING_WINDOW = dt.timedelta(days=14)


def slot_id(text: object) -> int | None:
    """A slot id as sent ("17"), or None when it cannot be one: digits 0-9 only ("²" is a
    digit to Python), and small enough for the database's 64-bit key."""
    if not isinstance(text, str) or not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)


class SlotFull(Exception):
    """Not enough free seats left in the slot."""


class NoSuchSlot(LookupError):
    """The slot does not exist, is not the registration's authority's, or has begun."""


@dataclass(frozen=True)
class Booked:
    slot_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    seats: int
    priority: bool
    checked_in_at: dt.datetime | None
    waiting_number: int | None
    booked_at: dt.datetime | None = None  # a rebooking is a newer booking (calendar updates)


def aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def books_online(authority_key: str | ColumnElement[str] | InstrumentedAttribute[str]) -> Exists:
    """Whether an authority has opening hours, so that its appointments are booked here
    (else it contacts the household itself): a condition, for a query of its own or within
    another (the status page's)."""
    return (select(models.OpeningHours.id)
            .where(models.OpeningHours.authority_key == authority_key).exists())


def free_slots(
    session: Session, authority_key: str, seats: int, priority: bool, now: dt.datetime
) -> list[models.Slot]:
    """Slots of the booking window with room for `seats` more people, earliest first."""
    room = models.Slot.capacity - models.Slot.taken
    if not priority:
        room = room - models.Slot.held_for_priority
    return list(
        session.scalars(
            select(models.Slot)
            .where(
                models.Slot.authority_key == authority_key,
                models.Slot.starts_at > now,
                models.Slot.starts_at <= now + BOOKING_WINDOW,
                models.Slot.closed.is_(False),
                room >= seats,
            )
            .order_by(models.Slot.starts_at)
        )
    )


def book(
    session: Session,
    registration: models.Registration,
    slot_id: int,
    priority: bool,
    now: dt.datetime,
    *,
    cipher: FieldCipher,
    status_token: str | None = None,
) -> Booked:
    """Take one seat per person in the slot, replacing an earlier appointment (rebooking).

    Raises SlotFull when the seats are gone and NoSuchSlot for a slot the household cannot take;
    either way the earlier appointment, if any, is kept (the caller's transaction rolls back).
    The mail it is owed carries `status_token`, the link's, when the household booked there.
    """
    _one_change_at_a_time(session, registration)
    # A rebooking changes two slots: their rows are locked in one order (by id), else two
    # households trading slots would each hold one and wait for the other's (a deadlock).
    earlier = session.scalar(
        select(models.Appointment.slot_id).where(
            models.Appointment.registration_id == registration.id
        )
    )
    session.execute(
        select(models.Slot.id)
        .where(models.Slot.id.in_({slot_id, earlier} - {None}))
        .order_by(models.Slot.id)
        .with_for_update()
    )
    seats = len(registration.persons)
    slot = session.get(models.Slot, slot_id)
    if slot is None or slot.authority_key != registration.authority_key or aware(
        slot.starts_at
    ) <= now:
        raise NoSuchSlot(slot_id)
    replaced = _free(session, registration)
    limit = models.Slot.capacity - (0 if priority else models.Slot.held_for_priority)
    taken = session.execute(
        update(models.Slot)
        .where(models.Slot.id == slot_id, models.Slot.taken + seats <= limit,
               models.Slot.closed.is_(False))
        .values(taken=models.Slot.taken + seats)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise SlotFull(slot_id)
    session.add(
        models.Appointment(
            registration_id=registration.id, slot_id=slot_id, seats=seats, priority=priority
        )
    )
    session.flush()
    found = appointment(session, registration)
    assert found is not None  # noqa: S101 - just written in this transaction
    kind = mail_rows.BOOKING if replaced is None else mail_rows.REBOOKING
    _owe_mail(session, registration, kind, found, cipher, status_token)
    return found


def cancel(
    session: Session,
    registration: models.Registration,
    *,
    cipher: FieldCipher,
    status_token: str | None = None,
) -> bool:
    """Cancel the household's appointment and free its seats; False if it had none."""
    _one_change_at_a_time(session, registration)
    cancelled = _free(session, registration)
    if cancelled is None:
        return False
    _owe_mail(session, registration, mail_rows.CANCELLATION, cancelled, cipher, status_token)
    return True


def _free(session: Session, registration: models.Registration) -> Booked | None:
    """Delete the household's appointment and give its seats back; what it was, if any."""
    current = appointment(session, registration)
    if current is None:
        return None
    session.execute(
        update(models.Slot)
        .where(models.Slot.id == current.slot_id)
        .values(taken=models.Slot.taken - current.seats)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(models.Appointment)
        .where(models.Appointment.registration_id == registration.id)
        .execution_options(synchronize_session=False)
    )
    return current


def _owe_mail(
    session: Session,
    registration: models.Registration,
    kind: str,
    booked: Booked,
    cipher: FieldCipher,
    status_token: str | None,
) -> None:
    """Owe the household a mail about the change, if it gave an address (its blind index
    says so without decrypting it)."""
    if registration.email_index is None:
        return
    mail_rows.owe_appointment_mail(
        session, cipher, registration.id, kind, status_token,
        starts_at=booked.starts_at.isoformat(),
        ends_at=booked.ends_at.isoformat(),
        booked_at=booked.booked_at.isoformat() if booked.booked_at else None,
        seats=booked.seats,
    )


def _one_change_at_a_time(session: Session, registration: models.Registration) -> None:
    """Lock the household's registration row until the transaction ends (PostgreSQL; on
    SQLite every write transaction holds the database's one write lock already)."""
    session.execute(
        select(models.Registration.id)
        .where(models.Registration.id == registration.id)
        .with_for_update()
    )


def appointment(session: Session, registration: models.Registration) -> Booked | None:
    row = session.connection().execute(
        select(*BOOKED_COLUMNS)
        .join(models.Slot, models.Slot.id == models.Appointment.slot_id)
        .where(models.Appointment.registration_id == registration.id)
    ).first()
    return None if row is None else booked(row)


# What a Booked is made of: select these (appointment joined with its slot), then `booked`.
BOOKED_COLUMNS = (
    models.Appointment.slot_id, models.Appointment.seats, models.Appointment.priority,
    models.Appointment.checked_in_at, models.Appointment.waiting_number,
    models.Appointment.booked_at, models.Slot.starts_at, models.Slot.ends_at,
)


def booked(row: Any) -> Booked:
    """The booking in a row of BOOKED_COLUMNS."""
    return Booked(
        slot_id=row.slot_id,
        starts_at=aware(row.starts_at),
        ends_at=aware(row.ends_at),
        seats=row.seats,
        priority=row.priority,
        checked_in_at=row.checked_in_at,
        waiting_number=row.waiting_number,
        booked_at=aware(row.booked_at),
    )


def check_in(session: Session, registration: models.Registration, now: dt.datetime) -> int:
    """Mark the household arrived and hand out the next waiting number of its authority's day.

    Idempotent: a household checked in already keeps its number.
    """
    found = session.scalar(
        select(models.Appointment).where(models.Appointment.registration_id == registration.id)
    )
    if found is None:
        raise LookupError("no appointment")
    if found.waiting_number is not None:
        return found.waiting_number
    # One check-in at a time per authority: numbers are handed out without gaps or twins.
    session.get(models.Authority, registration.authority_key, with_for_update=True)
    start, end = local_day(now.astimezone(LOCAL_TIME).date())
    last = session.scalar(
        select(func.max(models.Appointment.waiting_number))
        .join(models.Slot)
        .where(
            models.Slot.authority_key == registration.authority_key,
            models.Appointment.checked_in_at >= start,
            models.Appointment.checked_in_at < end,
        )
    )
    found.waiting_number = (last or 0) + 1
    found.checked_in_at = now
    return found.waiting_number


def local_day(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC bounds of a calendar day at the authorities."""
    start = dt.datetime.combine(day, dt.time(0), LOCAL_TIME).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), LOCAL_TIME)
    return start, end.astimezone(dt.UTC)


def day_list(session: Session, authority_key: str, day: dt.date) -> list[tuple[Any, ...]]:
    """(starts_at, reference, seats, checked_in_at, waiting_number) of the day, by time."""
    start, end = local_day(day)
    rows = session.execute(
        select(
            models.Slot.starts_at,
            models.Registration.reference,
            models.Appointment.seats,
            models.Appointment.checked_in_at,
            models.Appointment.waiting_number,
        )
        .select_from(models.Appointment)
        .join(models.Slot)
        .join(models.Registration)
        .where(
            models.Slot.authority_key == authority_key,
            models.Slot.starts_at >= start,
            models.Slot.starts_at < end,
        )
        .order_by(models.Slot.starts_at, models.Registration.reference)
    )
    return [tuple(row) for row in rows]
