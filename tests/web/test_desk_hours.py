"""Opening hours, slots and closures managed at the desk (issue #28, part 2)."""

from __future__ import annotations

import datetime as dt

import pytest
from babel.dates import format_time
from sqlalchemy import func, select

from intake.cli import main
from intake.registrations import booking, schedule
from intake.registrations.opening_hours import read_date
from intake.store import models
from tests.helpers.forms import APPLICANT, CHILD, SPOUSE, book, offered_slots, post, register
from tests.helpers.staff import create_staff, sign_in

WEEK = {"slot_minutes": "20", "seats_per_slot": "6", "priority_seats": "1",
        "mon": "08:00-12:00", "tue": "08:00-12:00, 13:30-16:00", "wed": "08:00-12:00",
        "thu": "8-12 13:30-16", "fri": "08:00-12:00", "sat": "", "sun": ""}


def hours_path(authority_key: str) -> str:
    return f"/desk/authorities/{authority_key}/hours"


def local_starts(runtime, authority_key: str) -> list[dt.datetime]:  # type: ignore[no-untyped-def]
    """The local start times of the authority's slots ahead that take bookings."""
    with runtime.db.read() as session:
        return [booking.aware(start).astimezone(booking.LOCAL_TIME) for start in session.scalars(
            select(models.Slot.starts_at).where(
                models.Slot.authority_key == authority_key, models.Slot.closed.is_(False),
                models.Slot.starts_at > dt.datetime.now(dt.UTC))
            .order_by(models.Slot.starts_at))]


def test_an_authority_from_the_official_list_opens_hours_at_the_desk_and_households_book(
    app, runtime, xsd_dir, tmp_path
):
    """Seen: authorities imported from the ABH list had no hours, and "Book an appointment"
    led to an empty list; only demo-seed made slots."""
    codes = tmp_path / "plz.csv"
    codes.write_text("73430,000100\n")  # Aalen, Baden-Württemberg
    imported = app.test_cli_runner().invoke(main, [
        "authorities", "import", str(xsd_dir / "codelists" / "Gueltige_Auslaenderbehoerden_64.0.xml"),
        "--postal-codes", str(codes)])
    assert imported.exit_code == 0, imported.output
    applicant = app.test_client()
    sent = register(applicant, "en", [APPLICANT, SPOUSE, CHILD], "73430")
    status_path = sent.headers["Location"].split("?")[0]
    assert "STV Aalen does not offer appointments online yet" in applicant.get(status_path).text

    desk = app.test_client()
    assert sign_in(desk, create_staff(runtime, "aalen@example.org", "authority", "000100")
                   ).status_code == 303
    home = desk.get("/desk/").text
    assert f'href="{hours_path("000100")}"' in home
    saved = post(desk, hours_path("000100"), WEEK)

    assert saved.status_code == 303
    assert "Saved" in desk.get(saved.headers["Location"]).text
    offered = offered_slots(applicant, status_path)
    assert offered
    booked = book(applicant, status_path, offered[0])
    assert booked.status_code == 303
    assert "Your appointment is booked" in applicant.get(booked.headers["Location"]).text
    with runtime.db.read() as session:
        slot = session.get_one(models.Slot, int(offered[0]))
        assert (slot.authority_key, slot.taken, slot.capacity, slot.held_for_priority) == (
            "000100", 3, 6, 1)
    starts = local_starts(runtime, "000100")
    holidays = schedule.public_holidays("Baden-Württemberg", starts[0].date(), starts[-1].date())
    assert all(start.weekday() < 5 and start.date() not in holidays for start in starts)
    assert {start.time() for start in starts if start.weekday() == 1} >= {
        dt.time(8), dt.time(11, 40), dt.time(13, 30), dt.time(15, 30)}
    assert dt.time(12) not in {start.time() for start in starts}


def test_only_the_authoritys_staff_and_admins_manage_its_hours(staff_clients):
    assert staff_clients["authority_a"].get(hours_path("073400")).status_code == 200
    assert staff_clients["admin"].get(hours_path("075600")).status_code == 200
    assert staff_clients["authority_b"].get(hours_path("073400")).status_code == 404
    assert staff_clients["admin"].get(hours_path("999999")).status_code == 404
    assert staff_clients["volunteer"].get(hours_path("073400")).status_code == 403
    assert staff_clients["anonymous"].get(hours_path("073400")).status_code == 302
    assert staff_clients["authority_b"].post(hours_path("073400"), data=WEEK).status_code == 400
    refused = post(staff_clients["authority_b"], hours_path("073400"), WEEK,
                   page_path=hours_path("073000"))
    assert refused.status_code == 404


