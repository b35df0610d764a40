"""An appointment as an iCalendar file (RFC 5545), with no personal data in it: the one
file behind the status page's download and the appointment mails' attachment.

Calendars sync to third-party clouds, so the file names the place, time and reference only:
no names, and not the status link (it opens the registration).
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from icalendar import Alarm, Calendar, Event

from intake.dataset import domain
from intake.dataset.wording import LOCAL_TIME
from intake.dataset.wording import place as place  # callers say invitation.place

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
    method: str | None = None,
) -> bytes:
    """One VEVENT at the authority; `summary` and `description` come translated from the caller.

    The times are the authority's (Europe/Berlin, with its VTIMEZONE), so a phone abroad
    shows them right; a reminder comes the day before. The UID is the registration's and the
    SEQUENCE grows with each booking, so a rebooked appointment, opened again, moves the
    entry in the calendar instead of adding a second one. `method` is the iTIP method
    (RFC 5546) of a file sent by mail; a downloaded file has none.
    """
    calendar = Calendar()
    calendar.add("prodid", "-//intake//appointment//EN")
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
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
    event.add("location", place(authority))
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


def appointment_file(
    reference: str,
    authority: domain.Authority,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    stamp: dt.datetime,
    booked_at: dt.datetime | None = None,
    method: str | None = None,
) -> bytes:
    """The household's appointment as a calendar file, in the current locale's words."""
    return ics(
        reference,
        authority,
        starts_at,
        ends_at,
        summary=_("Appointment at the immigration authority (%(name)s)", name=authority.name),
        description=_(
            "Reference %(reference)s. Bring the passports or identity documents of everyone "
            "registered, and your code.",
            reference=reference,
        ),
        stamp=stamp,
        booked_at=booked_at,
        method=method,
    )
