"""One household's messages as the worker builds them, with a fixed envelope and date."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

from intake import xaus
from intake.dataset.domain import (
    Address,
    Authority,
    Contact,
    Document,
    Eligibility,
    Household,
    PartialDate,
    Person,
    Sender,
)
from tests.helpers import official

XA = "{http://www.osci.de/xauslaender2611}"


APPLICATION_DATE = dt.date(2026, 11, 21)


ENVELOPE = xaus.Envelope(
    message_uuid=uuid.UUID("3f2b8c1e-5d4a-4e7b-9c6d-0a1b2c3d4e5f"),
    created=dt.datetime(2026, 11, 3, 9, 41, 27, 350000, dt.timezone(dt.timedelta(hours=1))),
    reader=Authority(
        key="073400",
        name="STV Potsdam",
        address=Address("Friedrich-Ebert-Straße", "79", "14469", "Potsdam"),
        email="auslaenderbehoerde@example.org",
        phone="+49 331 2890",
    ),
    author=Sender(key="alp:intake-demo", name="intake Registrierung", email="intake@example.org",
                  address=Address("Musterstraße", "1", "10115", "Berlin")),
    test="Testnachricht",
    product_version="0.1.0",
)


def ids(household: Household) -> list[str]:
    return [f"INT-2026-{i + 1:04d}" for i in range(len(household.persons))]


def build(household: Household, index: int, envelope: xaus.Envelope = ENVELOPE) -> bytes:
    """Build one message as the worker does, validated against the official schema set where
    there is one; then parse it again and apply every check `validate` has for bytes."""
    xml = xaus.render(
        household,
        index,
        application_ids=ids(household),
        envelope=envelope,
        application_date=APPLICATION_DATE,
        schema=official.schema(),
    )
    xaus.validate(xml, official.schema())
    return xml


def person(role: str = "applicant", **changes: object) -> Person:
    base = Person(
        role=role,
        family_name="Shevchenko",
        given_names="Olena",
        sex="female",
        date_of_birth=PartialDate(1990, 5, 1),
        place_of_birth="Kyiv",
        country_of_birth="UA",
        nationalities=("UA",),
        marital_status="married",
        eligibility=Eligibility(lived_in_ukraine=True),  # as the form always asks
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def household(*persons: Person, **changes: object) -> Household:
    base = Household(language="uk", postal_code="14467", persons=persons)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


FAMILY = household(
    person(document=Document("passport", "FE123456", "UA", dt.date(2031, 4, 30))),
    person("spouse", given_names="Taras", sex="male", date_of_birth=PartialDate(1988, 2)),
    person(
        "child",
        given_names="Andrii",
        sex="male",
        date_of_birth=PartialDate(2015),
        place_of_birth=None,
        marital_status="single",
    ),
    person(
        "child",
        given_names="Sofiia",
        date_of_birth=PartialDate(2019, 3, 14),
        nationalities=("UA", "PL"),
        marital_status="single",
    ),
    address=Address("Friedrich-Ebert-Str.", "12a", "14467", "Potsdam"),
    entry_date=dt.date(2026, 11, 20),
    contact=Contact(email="olena@example.org", phone="+4915112345678"),
    remarks="Andrii braucht eine Brille; Sofiia hat eine Nussallergie.",
)


def arguments(household: Household) -> dict[str, Any]:
    return {
        "application_ids": ids(household),
        "envelope": ENVELOPE,
        "application_date": APPLICATION_DATE,
    }

