"""The households bench/scale.py seeds: 1-6 persons (SIZES), Ukrainian (Latin and Cyrillic
names), Syrian and Afghan (Arabic script) and third-country nationals (GROUPS), each made from
a template validated once (`templates`) and varied by a seeded random generator
(`Households`): names, dates of birth, documents, postal code, contact."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

from scale_names import AR_FAMILY, AR_GIVEN, OTHER, UA_ENDS, UA_GIVEN, UA_STEMS

from intake.dataset import domain
from intake.dataset.schemas import HouseholdSchema

SIZES = {1: 0.30, 2: 0.25, 3: 0.20, 4: 0.13, 5: 0.08, 6: 0.04}
GROUPS = {"ua": (0.74, "uk", "UA", "Kyiv"), "sy": (0.08, "ar", "SY", "Aleppo"),
          "af": (0.06, "fa", "AF", "Kabul"), "other": (0.12, "en", None, "Kharkiv")}
ROLES = ("applicant", "spouse", "child", "child", "child", "child")


def template_json(group: str, size: int) -> dict[str, Any]:
    """A household as a partner sends it, validated once by HouseholdSchema per template."""
    _share, language, nationality, place = GROUPS[group]
    country = nationality or "NG"
    persons = []
    for position in range(size):
        role = ROLES[position]
        persons.append({
            "role": role, "family_name": "Template", "given_names": "Template",
            "sex": "female" if position % 2 == 0 else "male",
            "date_of_birth": "1990-05-01" if role != "child" else "2015-03-14",
            "place_of_birth": place, "country_of_birth": country, "nationalities": [country],
            "eligibility": {"lived_in_ukraine": True, "status_in_ukraine":
                            None if country == "UA" else "international_protection"},
            **({"marital_status": "married"} if role != "child" else {}),
            **({"document": {"type": "passport", "number": "FE123456",
                             "issuing_country": country}} if role != "child" else {}),
        })
    return {"language": language, "consent": {"data_processing": True}, "postal_code": "14467",
            "entry_date": "2026-11-20",
            "address": {"street": "Friedrich-Ebert-Str.", "house_number": "79",
                        "postal_code": "14467", "city": "Potsdam"},
            "contact": {"email": "family@example.org", "phone": "+4915112345678"},
            "persons": persons}


def templates() -> dict[tuple[str, int], domain.Household]:
    schema = HouseholdSchema()
    return {(group, size): schema.load(template_json(group, size))
            for group in GROUPS for size in SIZES}


class Households:
    """Varied households from the templates: names, dates, documents, postal code, contact."""

    def __init__(self, rng: random.Random, shapes: dict[tuple[str, int], domain.Household],
                 routes: list[tuple[str, domain.Authority]], weights: list[float]) -> None:
        self.rng, self.shapes, self.routes, self.weights = rng, shapes, routes, weights

    def make(self) -> tuple[domain.Household, domain.Authority, str]:
        rng = self.rng
        group = rng.choices(list(GROUPS), [share for share, *_ in GROUPS.values()])[0]
        size = rng.choices(list(SIZES), list(SIZES.values()))[0]
        code, authority = rng.choices(self.routes, self.weights)[0]
        country = GROUPS[group][2] or rng.choice(list(OTHER))
        family = self._family(group, country)
        persons = tuple(self._person(person, group, country, family)
                        for person in self.shapes[group, size].persons)
        base = self.shapes[group, size]
        email = f"{family[0].lower().replace(' ', '')}{rng.randrange(10**6)}@example.org"
        household = dataclasses.replace(
            base, postal_code=code, persons=persons,
            address=dataclasses.replace(base.address, postal_code=code,  # type: ignore[arg-type]
                                        house_number=str(rng.randrange(1, 200))),
            contact=domain.Contact(email if rng.random() < 0.5 else None,
                                   f"+49151{rng.randrange(10**7, 10**8)}"))
        return household, authority, group

    def _family(self, group: str, country: str) -> tuple[str, str | None]:
        if group == "ua":
            (stem, stem_c), (end, end_c) = self.rng.choice(UA_STEMS), self.rng.choice(UA_ENDS)
            return stem + end, stem_c + end_c
        if group in ("sy", "af"):
            return self.rng.choice(AR_FAMILY)
        return self.rng.choice(OTHER[country][0]), None

    def _person(self, person: domain.Person, group: str, country: str,
                family: tuple[str, str | None]) -> domain.Person:
        rng = self.rng
        sex = rng.choice(("female", "male"))
        if group == "ua":
            given, given_native = rng.choice(UA_GIVEN[sex])
        elif group in ("sy", "af"):
            given, given_native = rng.choice(AR_GIVEN[sex])
        else:
            given, given_native = rng.choice(OTHER[country][1][sex]), None
        child = person.role == "child"
        year = rng.randrange(2008, 2026) if child else rng.randrange(1950, 2004)
        born = domain.PartialDate(year, rng.randrange(1, 13), rng.randrange(1, 29))
        document = person.document and dataclasses.replace(
            person.document, number=f"{'FE' if group == 'ua' else 'N'}{rng.randrange(10**7):07d}",
            issuing_country=country)
        nationalities = (country,) if person.nationalities != (country,) else person.nationalities
        return dataclasses.replace(
            person, family_name=family[0], given_names=given, family_name_native=family[1],
            given_names_native=given_native, sex=sex, date_of_birth=born, document=document,
            nationalities=nationalities, country_of_birth=country)
