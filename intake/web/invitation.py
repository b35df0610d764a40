"""Pure: an appointment as an iCalendar file (RFC 5545), with no personal data in it.

Calendars sync to third-party clouds, so the file names the place, time and reference only:
no names, and not the status link (it opens the registration).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event

from intake.dataset import domain

LOCAL_TIME = ZoneInfo("Europe/Berlin")
REMINDER = dt.timedelta(days=1)  # the day before: time to gather the documents


def ics(
    reference: str,
    authority: domain.Authority,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    summary: str,
    description: str,
    stamp: dt.datetime,
    booked_at: dt.datetime | None = None,
) -> bytes:
    """One VEVENT at the authority; `summary` and `description` come translated from the caller.

    The times are the authority's (Europe/Berlin, with its VTIMEZONE), so a phone abroad
    shows them right; a reminder comes the day before. The UID is the registration's and the
    SEQUENCE grows with each booking, so a rebooked appointment, opened again, moves the
    entry in the calendar instead of adding a second one.
    """
    calendar = Calendar()
    calendar.add("prodid", "-//intake//appointment//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"{reference}@intake")
    event.add("dtstamp", stamp)
    event.add("sequence", int((booked_at or stamp).timestamp()) // 60)
    event.add("dtstart", starts_at.astimezone(LOCAL_TIME))
    event.add("dtend", ends_at.astimezone(LOCAL_TIME))
    event.add("summary", summary)
    event.add("description", description)
    reminder = Alarm()
    reminder.add("action", "DISPLAY")
    reminder.add("description", summary)
    reminder.add("trigger", -REMINDER)
    event.add_component(reminder)
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
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
