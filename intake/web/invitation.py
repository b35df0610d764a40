"""Pure: an appointment as an iCalendar file (RFC 5545), with no personal data in it.

Calendars sync to third-party clouds, so the file names the place, time and reference only:
no names, and not the status link (it opens the registration).
"""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar, Event

from intake.dataset import domain


def ics(
    reference: str,
    authority: domain.Authority,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    summary: str,
    description: str,
    stamp: dt.datetime,
) -> bytes:
    """One VEVENT at the authority; `summary` and `description` come translated from the caller."""
    calendar = Calendar()
    calendar.add("prodid", "-//intake//appointment//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"{reference}@intake")
    event.add("dtstamp", stamp)
    event.add("dtstart", starts_at)
    event.add("dtend", ends_at)
    event.add("summary", summary)
    event.add("description", description)
    if authority.address is not None:
        address = authority.address
        event.add(
            "location",
            f"{authority.name}, {address.street} {address.house_number or ''}".rstrip()
            + f", {address.postal_code} {address.city}",
        )
    else:
        event.add("location", authority.name)
    calendar.add_component(event)
    return bytes(calendar.to_ical())