def test_the_form_shows_the_week_as_stored_and_the_admins_list_links_it(staff_clients):
    page = staff_clients["authority_a"].get(hours_path("073400")).text

    assert 'value="08:00-12:00, 13:00-17:00"' in page  # Tuesday, from the demo
    assert '<label for="tue">Tuesday</label>' in page
    assert 'id="slot_minutes" name="slot_minutes" type="text"' in page and 'value="15"' in page
    authorities = staff_clients["admin"].get("/desk/authorities").text
    assert f'href="{hours_path("073400")}"' in authorities


def test_a_mistyped_week_is_explained_at_its_fields_and_nothing_typed_is_lost(
    staff_clients, runtime
):
    typed = {**WEEK, "slot_minutes": "0", "mon": "8 bis 12", "tue": "13:00-12:00",
             "wed": "08:00-10:00, 09:00-11:00", "thu": "08:00-08:10", "priority_seats": "7"}
    before = local_starts(runtime, "073400")

    answer = post(staff_clients["authority_a"], hours_path("073400"), typed)

    assert answer.status_code == 422
    page = answer.text
    for message in ("Slot length in minutes: Enter a whole number from 5 to 240.",
                    "Monday: Enter the times from and to, such as 08:00-12:00",
                    "Tuesday: Each period must end after it begins.",
                    "Wednesday: The periods overlap.",
                    "Of these, seats held for priority: Seats held for priority cannot be more"):
        assert message in page
    assert '<a href="#mon">' in page and 'aria-invalid="true"' in page
    for value in ("8 bis 12", "13:00-12:00", "08:00-10:00, 09:00-11:00", "08:00-08:10"):
        assert f'value="{value}"' in page
    assert local_starts(runtime, "073400") == before
    short = post(staff_clients["authority_a"], hours_path("073400"), {**WEEK, "thu": "08:00-08:10"})
    assert "Thursday: Each period must be at least one slot long." in short.text


def test_changes_keep_booked_seats_and_say_which_bookings_no_longer_fit(
    staff_clients, client, runtime
):
    status_path = register(client, "en", [APPLICANT, SPOUSE, CHILD], "14467").headers[
        "Location"].split("?")[0]
    slot_id = offered_slots(client, status_path)[0]
    assert book(client, status_path, slot_id).status_code == 303
    with runtime.db.read() as session:
        booked = session.get_one(models.Slot, int(slot_id))
        booked_at = booking.aware(booked.starts_at).astimezone(booking.LOCAL_TIME)
    week = {**WEEK, "slot_minutes": "15", "seats_per_slot": "2", "priority_seats": "0"}
    week[("mon", "tue", "wed", "thu", "fri", "sat", "sun")[booked_at.weekday()]] = ""

    saved = post(staff_clients["authority_a"], hours_path("073400"), week)

    page = staff_clients["authority_a"].get(saved.headers["Location"]).text
    assert "Saved. Some appointments already booked no longer fit" in page
    # The time as the English page says it: "8:15 AM", not "08:15" (a test run before ten
    # in the morning found that).
    assert format_time(booked_at, "short", locale="en") in page and "3 people booked" in page
    with runtime.db.read() as session:
        kept = session.get_one(models.Slot, int(slot_id))
        assert (kept.taken, kept.capacity, kept.closed) == (3, 20, True)
        assert session.scalar(select(func.count()).select_from(models.Appointment)) == 1
        others = session.scalars(select(models.Slot).where(
            models.Slot.authority_key == "073400", models.Slot.id != kept.id,
            models.Slot.starts_at > dt.datetime.now(dt.UTC))).all()
        assert others and all((s.capacity, s.held_for_priority, s.taken) == (2, 0, 0)
                              for s in others)
    assert booked_at.date() not in {start.date() for start in local_starts(runtime, "073400")}
    assert "Places booked: 3" in client.get(status_path).text  # the household keeps it
    # The kept slot takes nobody else, and goes when its household cancels.
    assert slot_id not in offered_slots(client, status_path)


def test_fewer_seats_than_are_booked_keep_the_booked_ones(staff_clients, client, runtime):
    status_path = register(client, "en", [APPLICANT, SPOUSE, CHILD], "14467").headers[
        "Location"].split("?")[0]
    slot_id = offered_slots(client, status_path)[0]
    book(client, status_path, slot_id)

    post(staff_clients["authority_a"], hours_path("073400"),
         {**WEEK, "mon": "08:00-12:00", "tue": "08:00-12:00, 13:00-17:00",
          "thu": "08:00-12:00, 13:00-17:00", "slot_minutes": "15", "seats_per_slot": "2",
          "priority_seats": "0"})

    with runtime.db.read() as session:
        slot = session.get_one(models.Slot, int(slot_id))
        assert (slot.taken, slot.capacity, slot.closed) == (3, 3, False)
    page = staff_clients["authority_a"].get(hours_path("073400")).text
    assert "3 people booked, a slot now seats 2" in page


