"""An authority's schedule: the week as typed, public holidays, closures, and slots that
follow changes without losing a booked seat."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, func, select

from intake.registrations import booking, schedule
from intake.registrations.opening_hours import (
    Closure,
    Period,
    Refused,
    Week,
    read_closure,
    read_week,
)
from intake.store import models
from intake.xaus import genericode

NUMBERS = {"slot_minutes": "15", "seats_per_slot": "10", "priority_seats": "1"}
T = dt.time


def test_the_week_is_read_as_people_type_it():
    week = read_week({**NUMBERS, "mon": "8-12", "tue": "08.00 – 12.00 ; 13:00-14:30",
                      "wed": "١٣:٠٠-١٤:٠٠", "thu": " ", "fri": "13:00-14:00 8:00-9:00"})

    assert week.periods == (
        Period(0, T(8), T(12)), Period(1, T(8), T(12)), Period(1, T(13), T(14, 30)),
        Period(2, T(13), T(14)), Period(4, T(8), T(9)), Period(4, T(13), T(14)))
    assert (week.slot_minutes, week.seats_per_slot, week.priority_seats) == (15, 10, 1)
    assert week.fields()["tue"] == "08:00-12:00, 13:00-14:30"


@pytest.mark.parametrize(("values", "problems"), [
    ({"mon": "8"}, {"mon": "times"}),
    ({"mon": "8-24"}, {"mon": "times"}),
    ({"mon": "8:75-9"}, {"mon": "times"}),
    ({"mon": "12-8"}, {"mon": "order"}),
    ({"mon": "8:00-8:10"}, {"mon": "short"}),
    ({"mon": "8-12, 11-13"}, {"mon": "overlap"}),
    ({"slot_minutes": "4", "seats_per_slot": "", "priority_seats": "-1"},
     {"slot_minutes": "number", "seats_per_slot": "number", "priority_seats": "number"}),
    ({"seats_per_slot": "2", "priority_seats": "3"}, {"priority_seats": "priority"}),
    ({"slot_minutes": "²"}, {"slot_minutes": "number"}),
])
def test_a_week_that_cannot_be_taken_names_each_field(values, problems):
    with pytest.raises(Refused) as refused:
        read_week({**NUMBERS, **values})
    assert refused.value.problems == problems


def test_a_closure_of_one_day_needs_only_its_first_day_and_a_reason():
    today = dt.date(2026, 12, 7)
    assert read_closure({"first": "24.12.2026", "last": "", "reason": " Staff   party "},
                        today) == Closure(dt.date(2026, 12, 24), dt.date(2026, 12, 24),
                                          "Staff party")
    with pytest.raises(Refused) as refused:
        read_closure({"first": "2026-12-24", "last": "2026-02-30", "reason": "x" * 101}, today)
    assert refused.value.problems == {"last": "date", "reason": "reason_long"}


def test_every_land_of_the_official_list_has_its_public_holidays(xsd_dir):
    code_list = genericode.read(xsd_dir / "codelists" / "Gueltige_Auslaenderbehoerden_64.0.xml")
    lands = {row["Bundesland"] for row in code_list.rows}

    assert len(lands) == 16
    assert all(schedule.holiday_region(land) for land in lands)


def test_slots_leave_out_the_lands_public_holidays(runtime):
    corpus_christi = dt.date(2026, 6, 4)  # a Thursday; a holiday in Bayern, not in Brandenburg
    with runtime.db.transaction() as session:
        potsdam = session.get_one(models.Authority, "073400")
        assert potsdam.state == "Brandenburg"
        bavarian = session.get_one(models.Authority, "075600")
        bavarian.state = "Bayern"
        days = {booking.aware(start).astimezone(booking.LOCAL_TIME).date()
                for start in schedule.plan(session, potsdam, dt.date(2026, 6, 1), 7)}
        bavarian_days = {booking.aware(start).astimezone(booking.LOCAL_TIME).date()
                         for start in schedule.plan(session, bavarian, dt.date(2026, 6, 1), 7)}

    assert corpus_christi in days and corpus_christi not in bavarian_days
    assert days - bavarian_days == {corpus_christi}


def test_closures_group_consecutive_days_of_one_reason(runtime):
    now = dt.datetime.now(dt.UTC)
    first = now.date() + dt.timedelta(days=30)
    with runtime.db.transaction() as session:
        schedule.close(session, "073400", Closure(first, first + dt.timedelta(days=2), "Move"),
                       None, now)
        schedule.close(session, "073400", Closure(first + dt.timedelta(days=3),
                                                  first + dt.timedelta(days=3), "Training"),
                       None, now)
        found = schedule.closures(session, "073400", now.date())

    assert found == [Closure(first, first + dt.timedelta(days=2), "Move"),
                     Closure(first + dt.timedelta(days=3), first + dt.timedelta(days=3),
                             "Training")]


def test_reconciling_again_changes_nothing(runtime):
    now = dt.datetime.now(dt.UTC)
    with runtime.db.transaction() as session:
        before = session.execute(select(models.Slot.id, models.Slot.capacity)).all()
        again = schedule.reconcile(session, "073400", now)
        after = session.execute(select(models.Slot.id, models.Slot.capacity)).all()

    assert again == schedule.Reconciled(created=0, removed=0)
    assert sorted(before) == sorted(after)


def first_slots(session, count: int) -> list[models.Slot]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(models.Slot).where(
        models.Slot.authority_key == "073400", models.Slot.starts_at > dt.datetime.now(dt.UTC)
    ).order_by(models.Slot.starts_at).limit(count)))


def test_a_booked_slot_outside_new_hours_is_kept_closed_until_its_household_cancels(runtime):
    now = dt.datetime.now(dt.UTC)
    with runtime.db.transaction() as session:
        [slot] = first_slots(session, 1)
        slot.taken = 3
        slot_id = slot.id
        schedule.save_week(session, "073400", Week((), 15, 20, 2), None, now)
        kept = session.get_one(models.Slot, slot_id)
        assert (kept.taken, kept.closed) == (3, True)
        assert booking.free_slots(session, "073400", 1, True, now) == []
        [conflict] = schedule.conflicts(session, "073400", now)
        assert (conflict.taken, conflict.closed) == (3, True)
        kept.taken = 0  # its household cancelled
        assert schedule.reconcile(session, "073400", now).removed == 1
        assert session.get(models.Slot, slot_id) is None


def test_a_longer_slot_keeps_booked_times_on_its_grid_and_closes_those_off_it(runtime):
    now = dt.datetime.now(dt.UTC)
    with runtime.db.transaction() as session:
        week = schedule.week_of(session, session.get_one(models.Authority, "073400"))
        slots = first_slots(session, 40)
        on_grid = next(s for s in slots
                       if booking.aware(s.starts_at).astimezone(booking.LOCAL_TIME).minute == 0)
        off_grid = next(s for s in slots if s.starts_at == on_grid.starts_at
                        + dt.timedelta(minutes=15))
        on_grid.taken = off_grid.taken = 2
        ids = on_grid.id, off_grid.id
        schedule.save_week(session, "073400", Week(week.periods, 30, 20, 2), None, now)
        on_grid, off_grid = (session.get_one(models.Slot, each) for each in ids)

        assert (on_grid.closed, on_grid.taken, on_grid.ends_at - on_grid.starts_at) == (
            False, 2, dt.timedelta(minutes=30))
        assert (off_grid.closed, off_grid.taken) == (True, 2)


def test_the_scheduler_opens_each_new_day_of_the_window(runtime):
    from intake.delivery import scheduler

    with runtime.db.transaction() as session:
        last = session.scalar(select(func.max(models.Slot.starts_at)).where(
            models.Slot.authority_key == "073400"))
        last_day = booking.local_day(booking.aware(last).astimezone(booking.LOCAL_TIME).date())
        gone = session.execute(delete(models.Slot).where(
            models.Slot.authority_key == "073400", models.Slot.starts_at >= last_day[0])
        ).rowcount  # as if that day had not come into the window yet

    assert gone > 0
    assert scheduler._open_slots(runtime) == gone  # the other authorities have theirs
    assert scheduler._open_slots(runtime) == 0
