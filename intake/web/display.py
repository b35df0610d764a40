"""What every page shows alike: language, direction, localized names of codes and dates."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from babel.dates import get_month_names
from flask import Flask, g, request
from flask_babel import get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from intake.dataset import territories, wording
from intake.dataset.languages import LANGUAGES, NATIVE_NAMES, direction
from intake.dataset.wording import (
    DOCUMENT_NAMES,
    MARITAL_NAMES,
    ROLE_NAMES,
    SEX_NAMES,
    country,
    language,
    long_date,
    partial_date,
)
from intake.registrations import booking
from intake.web.links import fixed_path


def local_time(moment: dt.datetime) -> str:
    """A time of day at the authority (Europe/Berlin), in the page's language."""
    return wording.local_time(booking.aware(moment))


def local_day(moment: dt.datetime) -> str:
    """The day of a moment at the authority, in words: "Montag, 7. Dezember 2026"."""
    return wording.local_day(booking.aware(moment))


def local_datetime(moment: dt.datetime) -> str:
    """Day and time at the authority, as `wording.local_datetime` says them; SQLite's naive
    times are UTC."""
    return wording.local_datetime(booking.aware(moment))


def language_links() -> list[tuple[str, str]]:
    """The language menu: (code, link) per language, each link coming back to this page.

    Built by url_for once per language and site root, then given this page's path: six
    url_for calls with a query string were a tenth of rendering a page.
    """
    back = urlencode({"next": request.path}, safe="!$'()*,/:;?@")
    return [(code, f"{fixed_path('public.language', code=code)}?{back}") for code in LANGUAGES]


def switch_link(code: str) -> str:
    """This step's address in another language, for the language buttons that send the
    step's form (the step keeps what was typed, then shows the same page in `code`)."""
    _, _, rest = request.path.lstrip("/").partition("/")  # /<lang>/<rest>
    query = request.query_string.decode("ascii", "replace")
    return f"{request.script_root}/{code}/{rest}" + (f"?{query}" if query else "")


def page_globals() -> dict[str, Any]:
    lang = language()
    return {
        "language_links": language_links,
        "switch_link": switch_link,
        _CATALOG: get_translations(),  # the page's texts, looked up once per page
        "lang": lang,
        "dir": direction(lang),
        "native_names": NATIVE_NAMES,
        "languages": LANGUAGES,
        "countries": territories.choices(lang),
        # A month on its own (a drop-down), not in a date: "березень", not "березня".
        "month_names": get_month_names("wide", context="stand-alone", locale=lang),
        "role_names": ROLE_NAMES,
        "sex_names": SEX_NAMES,
        "marital_names": MARITAL_NAMES,
        "document_names": DOCUMENT_NAMES,
    }


_CATALOG = "_catalog"


# A page asks for a dozen texts or more; Flask-Babel's own callables find the request's
# catalog again for each (a fifth of rendering the start page). These take it from the page.
@pass_context
def _gettext(context: Context, text: str) -> str:
    return str(_catalog(context).ugettext(text))


@pass_context
def _ngettext(context: Context, singular: str, plural: str, count: int) -> str:
    return str(_catalog(context).ungettext(singular, plural, count))


@pass_context
def _pgettext(context: Context, where: str, text: str) -> str:
    return str(_catalog(context).upgettext(where, text))


@pass_context
def _npgettext(context: Context, where: str, singular: str, plural: str, count: int) -> str:
    return str(_catalog(context).unpgettext(where, singular, plural, count))


def _catalog(context: Context) -> Any:
    # Templates rendered without the page globals still get the request's catalog.
    return context.get(_CATALOG) or get_translations()


def left_to_right(value: object) -> Markup:
    """A phone number, e-mail address, reference or code kept in its own order on a
    right-to-left page: "+49 151 2345678" is not shown as "2345678 151 49+"."""
    return Markup('<bdi dir="ltr">{}</bdi>').format(value)


def warm(app: Flask) -> None:
    """Do once, before a web worker's first request, what the first page in each language
    would: compile the templates, sort the countries, load the catalogs.

    Left to the first requests, every thread of a worker started under load did it at once
    (a cache keeps one answer; it does not make the others wait for it): py-spy saw 15-20
    threads a worker sorting the countries together, seconds of a new worker's first load
    (bench/scale.py's mixed load, 2026-12-08). Here it takes ~0.7 s, before serving."""
    for name in app.jinja_env.list_templates():
        app.jinja_env.get_template(name)
    for lang in LANGUAGES:
        with app.test_request_context(f"/{lang}/"):
            g.lang = lang
            page_globals()


def init_app(app: Flask) -> None:
    app.context_processor(page_globals)
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True, pgettext=_pgettext, npgettext=_npgettext
    )
    app.add_template_filter(partial_date, "partial_date")
    app.add_template_filter(left_to_right, "ltr")
    app.add_template_filter(long_date, "long_date")
    app.add_template_filter(country, "country")
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(local_datetime, "local_datetime")
    app.add_template_filter(local_day, "local_day")
