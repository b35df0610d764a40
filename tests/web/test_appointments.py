"""The household's appointment pages, where its authority takes no bookings online."""

from __future__ import annotations

import datetime as dt

from intake.registrations import schedule
from intake.registrations.opening_hours import Week
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
