"""Appointments: slots from opening hours, seats never overbooked, calendar file, cancelling."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from icalendar import Calendar
from sqlalchemy import func, select, update
from werkzeug.serving import make_server

from intake.dataset.schemas import HouseholdSchema
from intake.registrations import booking, register
from intake.security import tokens
from intake.store import models
from tests.helpers.api import api, in_parallel, post
from tests.helpers.data import ADULT
from tests.helpers.forms import CSRF, offered_slots


def new_registration(client, token: str, persons: int = 1) -> dict:  # type: ignore[type-arg]
    body = json.loads(json.dumps(ADULT))
    for n in range(1, persons):
        child = {**body["persons"][0], "role": "child", "given_names": f"Kid {n}",
                 "date_of_birth": "2015"}
        child.pop("document")
        body["persons"].append(child)
    response = post(client, token, body)
    assert response.status_code == 201
    return response.json


def test_demo_slots_follow_opening_hours_and_holidays(runtime):
    with runtime.db.read() as session:
        starts = [booking.aware(s) for s in session.scalars(
            select(models.Slot.starts_at).where(models.Slot.authority_key == "073400"))]
    local = [start.astimezone(booking.LOCAL_TIME) for start in starts]
    assert local, "demo-seed opens slots"
    assert all(moment.weekday() < 5 for moment in local)
    assert all(dt.time(8) <= moment.time() < dt.time(17) for moment in local)
    assert not any(moment.date() == dt.date(local[0].year, 12, 25) for moment in local)
    # The window's days are the authority's: after 23:00 UTC, Berlin's date is tomorrow's.
    today = dt.datetime.now(booking.LOCAL_TIME).date()
    assert max(local).date() - today <= dt.timedelta(days=14)


def test_a_household_books_gets_a_calendar_file_and_cancels(client, submit_token, runtime):
    body = new_registration(client, submit_token, persons=3)
    status_path = body["status_url"].removeprefix("http://localhost")
    assert "Book an appointment" in client.get(status_path).text

    slots_page = client.get(f"{status_path}/slots")
    first_slot = slots_page.text.split('name="slot" value="', 1)[1].split('"', 1)[0]
    csrf = CSRF.search(slots_page.text).group(1)  # type: ignore[union-attr]
    booked = client.post(f"{status_path}/appointment",
                         data={"csrf_token": csrf, "slot": first_slot, "priority": "no",
                               "action": "confirm"})

    assert booked.status_code == 303
    page = client.get(booked.headers["Location"]).text
    assert "Your appointment is booked" in page and "Places booked: 3" in page
    with runtime.db.read() as session:
        assert session.get_one(models.Slot, int(first_slot)).taken == 3
    calendar = Calendar.from_ical(client.get(f"{status_path}/appointment.ics").data)
    [event] = calendar.walk("VEVENT")
    assert "STV Potsdam" in str(event["LOCATION"]) and body["reference"] in str(event["DESCRIPTION"])
    assert "Shevchenko" not in calendar.to_ical().decode()
    with runtime.db.read() as session:
        slot = session.get_one(models.Slot, int(first_slot))
        assert event.decoded("DTSTART") == booking.aware(slot.starts_at)

    asked = client.get(f"{status_path}/appointment/cancel")  # one tap asks first
    assert asked.status_code == 200 and "Cancel the appointment?" in asked.text
    with runtime.db.read() as session:
        assert session.get_one(models.Slot, int(first_slot)).taken == 3
    cancelled = client.post(f"{status_path}/appointment/cancel", data={"csrf_token": csrf})

    assert cancelled.status_code == 303
    with runtime.db.read() as session:
        assert session.get_one(models.Slot, int(first_slot)).taken == 0
    assert client.get(f"{status_path}/appointment.ics").status_code == 404


def test_api_books_answers_409_when_full_and_cancels(client, submit_token, runtime):
    family = new_registration(client, submit_token, persons=4)
    single = new_registration(client, submit_token)
    slots = api(client, submit_token, "GET", f"/api/v1/registrations/{family['reference']}/slots")
    slot = slots.json["slots"][0]
    assert slot["free"] == 18  # 20 seats, 2 held back for priority
    with runtime.db.transaction() as session:  # leave room for three regular seats only
        session.get_one(models.Slot, int(slot["id"])).taken = 15

    full = api(client, submit_token, "POST",
               f"/api/v1/registrations/{family['reference']}/appointment", {"slot": slot["id"]})
    priority = api(client, submit_token, "POST",
                   f"/api/v1/registrations/{family['reference']}/appointment",
                   {"slot": slot["id"], "priority": True})
    other = api(client, submit_token, "POST",
                f"/api/v1/registrations/{single['reference']}/appointment", {"slot": slot["id"]})

    assert full.status_code == 409 and "no room" in full.json["error"]
    assert priority.status_code == 201 and priority.json["seats"] == 4
    assert other.status_code == 409  # the held seats went to the priority household
    gone = api(client, submit_token, "DELETE",
               f"/api/v1/registrations/{family['reference']}/appointment")
    assert gone.status_code == 204
    with runtime.db.read() as session:
        assert session.get_one(models.Slot, int(slot["id"])).taken == 15


def test_another_partner_cannot_see_or_book_for_a_registration(client, submit_token, runtime):
    mine = new_registration(client, submit_token)
    with runtime.db.transaction() as session:
        other_token = tokens.create(session, "other partner", "submit")

    for method, suffix in [("GET", "slots"), ("POST", "appointment"), ("DELETE", "appointment")]:
        response = api(client, other_token, method,
                       f"/api/v1/registrations/{mine['reference']}/{suffix}", {"slot": "1"})
        assert response.status_code == 404, (method, suffix)


def test_200_concurrent_bookings_take_exactly_20_seats(app, runtime):
    with runtime.db.transaction() as session:
        token = tokens.create(session, "load", "submit")
    with runtime.db.read() as session:
        token_id = tokens.find(session, token, "submit").id  # type: ignore[union-attr]
    household = HouseholdSchema().load(ADULT)
    references = [
        register.register(runtime, household, api_token_id=token_id).reference
        for _ in range(200)
    ]
    with runtime.db.transaction() as session:
        slot = session.scalars(
            select(models.Slot)
            .where(models.Slot.authority_key == "073400",
                   models.Slot.starts_at > dt.datetime.now(dt.UTC))
            .order_by(models.Slot.starts_at)
        ).first()
        assert slot is not None
        slot.capacity, slot.held_for_priority, slot.taken = 20, 0, 0
        slot_id = str(slot.id)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def book(reference: str) -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.server_port}/api/v1/registrations/{reference}/appointment",
            data=json.dumps({"slot": slot_id}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as error:
            answer = json.load(error)
            assert error.code != 409 or "no room" in answer["error"]
            return int(error.code)

    try:
        with ThreadPoolExecutor(max_workers=40) as pool:
            codes = list(pool.map(book, references))
    finally:
        server.shutdown()

    assert codes.count(201) == 20 and codes.count(409) == 180
    with runtime.db.read() as session:
        assert session.get_one(models.Slot, int(slot_id)).taken == 20
        assert session.scalar(select(func.count()).select_from(models.Appointment)) == 20


@pytest.mark.parametrize("bad", [{}, {"slot": 5}, {"slot": "x"}, {"slot": "1", "priority": "yes"}])
def test_api_rejects_a_malformed_booking(client, submit_token, bad):
    mine = new_registration(client, submit_token)
    response = api(client, submit_token, "POST",
                   f"/api/v1/registrations/{mine['reference']}/appointment", bad)
    assert response.status_code == 422


def free_slot_ids(runtime, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    """The ids of the next `count` slots, each with 20 seats and none taken."""
    with runtime.db.transaction() as session:
        slots = session.scalars(
            select(models.Slot)
            .where(models.Slot.authority_key == "073400",
                   models.Slot.starts_at > dt.datetime.now(dt.UTC))
            .order_by(models.Slot.starts_at).limit(count)
        ).all()
        for slot in slots:
            slot.capacity, slot.held_for_priority = 20, 0
        return [str(slot.id) for slot in slots]


def seats_add_up(runtime) -> None:  # type: ignore[no-untyped-def]
    """Every slot's taken seats are the seats of its live appointments, within capacity."""
    with runtime.db.read() as session:
        booked = dict(session.execute(
            select(models.Appointment.slot_id, func.sum(models.Appointment.seats))
            .group_by(models.Appointment.slot_id)
        ).all())
        for slot in session.scalars(select(models.Slot).where(models.Slot.taken != 0)):
            assert slot.taken == booked.get(slot.id, 0), (slot.id, slot.taken, booked)
        for slot_id in booked:
            slot = session.get_one(models.Slot, slot_id)
            assert slot.taken == booked[slot_id] <= slot.capacity


