"""How a registration reads in a language: names of codes, dates, countries, times at the
authority, its place. Pages, mails and the printed summary say them alike.

Each function speaks the current locale of Flask-Babel (the request's, or one forced with
`force_locale`), so it needs an app context; nothing here touches a request.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import format_date, get_datetime_format
from flask_babel import format_time, get_locale
from flask_babel import lazy_gettext as _l

from intake.dataset import domain, territories

# Appointments are at German authorities; their times are said in the authority's time.
LOCAL_TIME = ZoneInfo("Europe/Berlin")

ROLE_NAMES = {
    "applicant": _l("Applicant"),
    "spouse": _l("Spouse or partner"),
    "child": _l("Child"),
    "parent": _l("Parent"),
    "other_relative": _l("Other relative"),
}
SEX_NAMES = {
    "female": _l("female"),
    "male": _l("male"),
    "diverse": _l("diverse"),
    "unspecified": _l("not specified"),
}
# The person step's choices, named as the page names them (one list for both).
MARITAL_NAMES = {
    "single": _l("single"),
    "married": _l("married"),
    "civil_partnership": _l("civil partnership"),
    "divorced": _l("divorced"),
    "widowed": _l("widowed"),
    "unknown": _l("prefer not to say"),
}
DOCUMENT_NAMES = {
    "passport": _l("Passport"),
    "travel_document": _l("Travel document"),
    "other": _l("Other identity document"),
}
# The status in Ukraine of a person who is not Ukrainian, as the person step offers it.
STATUS_NAMES = {
    "international_protection": _l("Refugee status or other protection"),
    "permanent_residence": _l("Permanent residence permit"),
    "other": _l("Something else (temporary stay, study, work, visit)"),
}


def language() -> str:
    return str(get_locale() or "en")


def partial_date(value: str | domain.PartialDate | None) -> str:
    """A date as far as it is known (year; month and year; full), as text or parsed."""
    if value is None:
        return str(_l("unknown"))
    known = value if isinstance(value, domain.PartialDate) else domain.PartialDate.parse(value)
    if known.day is not None:
        return format_date(known.earliest(), "long", locale=language())
    if known.month is not None:
        return format_date(known.earliest(), "LLLL y", locale=language())
    return str(known.year)


def country(code: str) -> str:
    if code == domain.STATELESS:
        return str(_l("stateless"))
    if code == domain.UNKNOWN:
        return str(_l("unknown"))
    return dict(territories.choices(language())).get(code, code)


def long_date(day: dt.date) -> str:
    """A day as people say it: "Monday, 7 December 2026"."""
    return format_date(day, "full", locale=language())


def local_time(moment: dt.datetime) -> str:
    """The time of day of an aware moment at the authority (the app's time zone)."""
    return str(format_time(_aware(moment), "short"))


def local_day(moment: dt.datetime) -> str:
    """The day of an aware moment at the authority, in words: "Montag, 7. Dezember 2026"."""
    return long_date(_aware(moment).astimezone(LOCAL_TIME).date())


def local_datetime(moment: dt.datetime) -> str:
    """Day and time at the authority, joined as the language joins them (a comma in de and
    en, the Arabic comma in ar and fa), with the same time as everywhere else."""
    joined = get_datetime_format("medium", locale=language())
    return str(joined).format(local_time(moment), local_day(moment))


def place(authority: domain.Authority) -> str:
    """Where the authority receives people: "STV Potsdam, Friedrich-Ebert-Str. 79, 14469
    Potsdam", or its name alone when the directory has no address."""
    if authority.address is None:
        return authority.name
    return f"{authority.name}, {address(authority.address)}"


def address(where: domain.Address) -> str:
    """An address on one line: "Friedrich-Ebert-Str. 79, 14469 Potsdam"."""
    street = f"{where.street} {where.house_number or ''}".rstrip()
    return f"{street}, {where.postal_code} {where.city}"


def _aware(moment: dt.datetime) -> dt.datetime:
    # A naive time would be read as the server's local time, silently wrong by hours.
    if moment.tzinfo is None:
        raise ValueError("a moment without a time zone")
    return moment
