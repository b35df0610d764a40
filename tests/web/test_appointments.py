"""The household's appointment pages, where its authority takes no bookings online."""

from __future__ import annotations

import datetime as dt

from intake.registrations import schedule
from intake.registrations.opening_hours import Week
from tests.helpers.api import api, post
from tests.helpers.data import ADULT
from tests.helpers.forms import APPLICANT, register


def test_an_authority_without_opening_hours_says_it_will_contact_the_household(
    client, runtime
):
    """Seen: "Book an appointment" led to an empty list of times."""
    with runtime.db.transaction() as session:
        schedule.save_week(session, "075600", Week((), 15, 20, 2), None, dt.datetime.now(dt.UTC))
    status_path = register(client, "en", [APPLICANT], "04916").headers["Location"].split("?")[0]
    says = ("The immigration authority LKR Elbe-Elster does not offer appointments online "
            "yet; it will contact you.")

    status = client.get(status_path).text
    slots = client.get(f"{status_path}/slots").text

    assert says in status and "Book an appointment" not in status
    assert says in slots and 'name="slot"' not in slots and "no free times" not in slots
    assert "Show times" not in slots


def test_an_authority_with_opening_hours_offers_them(client):
    status_path = register(client, "en", [APPLICANT], "14467").headers["Location"].split("?")[0]

    assert "Book an appointment" in client.get(status_path).text
    assert 'name="slot"' in client.get(f"{status_path}/slots").text


def test_the_api_says_whether_the_authority_books_appointments_here(
    client, runtime, submit_token
):
    """Seen: the API listed no slots for an authority without hours, and did not say why."""
    reference = post(client, submit_token, ADULT).json["reference"]
    slots = f"/api/v1/registrations/{reference}/slots"
    offered = api(client, submit_token, "GET", slots).json
    with runtime.db.transaction() as session:
        schedule.save_week(session, "073400", Week((), 15, 20, 2), None, dt.datetime.now(dt.UTC))

    none = api(client, submit_token, "GET", slots).json

    assert offered["books_online"] is True and offered["slots"]
    assert none == {"slots": [], "books_online": False}