def test_ten_cancellations_at_once_free_the_seats_once(client, submit_token, app, runtime):
    [slot] = free_slot_ids(runtime, 1)
    mine = new_registration(client, submit_token, persons=3)
    path = f"/api/v1/registrations/{mine['reference']}/appointment"
    assert api(client, submit_token, "POST", path, {"slot": slot}).status_code == 201

    codes = in_parallel(app, submit_token, [("DELETE", path, None)] * 10)

    assert sorted(codes) == [204] + [404] * 9
    seats_add_up(runtime)


def test_thirty_rebookings_at_once_leave_one_appointment(client, submit_token, app, runtime):
    slots = free_slot_ids(runtime, 5)
    mine = new_registration(client, submit_token, persons=2)
    path = f"/api/v1/registrations/{mine['reference']}/appointment"

    codes = in_parallel(app, submit_token, [("POST", path, {"slot": slots[n % 5]})
                                            for n in range(30)])

    assert codes == [201] * 30
    with runtime.db.read() as session:
        assert session.scalar(select(func.count()).select_from(models.Appointment)) == 1
    seats_add_up(runtime)


def test_households_booking_cancelling_and_rebooking_at_once_never_overbook(
    client, submit_token, app, runtime
):
    slots = free_slot_ids(runtime, 2)
    households = [new_registration(client, submit_token, persons=3) for _ in range(12)]
    calls: list[tuple[str, str, dict | None]] = []  # type: ignore[type-arg]
    for n, mine in enumerate(households):
        path = f"/api/v1/registrations/{mine['reference']}/appointment"
        calls += [("POST", path, {"slot": slots[0]}), ("POST", path, {"slot": slots[1]}),
                  ("DELETE", path, None), ("POST", path, {"slot": slots[n % 2]})]

    codes = in_parallel(app, submit_token, calls)

    print(f"\nbooking race, 12 households x 4 calls: {sorted(Counter(codes).items())}")
    assert set(codes) <= {201, 204, 404, 409}, codes
    seats_add_up(runtime)


