"""Domain objects: what a registration is, independent of web, storage and XML.

Schemas build these (post_load), use cases store them, the XAusländer builder reads them.
They are frozen so that one validated household cannot change on its way through.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

ROLES = ("applicant", "spouse", "child", "parent", "other_relative")
SEXES = ("female", "male", "diverse", "unspecified")
MARITAL_STATUSES = ("single", "married", "divorced", "widowed", "civil_partnership", "unknown")
DOCUMENT_TYPES = ("passport", "travel_document", "other")
# What a person who is not Ukrainian held in Ukraine on 24 February 2022 (eligibility.py).
STATUSES_IN_UKRAINE = ("international_protection", "permanent_residence", "other")
# Special values allowed in place of ISO 3166-1 alpha-2 codes in `nationalities`.
STATELESS = "stateless"
UNKNOWN = "unknown"


_NOT_A_DATE = "not a date as YYYY-MM-DD, YYYY-MM or YYYY"


@dataclass(frozen=True)
class PartialDate:
    """A date of birth as far as it is known: a year, a year and month, or a full date."""

    year: int
    month: int | None = None
    day: int | None = None

    def __str__(self) -> str:
        parts = [f"{self.year:04d}"]
        if self.month is not None:
            parts.append(f"{self.month:02d}")
            if self.day is not None:
                parts.append(f"{self.day:02d}")
        return "-".join(parts)

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        """Parse `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (years 0001-9999, as XÖV's date types
        carry them, digits 0-9 only); raises ValueError for anything else, which does not
        quote the text (it may be a person's date of birth, and errors reach logs)."""
        pieces = text.split("-")
        if not 1 <= len(pieces) <= 3 or not all(p.isascii() and p.isdigit() for p in pieces):
            raise ValueError(_NOT_A_DATE)
        if len(pieces[0]) != 4 or any(len(p) != 2 for p in pieces[1:]):
            raise ValueError(_NOT_A_DATE)
        numbers = [int(p) for p in pieces]
        if numbers[0] == 0:
            raise ValueError(_NOT_A_DATE)
        if len(numbers) == 3:
            try:
                dt.date(*numbers)  # validates the day of the month
            except ValueError:
                raise ValueError(_NOT_A_DATE) from None
        elif len(numbers) == 2 and not 1 <= numbers[1] <= 12:
            raise ValueError(_NOT_A_DATE)
        return cls(*numbers)

    def earliest(self) -> dt.date:
        """The first day this partial date may stand for (for "not in the future" checks)."""
        return dt.date(self.year, self.month or 1, self.day or 1)

    def latest(self) -> dt.date:
        """The last day this partial date may stand for (nobody comes of age too early)."""
        if self.day is not None:
            return dt.date(self.year, self.month or 1, self.day)
        if self.month is None:
            return dt.date(self.year, 12, 31)
        following = dt.date(self.year + self.month // 12, self.month % 12 + 1, 1)
        return following - dt.timedelta(days=1)


@dataclass(frozen=True)
class Document:
    """A person's identity document. XAusländer's ausweisdokument needs both `valid_from`
    (the date of issue, which the API takes and the form does not ask yet) and
    `valid_until` (from the machine-readable lines, or the API)."""

    type: str
    number: str
    issuing_country: str | None = None
    valid_until: dt.date | None = None
    valid_from: dt.date | None = None


@dataclass(frozen=True)
class Eligibility:
    """What temporary protection (§ 24 AufenthG) rests on, as the person answered: whether they
    lived in Ukraine on 24 February 2022 and, if not Ukrainian, their status there."""

    lived_in_ukraine: bool
    status_in_ukraine: str | None = None


@dataclass(frozen=True)
class Address:
    street: str
    house_number: str | None
    postal_code: str
    city: str


@dataclass(frozen=True)
class Contact:
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Person:
    """One member of a household.

    `family_name` / `given_names` are None exactly when the person has none (the form's
    `no_family_name` / `no_given_name`). Names are in Latin script as in the passport.
    `date_of_birth` and `place_of_birth` are None when unknown. `nationalities` holds ISO
    3166-1 alpha-2 codes, or the single value STATELESS or UNKNOWN.
    """

    role: str
    family_name: str | None
    given_names: str | None
    sex: str
    date_of_birth: PartialDate | None
    place_of_birth: str | None
    country_of_birth: str | None
    nationalities: tuple[str, ...]
    marital_status: str = "unknown"
    family_name_native: str | None = None
    given_names_native: str | None = None
    document: Document | None = None
    # None: not asked (an API request without the answers, or one from before the question).
    eligibility: Eligibility | None = None

    @property
    def is_minor_role(self) -> bool:
        return self.role == "child"

    @property
    def listed_name(self) -> str:
        """ "Family, Given", as the desk lists people; a dash for a name the person lacks."""
        return f"{self.family_name or '–'}, {self.given_names or '–'}"


@dataclass(frozen=True)
class Household:
    """A whole registration: 1 to 12 persons, the applicant first."""

    language: str
    postal_code: str
    persons: tuple[Person, ...]
    address: Address | None = None
    # The municipality (AGS) of the place chosen, where the postal code reaches into places
    # served by different authorities; None where it was not asked.
    municipality_key: str | None = None
    entry_date: dt.date | None = None
    contact: Contact | None = None
    remarks: str | None = None
    consent_data_processing: bool = True

    @property
    def applicant(self) -> Person:
        return self.persons[0]


@dataclass(frozen=True)
class Authority:
    """An Ausländerbehörde as the directory knows it (key from the official ABH list)."""

    key: str
    name: str
    postal_codes: tuple[str, ...] = ()
    address: Address | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Sender:
    """This service as the author of messages (configurable per deployment)."""

    key: str
    name: str
    email: str
    address: Address
    directory: str = "DVDV"  # Verzeichnisdienst code
