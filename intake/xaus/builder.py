"""Build one XAusländer 26.11 OZG.Antrag.130101 message per person of a household.

Pure and deterministic: ids and the clock come in as arguments, nothing is read or written,
and the same inputs give the same bytes. The mapping, field by field, is in README.md here.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from intake.dataset import eligibility, family
from intake.dataset.domain import Address, Authority, Household, Sender
from intake.xaus import enclosures, remarks
from intake.xaus.codes import (
    ANTRAGSGRUND,
    AUFENTHALTSGRUND,
    AUTHORITY_PREFIX,
    NACHRICHTENTYP,
    STANDARD,
    VERSION,
    VERZEICHNISDIENST,
)
from intake.xaus.elements import channels, code, postal_address
from intake.xaus.enclosures import Enclosures
from intake.xaus.person import write_person, write_reference_person, write_representative
from intake.xaus.schema import (
    MAX_REPORTED,
    InvalidMessage,
    blank_texts,
    kennung_problems,
    leaf_problems,
    text_problem,
    validate,
)
from intake.xaus.writer import Attributes, Segment, Writer

ROOT = "xa:OZG.Antrag.130101"
PRODUCT = "intake"
MANUFACTURER = "intake project"



@dataclass(frozen=True)
class Envelope:
    """What a message needs beyond the household: its id, time, reader, author and test flag.

    `test` is sent as the root attribute `test` when set (free text in XAusländer);
    `product_version` as `produktversion`.
    """

    message_uuid: uuid.UUID
    created: dt.datetime
    reader: Authority
    author: Sender
    test: str | None = None
    product_version: str | None = None


def build(
    household: Household,
    index: int,
    *,
    application_ids: Sequence[str],
    envelope: Envelope,
    application_date: dt.date,
    enclosed: Enclosures = enclosures.NOTHING,
) -> bytes:
    """The UTF-8 message (with XML declaration) for household.persons[index]."""
    return render(
        household,
        index,
        application_ids=application_ids,
        envelope=envelope,
        application_date=application_date,
        schema=None,
        enclosed=enclosed,
    )


def render(
    household: Household,
    index: int,
    *,
    application_ids: Sequence[str],
    envelope: Envelope,
    application_date: dt.date,
    schema: etree.XMLSchema | None,
    enclosed: Enclosures = enclosures.NOTHING,
) -> bytes:
    """The message for household.persons[index], validated against schema, as `build` gives it.

    The same as `build_element`, `validate` and `serialize` in turn, without a tree per
    message (what a worker needs). Raises InvalidMessage as `validate` does.
    """
    out = _record(household, index, application_ids, envelope, application_date, enclosed)
    return out.render(lambda root: validate(root, schema))


def build_element(
    household: Household,
    index: int,
    *,
    application_ids: Sequence[str],
    envelope: Envelope,
    application_date: dt.date,
    enclosed: Enclosures = enclosures.NOTHING,
) -> etree._Element:
    """The message for household.persons[index], as an lxml element to validate and serialize.

    application_ids[i] is the antragsidentifikation of persons[i]; every message names the
    others as verbundenerAntrag. `enclosed`: the documents the household's messages carry
    (the person's pages in theirs only). Raises ValueError for inputs no valid message can
    carry.
    """
    return _record(
        household, index, application_ids, envelope, application_date, enclosed
    ).result()


def _record(
    household: Household,
    index: int,
    application_ids: Sequence[str],
    envelope: Envelope,
    application_date: dt.date,
    enclosed: Enclosures,
) -> Writer:
    """The recorded message, after the service's own checks (InvalidMessage)."""
    if len(application_ids) != len(household.persons):
        raise ValueError("one application id per person is needed")
    if not 0 <= index < len(household.persons):
        raise IndexError(index)
    if envelope.created.utcoffset() is None:
        raise ValueError("envelope.created must carry a time zone")
    out = Writer()
    with out.element(ROOT, _root_attributes(envelope.product_version, envelope.test)):
        _header(out, envelope)
        _body(out, household, index, application_ids, application_date, enclosed)
    problems = blank_texts(out.texts) or leaf_problems(out.leaves())
    if problems:
        raise InvalidMessage("\n".join(problems[:MAX_REPORTED]))
    return out


@functools.lru_cache(maxsize=64)
def _root_attributes(product_version: str | None, test: str | None) -> Attributes:
    values = [("produkt", PRODUCT), ("produkthersteller", MANUFACTURER)]
    if product_version:
        values.append(("produktversion", product_version))
    values.append(("standard", STANDARD))
    if test:
        values.append(("test", test))
    values.append(("version", VERSION))
    problems = [
        f"{name}: {reason}" for name, value in values if (reason := text_problem(name, value))
    ]
    if problems:
        raise InvalidMessage("\n".join(problems))
    return tuple(values)


def _header(out: Writer, envelope: Envelope) -> None:
    reader, author = envelope.reader, envelope.author
    # Keyed on the fields sent, not on the Authority: its postal codes are long to hash.
    parties, addresses = _parties_and_addresses(
        reader.key, reader.name, reader.email, reader.phone, reader.address, author
    )
    with out.element("nachrichtenkopf.g2g"):
        with out.element("identifikation.nachricht"):
            out.leaf("nachrichtenUUID", str(envelope.message_uuid))
            code(out, "nachrichtentyp", NACHRICHTENTYP, "antrag")
            out.leaf("erstellungszeitpunkt", envelope.created.isoformat(timespec="milliseconds"))
        out.splice(parties)
    out.splice(addresses)


# The same reader and author head many messages: their parts are recorded and checked once.
@functools.lru_cache(maxsize=1024)
def _parties_and_addresses(
    reader_key: str,
    reader_name: str,
    reader_email: str | None,
    reader_phone: str | None,
    reader_address: Address | None,
    author: Sender,
) -> tuple[Segment, Segment]:
    kennung = f"{AUTHORITY_PREFIX}:{reader_key}"
    problems = kennung_problems(kennung, author.key)
    if problems:
        raise InvalidMessage("\n".join(problems))
    parties = Writer()
    with parties.element("leser"):
        _party(parties, "DVDV", kennung, reader_name)
        channels(parties, "erreichbarkeit", reader_email, reader_phone)
    with parties.element("autor"):
        # Sender.key is the service's whole DVDV organisation key ("prefix:id"): the prefix
        # depends on how a deployment is registered, so it is configured, not derived.
        _party(parties, author.directory, author.key, author.name)
        channels(parties, "erreichbarkeit", author.email, None)
    addresses = Writer()
    if reader_address is not None:
        _building(addresses, "anschrift.leser", reader_address)
    _building(addresses, "anschrift.autor", author.address)
    problems = leaf_problems(parties.leaves()) + leaf_problems(addresses.leaves())
    if problems:  # checked once: spliced texts are not asked again per message
        raise InvalidMessage("\n".join(problems))
    return parties.segment(), addresses.segment()


def _party(out: Writer, directory: str, kennung: str, title: str) -> None:
    code(out, "verzeichnisdienst", VERZEICHNISDIENST, directory)
    out.leaf("kennung", kennung)
    out.leaf("name", title)


def _building(out: Writer, tag: str, address: Address) -> None:
    with out.element(tag):
        postal_address(out, "gebaeude", address, building=True)


def _body(
    out: Writer,
    household: Household,
    index: int,
    application_ids: Sequence[str],
    application_date: dt.date,
    enclosed: Enclosures,
) -> None:
    person = household.persons[index]
    pages = enclosed.pages.get(index, ())
    out.leaf("xa:antragsidentifikation", application_ids[index])
    # "true" would invite the authority to ask back (OZG.RueckkanalFrage.130102), and this
    # service receives no messages; the contact data still travels, in xa:kommunikation.
    out.leaf("xa:rueckkanalVorhanden", "false")
    out.leaf("xa:antragsdatum", application_date.isoformat())
    code(out, "xa:grundDesAntrags", ANTRAGSGRUND, "erstbeantragung")
    if household.entry_date is not None:
        out.leaf("xa:ersteinreisedatum", household.entry_date.isoformat())
    code(out, "xa:grundDesAufenthalts", AUFENTHALTSGRUND, "humanitaer")
    represented = family.representation(household, index, application_date)
    outcome = eligibility.assess(household.persons)[index]
    # The contact goes where the authority answers: to the representative of a minor,
    # to the person in every other message.
    pages_carried = write_person(
        out, person, household,
        with_contact=represented.representative is None,
        minor=family.is_minor(person, application_date),
        visa_free=remarks.VISA_FREE if outcome.verdict == "eligible" else None,
        pages=pages,
    )
    if represented.representative is not None:
        write_representative(out, represented, household)
    relationship = family.relationship(household, index, application_date)
    if relationship is not None:
        write_reference_person(out, household.applicant, relationship)
    if enclosed.summary is not None:
        enclosures.write_summary(out, enclosed.summary)
    enclosures.write_proofs(out, enclosed.proofs, "Nachweis")
    if pages and not pages_carried:
        # Without a date of issue ausweisdokument cannot be written; the pages still go.
        enclosures.write_proofs(out, enclosures.pages_as_proofs(person, pages), "Ausweisseite")
    linked = family.linked(household, index, application_date)
    parent_roles = ("applicant", "spouse") if person.role == "child" else ("parent",)
    parents = [
        (household.persons[other], application_ids[other])
        for other in linked
        if household.persons[other].role in parent_roles
    ]
    out.leaf(
        "xa:sonstigeAnmerkung", remarks.remark(person, household, represented, outcome, parents)
    )
    for other in linked:
        out.leaf("xa:verbundenerAntrag", application_ids[other])


