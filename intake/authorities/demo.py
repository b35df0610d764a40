"""Demo data: the Brandenburg pilot authorities with the postal codes they serve."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from intake.authorities import routes
from intake.registrations import schedule
from intake.registrations.opening_hours import Period, Week
from intake.store import models

# Keys from the official ABH list (abhkennung 64.0); postal codes of the areas they serve.
PILOTS = (
    {
        "key": "073400",
        "name": "STV Potsdam",
        "street": "Friedrich-Ebert-Straße",
        "house_number": "79/81",
        "postal_code": "14469",
        "city": "Potsdam",
        "postal_codes": ("14467", "14469", "14471", "14473", "14476", "14478", "14480", "14482"),
    },
    {
        "key": "073000",
        "name": "KRV Teltow-Fläming",
        "street": "Am Nuthefließ",
        "house_number": "2",
        "postal_code": "14943",
        "city": "Luckenwalde",
        "postal_codes": (
            "14913", "14943", "14947", "14959", "14974", "14979", "15806", "15827",
            "15831", "15834", "15837", "15838", "15936",
        ),
    },
    {
        "key": "075600",
        "name": "LKR Elbe-Elster",
        "street": "Ludwig-Jahn-Straße",
        "house_number": "2",
        "postal_code": "04916",
        "city": "Herzberg (Elster)",
        "postal_codes": (
            "03238", "03246", "03249", "03253", "04895", "04910", "04916", "04924",
            "04928", "04931", "04932", "04934", "04936", "04938",
        ),
    },
)


# Mornings on weekdays, afternoons on Tuesday and Thursday (local time); a slot seats 20
# people, 2 of them held for households that need to be seen first.
WEEK = Week(
    periods=(*(Period(weekday, dt.time(8), dt.time(12)) for weekday in range(5)),
             Period(1, dt.time(13), dt.time(17)), Period(3, dt.time(13), dt.time(17))),
    slot_minutes=15, seats_per_slot=20, priority_seats=2,
)


def seed(session: Session, now: dt.datetime | None = None) -> int:
    """Create or update the pilot authorities, their postal codes, opening hours and slots.

    Safe to run again: nothing is doubled, and booked seats are kept.
    """
    now = now or dt.datetime.now(dt.UTC)
    for pilot in PILOTS:
        fields = {key: value for key, value in pilot.items() if key != "postal_codes"}
        session.merge(models.Authority(**fields, state="Brandenburg"))
        for code in pilot["postal_codes"]:
            session.merge(models.PostalCode(code=code, authority_key=pilot["key"]))
        session.flush()
        schedule.apply_week(session, str(pilot["key"]), WEEK, now)
    routes.rebuild(session)  # the pilots' postal codes are routed as imported ones are
    return len(PILOTS)
