"""The stored form of a household: the plain JSON inside the encrypted `data` columns.

A household is validated once, on its way in (`schemas`); what was stored was valid, so it
is read back into domain objects directly. Validating it again cost the worker more than
building its messages. The form is the one `HouseholdSchema` dumps, and a test keeps the
two equal, so rows written by either are read by both.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from intake.dataset import domain


def household_document(household: domain.Household) -> dict[str, Any]:
    """The household-level fields, without the persons (each is stored in its own row)."""
    address, contact = household.address, household.contact
    return {
        "language": household.language,
        "postal_code": household.postal_code,
        "municipality_key": household.municipality_key,
        "address": None if address is None else {
            "street": address.street,
            "house_number": address.house_number,
            "postal_code": address.postal_code,
            "city": address.city,
        },
        "entry_date": _day(household.entry_date),
        "contact": None if contact is None else {"email": contact.email, "phone": contact.phone},
        "remarks": household.remarks,
        "consent": {"data_processing": household.consent_data_processing},
    }


def person_document(person: domain.Person) -> dict[str, Any]:
    document = person.document
    return {
        "role": person.role,
        "family_name": person.family_name,
        "given_names": person.given_names,
        "family_name_native": person.family_name_native,
        "given_names_native": person.given_names_native,
        "sex": person.sex,
        "date_of_birth": None if person.date_of_birth is None else str(person.date_of_birth),
        "place_of_birth": person.place_of_birth,
        "country_of_birth": person.country_of_birth,
        "nationalities": list(person.nationalities),
        "marital_status": person.marital_status,
        "document": None if document is None else {
            "type": document.type,
            "number": document.number,
            "issuing_country": document.issuing_country,
            "valid_until": _day(document.valid_until),
            "valid_from": _day(document.valid_from),
        },
        "no_family_name": person.family_name is None,
        "no_given_name": person.given_names is None,
        "eligibility": None if person.eligibility is None else {
            "lived_in_ukraine": person.eligibility.lived_in_ukraine,
            "status_in_ukraine": person.eligibility.status_in_ukraine,
        },
    }


def household(document: dict[str, Any], persons: list[dict[str, Any]]) -> domain.Household:
    """The household stored as `document` and its persons' documents."""
    address, contact = document.get("address"), document.get("contact")
    return domain.Household(
        language=document["language"],
        postal_code=document["postal_code"],
        municipality_key=document.get("municipality_key"),  # absent in rows stored before
        persons=tuple(person(each) for each in persons),
        address=None if address is None else domain.Address(
            address["street"], address.get("house_number"), address["postal_code"],
            address["city"],
        ),
        entry_date=_parse_day(document.get("entry_date")),
        contact=None if contact is None else domain.Contact(
            contact.get("email"), contact.get("phone")
        ),
        remarks=document.get("remarks"),
        consent_data_processing=bool((document.get("consent") or {}).get("data_processing")),
    )


def person(stored: dict[str, Any]) -> domain.Person:
    """A person from their stored document (also a draft's, which has the same form)."""
    document = stored.get("document")
    born = stored.get("date_of_birth")
    eligibility = stored.get("eligibility")  # absent in rows stored before it was asked
    return domain.Person(
        role=stored["role"],
        family_name=None if stored.get("no_family_name") else stored.get("family_name"),
        given_names=None if stored.get("no_given_name") else stored.get("given_names"),
        sex=stored["sex"],
        date_of_birth=None if born is None else domain.PartialDate.parse(born),
        place_of_birth=stored.get("place_of_birth"),
        country_of_birth=stored.get("country_of_birth"),
        nationalities=tuple(stored["nationalities"]),
        marital_status=stored.get("marital_status", "unknown"),
        family_name_native=stored.get("family_name_native"),
        given_names_native=stored.get("given_names_native"),
        document=None if document is None else domain.Document(
            document["type"], document["number"], document.get("issuing_country"),
            _parse_day(document.get("valid_until")), _parse_day(document.get("valid_from")),
        ),
        eligibility=None if eligibility is None else domain.Eligibility(
            eligibility["lived_in_ukraine"], eligibility.get("status_in_ukraine")
        ),
    )


def _day(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_day(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)
