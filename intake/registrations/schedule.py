"""An authority's schedule: its week, its closures, its Land's public holidays, and the
booking window's slots made from them.

Whoever changes the week or a closure (the desk, `intake authorities hours import`, the demo)
and the scheduler, as days pass, call `reconcile`: missing slots are made, free ones no longer
planned are deleted, and the seats of planned ones follow the week. Booked seats are never
lost: a slot with bookings is neither deleted nor given fewer seats than are taken; one that no
longer fits is kept, closed to further bookings, and reported (`conflicts`) so that staff can
tell its households. Every decision is a conditional statement on the slot's row, so a booking
made meanwhile is kept, whichever comes first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import holidays
from sqlalchemy import bindparam, case, delete, select, update
from sqlalchemy.orm import Session

from intake.registrations.booking import BOOKING_WINDOW, LOCAL_TIME, aware
from intake.registrations.opening_hours import Closure, Period, Week
from intake.security import audit
from intake.store import models

WINDOW_DAYS = BOOKING_WINDOW.days + 1  # today and the window's days after it

# The Länder as the official ABH list names them (column Bundesland), and the `holidays`
# package's subdivision code of each.
HOLIDAY_REGIONS = {
    "Baden-Württemberg": "BW", "Bayern": "BY", "Berlin": "BE", "Brandenburg": "BB",
    "Bremen": "HB", "Hamburg": "HH", "Hessen": "HE", "Mecklenburg-Vorpommern": "MV",
    "Niedersachsen": "NI", "Nordrhein-Westfalen": "NW", "Rheinland-Pfalz": "RP",
    "Saarland": "SL", "Sachsen": "SN", "Sachsen-Anhalt": "ST", "Schleswig-Holstein": "SH",
    "Thüringen": "TH",
}
_HOLIDAY_LANGUAGES = holidays.country_holidays("DE").supported_languages


@dataclass(frozen=True)
class Reconciled:
    created: int
    removed: int


@dataclass(frozen=True)
class Conflict:
    """A booked slot the schedule no longer has room for: kept outside the opening hours
    (`closed`), or holding more people than a slot now seats."""

    starts_at: dt.datetime
    taken: int
    seats_per_slot: int
    closed: bool


def holiday_region(state: str | None) -> str | None:
    """The `holidays` subdivision of a Land as the ABH list names it ("Brandenburg": "BB")."""
    return HOLIDAY_REGIONS.get((state or "").strip())


def public_holidays(
    state: str | None, first: dt.date, last: dt.date, language: str | None = None
) -> dict[dt.date, str]:
    """The Land's public holidays from `first` to `last`, named in `language` where the
    package has it (German, else English); none for an unknown Land."""
    region = holiday_region(state)
    if region is None:
        return {}
    if language not in _HOLIDAY_LANGUAGES:
        language = "de" if language is None else "en_US"
    named = holidays.country_holidays("DE", subdiv=region, language=language,
                                      years=range(first.year, last.year + 1))
    return {day: named[day] for day in sorted(named) if first <= day <= last}


def week_of(session: Session, authority: models.Authority) -> Week:
    """The authority's week as stored."""
    rows = session.scalars(
        select(models.OpeningHours).where(models.OpeningHours.authority_key == authority.key)
        .order_by(models.OpeningHours.weekday, models.OpeningHours.opens)
    )
    return Week(tuple(Period(row.weekday, row.opens, row.closes) for row in rows),
                authority.slot_minutes, authority.seats_per_slot, authority.priority_seats)


def save_week(
    session: Session, authority_key: str, week: Week, user_id: int | None, now: dt.datetime
) -> Reconciled:
    """Give the authority this week, and its booking window the slots it makes (audited)."""
    audit.record(session, user_id, "opening hours", "authority", authority_key)
    return apply_week(session, authority_key, week, now)


def apply_week(session: Session, authority_key: str, week: Week, now: dt.datetime) -> Reconciled:
    """save_week without an audit entry, for the demo: seeded data, not a change by anyone."""
    authority = _locked(session, authority_key)
    authority.slot_minutes = week.slot_minutes
    authority.seats_per_slot = week.seats_per_slot
    authority.priority_seats = week.priority_seats
    session.execute(
        delete(models.OpeningHours).where(models.OpeningHours.authority_key == authority_key)
    )
    session.add_all(models.OpeningHours(authority_key=authority_key, weekday=period.weekday,
                                        opens=period.opens, closes=period.closes)
                    for period in week.periods)
    return reconcile(session, authority_key, now)


def close(
    session: Session, authority_key: str, closure: Closure, user_id: int | None,
    now: dt.datetime,
) -> Reconciled:
    """Close the authority from the closure's first to its last day (audited)."""
    _locked(session, authority_key)
    for offset in range((closure.last - closure.first).days + 1):  # never past 9999-12-31
        session.merge(models.ClosedDay(authority_key=authority_key,
                                       day=closure.first + dt.timedelta(days=offset),
                                       reason=closure.reason))
    audit.record(session, user_id, "close", "authority", authority_key)
    return reconcile(session, authority_key, now)


def reopen(
    session: Session, authority_key: str, first: dt.date, last: dt.date, user_id: int | None,
    now: dt.datetime,
) -> Reconciled:
    """Take back the closures from `first` to `last` (audited)."""
    _locked(session, authority_key)
    session.execute(delete(models.ClosedDay).where(
        models.ClosedDay.authority_key == authority_key,
        models.ClosedDay.day >= first, models.ClosedDay.day <= last,
    ))
    audit.record(session, user_id, "reopen", "authority", authority_key)
    return reconcile(session, authority_key, now)


