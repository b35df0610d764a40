"""What every page shows alike: language, direction, localized names of codes and dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from babel.dates import format_date, get_month_names
from flask import Flask
from flask_babel import format_datetime, format_time, get_locale
from flask_babel import lazy_gettext as _l

from intake import booking, domain, territories
from intake.i18n import LANGUAGES, NATIVE_NAMES, direction

ROLE_NAMES = {
    "applicant": _l("Applicant"),
    "spouse": _l("Spouse or partner"),
    "child": _l("Child"),
    "other_relative": _l("Other relative"),
}
SEX_NAMES = {
    "female": _l("female"),
    "male": _l("male"),
    "diverse": _l("diverse"),
    "unspecified": _l("not specified"),
}


def language() -> str:
    return str(get_locale() or "en")


def partial_date(value: str | None) -> str:
    """A date as far as it is known, in the page's language (year; month and year; full)."""
    if value is None:
        return str(_l("unknown"))
    known = domain.PartialDate.parse(value)
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


def local_time(moment: dt.datetime) -> str:
    """A time of day at the authority (Europe/Berlin), in the page's language."""
    return str(format_time(booking.aware(moment), "short"))


def local_datetime(moment: dt.datetime) -> str:
    return str(format_datetime(booking.aware(moment), "EEEE, d MMMM y, HH:mm"))


def page_globals() -> dict[str, Any]:
    lang = language()
    return {
        "lang": lang,
        "dir": direction(lang),
        "languages": LANGUAGES,
        "native_names": NATIVE_NAMES,
        "countries": territories.choices(lang),
        "month_names": get_month_names("wide", locale=lang),
        "role_names": ROLE_NAMES,
        "sex_names": SEX_NAMES,
    }


def init_app(app: Flask) -> None:
    app.context_processor(page_globals)
    app.add_template_filter(partial_date, "partial_date")
    app.add_template_filter(country, "country")
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(local_datetime, "local_datetime")