def test_closures_take_their_days_out_and_reopening_brings_them_back(staff_clients, runtime):
    desk = staff_clients["authority_a"]
    starts = local_starts(runtime, "073400")
    first, last = starts[0].date(), starts[-1].date()

    closed = post(desk, "/desk/authorities/073400/closures",
                  {"first": first.strftime("%d.%m.%Y"), "last": last.isoformat(),
                   "reason": "Umzug"}, page_path=hours_path("073400"))

    assert closed.status_code == 303
    assert local_starts(runtime, "073400") == []
    assert "Umzug" in desk.get(hours_path("073400")).text
    reopened = post(desk, "/desk/authorities/073400/closures/remove",
                    {"first": first.isoformat(), "last": last.isoformat()},
                    page_path=hours_path("073400"))
    assert reopened.status_code == 303
    assert set(starts[1:]) <= set(local_starts(runtime, "073400"))  # the first may be past
    with runtime.db.read() as session:
        actions = session.scalars(select(models.AuditEntry.action).where(
            models.AuditEntry.user_id.is_not(None), models.AuditEntry.record_type == "authority",
            models.AuditEntry.record_id == "073400")).all()
    assert actions == ["close", "reopen"]


@pytest.mark.parametrize(("typed", "message"), [
    ({"first": "", "last": "", "reason": "Umzug"}, "First day closed: Enter a date such as"),
    ({"first": "01.01.2020", "last": "", "reason": "Umzug"}, "A closure cannot begin in the past."),
    ({"first": "2099-05-02", "last": "2099-05-01", "reason": "Umzug"},
     "Last day closed: The last day cannot be before the first."),
    ({"first": "2099-05-02", "last": "2101-05-01", "reason": "Umzug"}, "at most a year"),
    ({"first": "2099-05-02", "last": "", "reason": " "}, "Reason: Enter the reason"),
])
def test_a_mistyped_closure_is_explained_and_kept(staff_clients, runtime, typed, message):
    answer = post(staff_clients["authority_a"], "/desk/authorities/073400/closures", typed,
                  page_path=hours_path("073400"))

    assert answer.status_code == 422 and message in answer.text
    for value in typed.values():
        if value.strip():  # dates as the date field writes them
            written = read_date(value)
            assert f'value="{written.isoformat() if written else value}"' in answer.text
    with runtime.db.read() as session:
        assert session.scalar(select(func.count()).select_from(models.ClosedDay)) == 0


def test_the_page_names_the_lands_public_holidays_or_says_it_cannot(staff_clients, runtime):
    page = staff_clients["authority_a"].get(hours_path("073400")).text
    assert "public holidays in Brandenburg" in page
    assert "Christmas Day" in page  # within the year ahead, whatever the day
    with runtime.db.transaction() as session:
        session.get_one(models.Authority, "073400").state = None

    page = staff_clients["authority_a"].get(hours_path("073400")).text

    assert "Public holidays are not closed by themselves" in page


def test_each_change_is_audited_by_ids_and_a_forged_form_is_refused(staff_clients, runtime):
    desk = staff_clients["admin"]
    assert desk.post(hours_path("073400"), data={**WEEK, "csrf_token": "forged"}).status_code == 400

    assert post(desk, hours_path("073400"), WEEK).status_code == 303

    with runtime.db.read() as session:
        entry = session.scalars(select(models.AuditEntry).order_by(
            models.AuditEntry.id.desc())).first()
        admin = session.scalar(select(models.StaffUser.id).where(
            models.StaffUser.email == "admin@example.org"))
    assert entry is not None
    assert (entry.user_id, entry.action, entry.record_type, entry.record_id) == (
        admin, "opening hours", "authority", "073400")


@pytest.mark.parametrize(("path", "data"), [
    ("/desk/authorities/073400/closures", {"first": "9999-12-31", "last": "", "reason": "x"}),
    ("/desk/authorities/073400/closures", {"first": "0000-01-01", "last": "9999-99-99",
                                           "reason": "x" * 5000}),
    ("/desk/authorities/073400/closures/remove", {"first": "0001-01-01", "last": "9999-12-31"}),
    ("/desk/authorities/073400/closures/remove", {"first": "x"}),
    ("/desk/authorities/073400/hours", {**WEEK, "mon": "٠٨:٠٠-١٢:٠٠", "slot_minutes": "²"}),
    ("/desk/authorities/073400/hours", {**WEEK, "slot_minutes": "9" * 40, "tue": "-" * 3000}),
    ("/desk/authorities/ä%C3%BC/hours", WEEK),
])
def test_no_input_makes_the_pages_fail(staff_clients, path, data):
    answer = post(staff_clients["admin"], path, data, page_path=hours_path("073400"))

    assert answer.status_code in (303, 400, 404, 422), answer.text