def _slots_form(client, status_path: str, query: str = "") -> tuple[str, str]:  # type: ignore[no-untyped-def]
    page = client.get(f"{status_path}/slots{query}")
    first_slot = page.text.split('name="slot" value="', 1)[1].split('"', 1)[0]
    return first_slot, CSRF.search(page.text).group(1)  # type: ignore[union-attr]


def test_the_priority_answer_counts_without_pressing_show_times(client, submit_token, runtime):
    """Issue #26: the answer was dropped unless "Show times" was pressed first."""
    status_path = new_registration(client, submit_token)["status_url"].removeprefix(
        "http://localhost")
    slot, csrf = _slots_form(client, status_path)
    page = client.get(f"{status_path}/slots").text
    booking_form = page.split('<form method="post"', 1)[1].split("</form>", 1)[0]
    # The question is answered in the form that books: what the browser sends is the answer.
    assert 'type="radio" id="priority_yes" name="priority" value="yes"' in booking_form
    assert 'type="hidden" name="priority"' not in booking_form

    booked = client.post(f"{status_path}/appointment", data={
        "csrf_token": csrf, "slot": slot, "priority": "yes", "action": "confirm"})

    assert booked.status_code == 303
    with runtime.db.read() as session:
        assert session.scalar(select(models.Appointment.priority)) is True


