"""The person parts of OZG.Antrag.130101: angabenZurPerson, antragstellerVertreter and
referenzperson (who represents whom, and how members relate: intake.dataset.family)."""

from __future__ import annotations

from collections.abc import Sequence

from intake.dataset.domain import Household, PartialDate, Person
from intake.dataset.family import Representation
from intake.xaus.codes import (
    FAMILIAERE_BEZIEHUNG,
    FAMILIENSTAND,
    GESCHLECHT,
    STAATSANGEHOERIGKEIT,
    STAATSGEBIET,
    TERRITORY_KEYS,
    VERTRETUNGSART,
)
from intake.xaus.elements import code, contact_channels, name, postal_address
from intake.xaus.enclosures import (
    Enclosure,
    carries_identity_document,
    write_identity_document,
)
from intake.xaus.writer import Writer

MAX_NATIONALITIES = 4  # the schema's maxOccurs for staatsangehoerigkeit


def write_person(
    out: Writer,
    person: Person,
    household: Household,
    *,
    with_contact: bool,
    minor: bool,
    visa_free: str | None = None,
    pages: Sequence[Enclosure] = (),
) -> bool:
    """Write xa:angabenZurPerson (OZG.Person) for one member of the household; `visa_free`,
    why no residence title is needed yet (xa:aufenthaltsdokument/xa:visumsfreieEinreise);
    `pages`, the person's document pages. Whether xa:ausweisdokument carried the pages."""
    if not 1 <= len(person.nationalities) <= MAX_NATIONALITIES:
        count = len(person.nationalities)
        raise ValueError(f"1 to {MAX_NATIONALITIES} nationalities, not {count}")
    # A minor whose marital status nobody gave is single (LD), not "not known" (NB).
    marital_status = "single" if minor and person.marital_status == "unknown" else (
        person.marital_status
    )
    with out.element("xa:angabenZurPerson"):
        name(out, "xa:vorname", person.given_names)
        name(out, "xa:familienname", person.family_name)
        _sex(out, person.sex)
        _birth(out, person)
        code(out, "xa:familienstand", FAMILIENSTAND, marital_status, within="xa:familienstand")
        for nationality in person.nationalities:
            _state(out, "xa:staatsangehoerigkeit", nationality)
        if household.address is not None:
            postal_address(out, "xa:anschrift", household.address)
        if with_contact:
            contact_channels(out, "xa:kommunikation", household.contact)
        if visa_free:
            out.leaf("xa:visumsfreieEinreise", visa_free, within="xa:aufenthaltsdokument")
        if pages and carries_identity_document(person.document):
            assert person.document is not None  # noqa: S101 - what carries_... asked
            write_identity_document(out, person.document, pages)
            return True
    return False


def write_representative(
    out: Writer, representation: Representation, household: Household
) -> None:
    """Write xa:antragstellerVertreter: the member who represents a minor, and how."""
    adult = representation.representative
    assert adult is not None and representation.kind is not None  # noqa: S101 - by contract
    with out.element("xa:antragstellerVertreter"):
        code(out, "xa:vertretungsart", VERTRETUNGSART, representation.kind)
        name(out, "xa:vorname", adult.given_names)
        name(out, "xa:familienname", adult.family_name)
        if household.address is not None:
            postal_address(out, "xa:anschrift", household.address, building=True)
        contact_channels(out, "xa:kommunikation", household.contact)
        _sex(out, adult.sex)
        birth = adult.date_of_birth
        # xida:Tagesdatum has no partial form: a partly known date is left out, not guessed.
        if birth is not None and birth.day is not None:
            out.leaf("xa:tagDerGeburt", str(birth))


def write_reference_person(out: Writer, applicant: Person, relationship: str) -> None:
    """Write xa:referenzperson: the applicant, and what this member is to them."""
    with out.element("xa:referenzperson"):
        name(out, "xa:vorname", applicant.given_names)
        name(out, "xa:familienname", applicant.family_name)
        _birth(out, applicant)
        for nationality in applicant.nationalities:
            _state(out, "xa:staatsangehoerigkeit", nationality)
        code(out, "xa:familiaereBeziehung", FAMILIAERE_BEZIEHUNG, relationship)


def _sex(out: Writer, sex: str) -> None:
    code(out, "xa:geschlecht", GESCHLECHT, sex, within="xa:geschlecht")


def _state(out: Writer, tag: str, country: str) -> None:
    """Write an AngabenZumStaat: the Destatis key of an ISO country (or stateless/unknown)."""
    code(out, "xa:staatsangehoerigkeit", STAATSANGEHOERIGKEIT, country, within=tag)


def _place_of_birth_state(out: Writer, country: str) -> None:
    """geburtsortStaat: the state, and the territory where the Destatis list gives it its
    own key (a birth on the Cook Islands: New Zealand 536, Cook Islands 527)."""
    with out.element("xa:geburtsortStaat"):
        code(out, "xa:staatsangehoerigkeit", STAATSANGEHOERIGKEIT, country)
        if country in TERRITORY_KEYS:
            code(out, "xa:staatsgebiet", STAATSGEBIET, country)


def _birth(out: Writer, person: Person) -> None:
    with out.element("xa:geburt"):
        if person.place_of_birth is None:
            out.leaf("xa:unbekannt", "true", within="xa:geburtsort")
        else:
            out.leaf("xa:ort", person.place_of_birth, within="xa:geburtsort")
        if person.country_of_birth is not None:
            _place_of_birth_state(out, person.country_of_birth)
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
