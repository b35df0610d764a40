"""The person parts of OZG.Antrag.130101: angabenZurPerson and antragstellerVertreter."""

from __future__ import annotations

import datetime as dt

from intake.domain import Household, PartialDate, Person
from intake.xaus.codes import FAMILIENSTAND, GESCHLECHT, STAATSANGEHOERIGKEIT, VERTRETUNGSART
from intake.xaus.elements import code, contact_channels, name, postal_address
from intake.xaus.writer import Writer

ADULT_AGE = 18
MAX_NATIONALITIES = 4  # the schema's maxOccurs for staatsangehoerigkeit


def write_person(out: Writer, person: Person, household: Household, *, with_contact: bool) -> None:
    """Write xa:angabenZurPerson (OZG.Person) for one member of the household."""
    if not 1 <= len(person.nationalities) <= MAX_NATIONALITIES:
        count = len(person.nationalities)
        raise ValueError(f"1 to {MAX_NATIONALITIES} nationalities, not {count}")
    with out.element("xa:angabenZurPerson"):
        name(out, "xa:vorname", person.given_names)
        name(out, "xa:familienname", person.family_name)
        _sex(out, person.sex)
        _birth(out, person)
        code(
            out, "xa:familienstand", FAMILIENSTAND, person.marital_status, within="xa:familienstand"
        )
        for nationality in person.nationalities:
            _state(out, "xa:staatsangehoerigkeit", nationality)
        if household.address is not None:
            postal_address(out, "xa:anschrift", household.address)
        if with_contact:
            contact_channels(out, "xa:kommunikation", household.contact)


def write_representative(out: Writer, parent: Person, household: Household) -> None:
    """Write xa:antragstellerVertreter naming a parent as legal representative (Art 2)."""
    with out.element("xa:antragstellerVertreter"):
        code(out, "xa:vertretungsart", VERTRETUNGSART, "elterlich")
        name(out, "xa:vorname", parent.given_names)
        name(out, "xa:familienname", parent.family_name)
        if household.address is not None:
            postal_address(out, "xa:anschrift", household.address)
        contact_channels(out, "xa:kommunikation", household.contact)
        _sex(out, parent.sex)
        birth = parent.date_of_birth
        # xida:Tagesdatum has no partial form: a partly known date is left out, not guessed.
        if birth is not None and birth.day is not None:
            out.leaf("xa:tagDerGeburt", str(birth))


def representative(household: Household, on: dt.date) -> Person | None:
    """The parent who represents the household's children: the applicant, else the spouse.

    Roles are relative to the applicant, so a "child" is the applicant's (and the spouse's)
    child. A parent who is provably a minor on `on` cannot represent; None when neither can.
    """
    candidates = [household.applicant] + [p for p in household.persons[1:] if p.role == "spouse"]
    return next((p for p in candidates if not _is_minor(p.date_of_birth, on)), None)


def _is_minor(birth: PartialDate | None, on: dt.date) -> bool:
    # Provably a minor: under 18 even if born on the earliest day the partial date allows.
    # An unknown date of birth counts as adult; the authority checks the papers anyway.
    if birth is None:
        return False
    earliest = birth.earliest()
    coming_of_age = (earliest.year + ADULT_AGE, earliest.month, earliest.day)
    return coming_of_age > (on.year, on.month, on.day)


def _sex(out: Writer, sex: str) -> None:
    code(out, "xa:geschlecht", GESCHLECHT, sex, within="xa:geschlecht")


def _state(out: Writer, tag: str, country: str) -> None:
    """Write an AngabenZumStaat: the Destatis key of an ISO country (or stateless/unknown)."""
    code(out, "xa:staatsangehoerigkeit", STAATSANGEHOERIGKEIT, country, within=tag)


def _birth(out: Writer, person: Person) -> None:
    with out.element("xa:geburt"):
        if person.place_of_birth is None:
            out.leaf("xa:unbekannt", "true", within="xa:geburtsort")
        else:
            out.leaf("xa:ort", person.place_of_birth, within="xa:geburtsort")
        if person.country_of_birth is not None:
            _state(out, "xa:geburtsortStaat", person.country_of_birth)
        with out.element("xa:tagDerGeburt"):
            _birth_date(out, person.date_of_birth)


def _birth_date(out: Writer, birth: PartialDate | None) -> None:
    if birth is None:
        out.leaf("unbekannt", "true")
        return
    if birth.day is not None:
        precision = "jahrMonatTag"
    elif birth.month is not None:
        precision = "jahrMonat"
    else:
        precision = "jahr"
    out.leaf(precision, str(birth), within="teilbekanntesDatum")