def closures(session: Session, authority_key: str, since: dt.date) -> list[Closure]:
    """The closures from `since` on: consecutive days closed for one reason are one."""
    days = session.execute(
        select(models.ClosedDay.day, models.ClosedDay.reason)
        .where(models.ClosedDay.authority_key == authority_key, models.ClosedDay.day >= since)
        .order_by(models.ClosedDay.day)
    ).all()
    found: list[Closure] = []
    for day, reason in days:
        if found and found[-1].reason == reason and found[-1].last + dt.timedelta(days=1) == day:
            found[-1] = Closure(found[-1].first, day, reason)
        else:
            found.append(Closure(day, day, reason))
    return found


def plan(
    session: Session, authority: models.Authority, first: dt.date, days: int
) -> dict[dt.datetime, dt.datetime]:
    """The slots (start: end, in UTC) the authority's week makes in `days` days from
    `first`, leaving out its closures and its Land's public holidays."""
    last = first + dt.timedelta(days=days - 1)
    periods = week_of(session, authority).periods
    closed = set(session.scalars(select(models.ClosedDay.day).where(
        models.ClosedDay.authority_key == authority.key,
        models.ClosedDay.day >= first, models.ClosedDay.day <= last,
    ))) | set(public_holidays(authority.state, first, last))
    length = dt.timedelta(minutes=authority.slot_minutes)
    slots = {}
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        if day in closed:
            continue
        for period in (p for p in periods if p.weekday == day.weekday()):
            start = dt.datetime.combine(day, period.opens, LOCAL_TIME)
            end_of_period = dt.datetime.combine(day, period.closes, LOCAL_TIME)
            while start + length <= end_of_period:
                slots[start.astimezone(dt.UTC)] = (start + length).astimezone(dt.UTC)
                start += length
    return slots


def reconcile(session: Session, authority_key: str, now: dt.datetime) -> Reconciled:
    """Make the booking window's slots those the schedule plans, keeping every booked seat.

    Safe to run again: a second run changes nothing. The authority's row is locked, so two
    runs (the desk's and the scheduler's) never both make one slot.
    """
    authority = _locked(session, authority_key)
    today = now.astimezone(LOCAL_TIME).date()
    planned = {start: end for start, end in plan(session, authority, today, WINDOW_DAYS).items()
               if start > now}
    seats = authority.seats_per_slot
    held = min(authority.priority_seats, seats)
    slot = models.table(models.Slot).c
    stored = session.execute(
        select(slot.id, slot.starts_at, slot.ends_at, slot.capacity, slot.held_for_priority,
               slot.taken, slot.closed)
        .where(slot.authority_key == authority_key, slot.starts_at > now)
    ).all()
    unplanned, changed = [], []
    for row in stored:
        end = planned.pop(aware(row.starts_at), None)
        if end is None:
            if not row.closed or row.taken == 0:
                unplanned.append(row.id)
        elif (aware(row.ends_at), row.capacity, row.held_for_priority, row.closed) != (
                end, max(seats, row.taken), held, False):
            changed.append({"slot_id": row.id, "new_end": end})
    removed = 0
    if unplanned:
        # Only a slot nobody booked goes; a booking made meanwhile keeps its slot, closed.
        removed = session.execute(
            delete(models.Slot).where(models.Slot.id.in_(unplanned), models.Slot.taken == 0)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        session.execute(update(models.Slot).where(models.Slot.id.in_(unplanned))
                        .values(closed=True).execution_options(synchronize_session=False))
    if changed:
        # Seats as the week says, never fewer than are taken (the row's value at the update).
        session.connection().execute(
            update(models.table(models.Slot))
            .where(slot.id == bindparam("slot_id"))
            .values(ends_at=bindparam("new_end"), held_for_priority=held, closed=False,
                    capacity=case((slot.taken > seats, slot.taken), else_=seats)),
            changed,
        )
    session.add_all(models.Slot(authority_key=authority_key, starts_at=start, ends_at=end,
                                capacity=seats, held_for_priority=held, taken=0, closed=False)
                    for start, end in planned.items())
    session.flush()
    session.expire_all()  # slots loaded before read the statements' changes
    return Reconciled(created=len(planned), removed=removed)


def conflicts(session: Session, authority_key: str, now: dt.datetime) -> list[Conflict]:
    """Booked slots ahead that the schedule has no room for, earliest first."""
    authority = session.get_one(models.Authority, authority_key)
    rows = session.execute(
        select(models.Slot.starts_at, models.Slot.taken, models.Slot.closed)
        .where(models.Slot.authority_key == authority_key, models.Slot.starts_at > now,
               models.Slot.taken > 0,
               models.Slot.closed | (models.Slot.taken > authority.seats_per_slot))
        .order_by(models.Slot.starts_at)
    ).all()
    return [Conflict(aware(row.starts_at), row.taken, authority.seats_per_slot, row.closed)
            for row in rows]


def _locked(session: Session, authority_key: str) -> models.Authority:
    found = session.get(models.Authority, authority_key, with_for_update=True)
    if found is None:
        raise LookupError(f"no authority {authority_key}")
    return found
