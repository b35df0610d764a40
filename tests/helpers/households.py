"""Hypothesis strategies for households of every shape the dataset allows."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from intake.dataset.domain import (
    DOCUMENT_TYPES,
    MARITAL_STATUSES,
    SEXES,
    STATELESS,
    UNKNOWN,
    Address,
    Contact,
    Document,
    Household,
    PartialDate,
    Person,
)
from intake.xaus.codes import NATIONALITY_KEYS
from tests.helpers.xaus import APPLICATION_DATE

# Latin letters DIN 91379 datatypeC accepts, with diacritics and both apostrophes.
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzÄÖÜäöüßÉéÈèÇçÑñŁłŞşČčŠšŽžŐőİıĞğÅåØø"


NAME_CHARS = LETTERS + "'’- "


# Characters the writer must escape; DIN 91379 allows them all.
MARKUP = "&<>\"'"


COUNTRIES = sorted(NATIONALITY_KEYS)


def text(chars: str, max_size: int) -> st.SearchStrategy[str]:
    """Non-blank text that starts with a letter."""
    return st.builds(str.__add__, st.sampled_from(LETTERS), st.text(chars, max_size=max_size))


names = st.none() | text(NAME_CHARS, 30)


countries = st.sampled_from(COUNTRIES)


days = st.dates(dt.date(1925, 1, 1), APPLICATION_DATE)


partial_dates = st.none() | days.flatmap(
    lambda d: st.sampled_from(
        [PartialDate(d.year), PartialDate(d.year, d.month), PartialDate(d.year, d.month, d.day)]
    )
)


nationalities = (
    st.lists(countries, min_size=1, max_size=4, unique=True).map(tuple)
    | st.just((STATELESS,))
    | st.just((UNKNOWN,))
)


documents = st.none() | st.builds(
    Document,
    type=st.sampled_from(DOCUMENT_TYPES),
    number=st.from_regex(r"[A-Z0-9]{6,9}", fullmatch=True),
    issuing_country=st.none() | countries,
    valid_until=st.none() | st.dates(dt.date(2026, 1, 1), dt.date(2040, 12, 31)),
)


def persons(role: st.SearchStrategy[str]) -> st.SearchStrategy[Person]:
    return st.builds(
        Person,
        role=role,
        family_name=st.none() | text(NAME_CHARS + MARKUP, 30),
        given_names=names,
        sex=st.sampled_from(SEXES),
        date_of_birth=partial_dates,
        place_of_birth=st.none() | text(NAME_CHARS, 40),
        country_of_birth=st.none() | countries,
        nationalities=nationalities,
        marital_status=st.sampled_from(MARITAL_STATUSES),
        family_name_native=st.none() | st.just("Шевченко"),
        given_names_native=st.none() | st.just("Олена"),
        document=documents,
    )


addresses = st.builds(
    Address,
    street=text(NAME_CHARS + MARKUP + ".0123456789", 40),
    house_number=st.none() | st.from_regex(r"[0-9]{0,6} ?[a-zA-Zä./-]{0,5}", fullmatch=True),
    postal_code=st.from_regex(r"[0-9]{5}", fullmatch=True),
    city=text(NAME_CHARS, 30),
)


contacts = st.builds(
    Contact,
    email=st.none() | st.emails(),
    phone=st.none() | st.from_regex(r"(\+|00|0)[1-9][0-9 ]{5,14}", fullmatch=True),
)


households = st.builds(
    Household,
    language=st.just("uk"),
    postal_code=st.just("14467"),
    municipality_key=st.none() | st.from_regex(r"[0-9]{8}", fullmatch=True),
    persons=st.builds(
        lambda first, rest: (first, *rest),
        persons(st.just("applicant")),
        st.lists(persons(st.sampled_from(["spouse", "child", "other_relative"])), max_size=11),
    ),
    address=st.none() | addresses,
    entry_date=st.none() | st.dates(dt.date(2022, 2, 24), APPLICATION_DATE),
    contact=st.none() | contacts,
    remarks=st.none() | text(NAME_CHARS + MARKUP + ".,;:!?()0123456789\n\r\t§€", 499),
)