def test_show_times_shows_them_for_the_answer_given(client, submit_token):
    status_path = new_registration(client, submit_token)["status_url"].removeprefix(
        "http://localhost")
    _slot, csrf = _slots_form(client, status_path)

    shown = client.post(f"{status_path}/appointment", data={
        "csrf_token": csrf, "priority": "yes", "action": "show"})

    assert shown.status_code == 303 and "priority=yes" in shown.headers["Location"]
    assert 'id="priority_yes" name="priority" value="yes" checked' in client.get(
        shown.headers["Location"]).text


def test_after_a_booking_error_every_link_and_form_on_the_page_works(client, submit_token,
                                                                     runtime):
    """Issue #26: after a booking error, "Show times" or a language link answered 405."""
    status_path = new_registration(client, submit_token)["status_url"].removeprefix(
        "http://localhost")
    slot, csrf = _slots_form(client, status_path)
    with runtime.db.transaction() as session:  # someone else took the last seats meanwhile
        session.execute(update(models.Slot).where(models.Slot.id == int(slot))
                        .values(taken=models.Slot.capacity))

    refused = client.post(f"{status_path}/appointment", data={
        "csrf_token": csrf, "slot": slot, "priority": "no", "action": "confirm"})
    page = client.get(refused.headers["Location"])

    assert refused.status_code == 303 and "just been taken" in page.text
    for link in re.findall(r'href="(/language/[^"]+)"', page.text):
        followed = client.get(link.replace("&amp;", "&"), follow_redirects=True)
        assert followed.status_code == 200, link
    for form_target in re.findall(r'<form method="post" action="([^"]+)"', page.text):
        assert form_target.endswith("/appointment")


def test_booking_asks_first_and_says_what_a_rebooking_replaces(client, submit_token, runtime):
    """Issue #26: booking, cancelling and rebooking acted on one tap."""
    status_path = new_registration(client, submit_token)["status_url"].removeprefix(
        "http://localhost")
    slot, csrf = _slots_form(client, status_path)

    asked = client.post(f"{status_path}/appointment", data={
        "csrf_token": csrf, "slot": slot, "priority": "no", "action": "book"})

    assert asked.status_code == 303 and "/appointment/confirm?" in asked.headers["Location"]
    page = client.get(asked.headers["Location"]).text
    assert "Book this appointment?" in page and "replaces" not in page
    with runtime.db.read() as session:
        assert session.scalar(select(func.count()).select_from(models.Appointment)) == 0
    client.post(f"{status_path}/appointment", data={
        "csrf_token": csrf, "slot": slot, "priority": "no", "action": "confirm"})
    other = offered_slots(client, status_path, at_least=2)[1]
    again = client.get(f"{status_path}/appointment/confirm?slot={other}&priority=no").text
    assert "This replaces your appointment on" in again


def test_times_are_shown_one_day_at_a_time_with_the_days_to_choose(client, submit_token):
    """Issue #26: 224 times over eight screens, the button at the end."""
    status_path = new_registration(client, submit_token)["status_url"].removeprefix(
        "http://localhost")
    page = client.get(f"{status_path}/slots").text
    days = re.findall(r'href="[^"]*/slots\?day=(\d{4}-\d{2}-\d{2})', page)
    assert len(days) >= 5 and 'aria-current="date"' in page

    second = client.get(f"{status_path}/slots?day={days[1]}").text
    times = re.findall(r'name="slot" value="(\d+)"', second)
    assert 0 < len(times) <= 40
    assert times != re.findall(r'name="slot" value="(\d+)"', page)


def test_the_calendar_file_is_in_berlin_time_with_a_reminder_and_a_sequence(
    client, submit_token
):
    body = new_registration(client, submit_token)
    status_path = body["status_url"].removeprefix("http://localhost")
    slot, csrf = _slots_form(client, status_path)
    client.post(f"{status_path}/appointment", data={
        "csrf_token": csrf, "slot": slot, "priority": "no", "action": "confirm"})

    calendar = Calendar.from_ical(client.get(f"{status_path}/appointment.ics").data)

    [event] = calendar.walk("VEVENT")
    assert str(event["DTSTART"].params["TZID"]) == "Europe/Berlin"
    assert calendar.walk("VTIMEZONE") and event.walk("VALARM")
    assert int(event["SEQUENCE"]) > 0 and str(event["UID"]) == f"{body['reference']}@intake"
