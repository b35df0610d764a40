"""Opening hours and closures as staff type them: read, checked, and explained when wrong.

The desk's form and the operator's file (`intake authorities hours import`) take the same
words, so one reader serves both: a weekday's periods as "08:00-12:00, 13:00-17:00", the
slot length and seats as whole numbers, a closure as its first and last day and a reason.
A problem is a code per field (`Refused.problems`); `explain` words it in the current locale.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise

from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from intake.dataset.names import ascii_digits

# The week's fields, Monday first (date.weekday() counts from Monday = 0).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Whole-number fields and the values they take (lowest, highest).
NUMBERS = {"slot_minutes": (5, 240), "seats_per_slot": (1, 500), "priority_seats": (0, 500)}
LONGEST_CLOSURE = dt.timedelta(days=366)  # longer ones are entered in parts
REASON_LENGTH = 100  # the closed_day.reason column

_LABELS = {
    "slot_minutes": _l("Slot length in minutes"),
    "seats_per_slot": _l("Seats per slot"),
    "priority_seats": _l("Of these, seats held for priority"),
    "first": _l("First day closed"),
    "last": _l("Last day closed"),
    "reason": _l("Reason"),
}
_PROBLEMS = {
    "times": _l("Enter the times from and to, such as 08:00-12:00; several separated by "
                "commas, or nothing when closed."),
    "order": _l("Each period must end after it begins."),
    "short": _l("Each period must be at least one slot long."),
    "overlap": _l("The periods overlap."),
    "priority": _l("Seats held for priority cannot be more than the seats per slot."),
    "date": _l("Enter a date such as 24.12.2026."),
    "past": _l("A closure cannot begin in the past."),
    "before": _l("The last day cannot be before the first."),
    "long": _l("A closure can span at most a year; enter a longer one in parts."),
    "reason": _l("Enter the reason, such as “Staff training”."),
    "reason_long": _l("Enter a reason of at most %(count)s characters.", count=REASON_LENGTH),
}

_PERIOD = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?-(\d{1,2})(?:[:.](\d{2}))?$")
_DASHES = re.compile(r"\s*[-‐‑–—]\s*")
_SEPARATORS = re.compile(r"[\s,;]+")
_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


class Refused(ValueError):
    """Input that cannot be taken: a problem code per field (never the input itself)."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {code}" for field, code in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class Period:
    """Open from `opens` to `closes` on a weekday (0 = Monday), in the authority's time."""

    weekday: int
    opens: dt.time
    closes: dt.time


@dataclass(frozen=True)
class Week:
    """An authority's appointments: when it opens, and how many people a slot takes."""

    periods: tuple[Period, ...]
    slot_minutes: int
    seats_per_slot: int
    priority_seats: int

    def fields(self) -> dict[str, str]:
        """The week as the form and the file write it."""
        written = {name: str(getattr(self, name)) for name in NUMBERS}
        for weekday, name in enumerate(WEEKDAYS):
            written[name] = ", ".join(
                f"{p.opens:%H:%M}-{p.closes:%H:%M}" for p in self.periods if p.weekday == weekday)
        return written


@dataclass(frozen=True)
class Closure:
    first: dt.date
    last: dt.date
    reason: str | None


def read_week(values: Mapping[str, str]) -> Week:
    """The week in `values` (the fields of Week.fields); raises Refused naming each field."""
    problems: dict[str, str] = {}
    numbers = {}
    for name, (low, high) in NUMBERS.items():
        text = ascii_digits(values.get(name, "").strip())
        if not (text.isascii() and text.isdigit() and low <= int(text) <= high):
            problems[name] = "number"
        else:
            numbers[name] = int(text)
    if {"priority_seats", "seats_per_slot"} <= numbers.keys() and (
            numbers["priority_seats"] > numbers["seats_per_slot"]):
        problems["priority_seats"] = "priority"
    periods: list[Period] = []
    for weekday, name in enumerate(WEEKDAYS):
        try:
            periods += _read_periods(weekday, values.get(name, ""), numbers.get("slot_minutes"))
        except ValueError as problem:
            problems[name] = str(problem)
    if problems:
        raise Refused(problems)
    return Week(tuple(periods), **numbers)


def _read_periods(weekday: int, text: str, slot_minutes: int | None) -> list[Period]:
    """A weekday's periods, in order; ValueError(code) when they cannot be taken."""
    words = _SEPARATORS.split(_DASHES.sub("-", ascii_digits(text).strip()))
    periods = []
    for word in filter(None, words):
        found = _PERIOD.match(word)
        if not found:
            raise ValueError("times")
        opens_h, opens_m, closes_h, closes_m = (int(part or 0) for part in found.groups())
        if max(opens_h, closes_h) > 23 or max(opens_m, closes_m) > 59:
            raise ValueError("times")
        periods.append(Period(weekday, dt.time(opens_h, opens_m), dt.time(closes_h, closes_m)))
    periods.sort(key=lambda period: period.opens)
    if any(period.opens >= period.closes for period in periods):
        raise ValueError("order")
    if slot_minutes is not None and any(
            _minutes(period.closes) - _minutes(period.opens) < slot_minutes for period in periods):
        raise ValueError("short")
    if any(earlier.closes > later.opens for earlier, later in pairwise(periods)):
        raise ValueError("overlap")  # two slots would begin at one time
    return periods


def _minutes(time: dt.time) -> int:
    return time.hour * 60 + time.minute


def read_closure(values: Mapping[str, str], today: dt.date) -> Closure:
    """A closure from its first day, last day (empty: the first) and reason."""
    problems: dict[str, str] = {}
    first = read_date(values.get("first", ""))
    last = read_date(values.get("last", "")) if values.get("last", "").strip() else first
    reason = " ".join(values.get("reason", "").split())
    if first is None:
        problems["first"] = "date"
    elif first < today:
        problems["first"] = "past"
    if last is None:
        problems["last"] = "date"
    elif first is not None and last < first:
        problems["last"] = "before"
    elif first is not None and last - first >= LONGEST_CLOSURE:
        problems["last"] = "long"
    if not reason:
        problems["reason"] = "reason"
    elif len(reason) > REASON_LENGTH:
        problems["reason"] = "reason_long"
    if problems:
        raise Refused(problems)
    assert first is not None and last is not None  # noqa: S101 - refused above otherwise
    return Closure(first, last, reason)


def read_date(text: str) -> dt.date | None:
    """A day as a date field sends it (2026-12-24) or as typed in Germany (24.12.2026)."""
    text = ascii_digits(text.strip())
    german = _GERMAN_DATE.match(text)
    if german:
        text = f"{german.group(3)}-{int(german.group(2)):02d}-{int(german.group(1)):02d}"
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def label(field: str) -> str:
    """The field's name in the current locale (a weekday's as the locale names it)."""
    if field in WEEKDAYS:
        return str(get_day_names("wide", locale=get_locale())[WEEKDAYS.index(field)])
    return str(_LABELS[field])


def explain(field: str, code: str) -> str:
    """What is wrong with a field, naming it, in the current locale."""
    if code == "number":
        low, high = NUMBERS[field]
        problem = _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high)
    else:
        problem = str(_PROBLEMS[code])
    # Translators: a form field's name, then what is wrong with it.
    return str(_("%(field)s: %(problem)s", field=label(field), problem=problem))
