"""XÖV building blocks shared by header and body: texts, codes, names, addresses, channels.

Elements declared by XAusländer are qualified (`xa:`); the children of XInneres and XÖV types
(`code`, `name`, address fields, `kanal`, ...) carry no namespace (shared/xoev/NOTES.md).
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from phonenumbers import PhoneNumberType

from intake.dataset.domain import Address, Contact
from intake.xaus.codes import KANAL, CodeList
from intake.xaus.schema import InvalidMessage, code_problem, leaf_problems
from intake.xaus.writer import Segment, Writer

_HOUSE_SUFFIX_CHARS = frozenset("0123456789./ ")


def code(out: Writer, tag: str, codes: CodeList, value: str, *, within: str = "") -> None:
    """Write a code element for a domain value, naming its list and version.

    `within` names an element that wraps nothing but this code (as xa:geschlecht does).
    listURI is optional but fixed in every type used here; sending it lets validate() find
    the table for each code without knowing element paths.
    """
    out.splice(_code(tag, codes, value, within))


# A message has a dozen codes: each is recorded and checked once, then spliced. Values
# without a code raise, and are not cached, so the tables bound the cache.
@functools.lru_cache(maxsize=1024)
def _code(tag: str, codes: CodeList, value: str, within: str) -> Segment:
    sent = codes.code(value)
    problem = code_problem(codes.uri, codes.version, sent)
    if problem:
        raise InvalidMessage(f"{tag}: {problem}")
    out = Writer()
    name = codes.names.get(sent)
    if within:
        with out.element(within):
            out.code(tag, codes.uri, codes.version, sent, name)
    else:
        out.code(tag, codes.uri, codes.version, sent, name)
    problems = leaf_problems(out.leaves())  # once: spliced texts are not asked again
    if problems:
        raise InvalidMessage("\n".join(problems))
    return out.segment()


def name(out: Writer, tag: str, text: str | None) -> None:
    """Write an XInneres AllgemeinerName: the name, or nichtVorhanden when there is none."""
    if text is None:
        out.leaf("nichtVorhanden", "true", within=tag)
    else:
        out.leaf("name", text, within=tag)


_RANGE = re.compile(r"([0-9]{1,4})\s*[-/–]\s*([0-9]{1,4})")


def split_house_number(text: str) -> tuple[str | None, str | None, str | None]:
    """Split "12a" into (hausnummer "12", hausnummerBuchstabeZusatzziffer "a", None).

    What the two fields cannot hold (more than 4 digits, "12-14", ...) comes back whole as the
    third part, for zusatzangaben, so that no part of an address is lost.
    """
    text = text.strip()
    suffix = text.lstrip("0123456789")
    number = text[: len(text) - len(suffix)]
    suffix = suffix.strip()
    fits = len(number) <= 4 and len(suffix) <= 4 and not _RANGE.fullmatch(text)
    if fits and all(c.isalpha() or c in _HOUSE_SUFFIX_CHARS for c in suffix):
        return number or None, suffix or None, None
    return None, None, text


def postal_address(out: Writer, tag: str, address: Address, *, building: bool = False) -> None:
    """Write a PostalischeInlandsanschrift inside tag: its fields, in schema order.

    A `building` (Gebaeudeanschrift: the header's and a representative's addresses) carries
    a range of house numbers ("79/81", "12-14") as hausnummer and hausnummern.bis; the Basis
    type of a person's address cannot, so there the range goes whole to zusatzangaben.
    """
    house = address.house_number or ""
    span = _RANGE.fullmatch(house.strip()) if building else None
    if span:
        number, suffix, rest = span.group(1), None, None
    else:
        number, suffix, rest = split_house_number(house) if house else (None, None, None)
    with out.element(tag):
        if number:
            out.leaf("hausnummer", number)
        if suffix:
            out.leaf("hausnummerBuchstabeZusatzziffer", suffix)
        out.leaf("postleitzahl", address.postal_code)
        out.leaf("strasse", address.street)
        out.leaf("wohnort", address.city)
        if rest:
            out.leaf("zusatzangaben", f"Hausnummer {rest}")
        if span:
            out.leaf("hausnummer.bis", span.group(2), within="hausnummern.bis")


# Germany's numbering plan: every mobile number begins 015, 016 or 017 (Bundesnetzagentur),
# and German numbers are most of those given. Asked as a prefix: phonenumbers' full analysis
# was a quarter of a worker's time per message.
_GERMAN_MOBILE = ("+4915", "+4916", "+4917")
_NOT_DIALLED = re.compile(r"[^0-9+]")


def phone_kind(number: str) -> str:
    """The kind of a phone number: "mobile" when its numbering plan says so, else "landline"
    (fixed, or one that may be either, as in North America)."""
    dialled = _NOT_DIALLED.sub("", number)  # E.164 since intake; spaces in rows before it
    if dialled.startswith("+490"):  # "+49 (0)151 ...": the trunk prefix, written by habit
        dialled = "+49" + dialled[4:]
    if dialled.startswith("+49"):
        return "mobile" if dialled.startswith(_GERMAN_MOBILE) else "landline"
    try:
        parsed = phonenumbers.parse(number, "DE")  # a national number: the service's country
    except phonenumbers.NumberParseException:
        return "landline"
    return "mobile" if phonenumbers.number_type(parsed) == PhoneNumberType.MOBILE else "landline"


def channels(out: Writer, tag: str, email: str | None, phone: str | None) -> None:
    """Write one KommunikationType element per given e-mail address and phone number."""
    if email:
        _channel(out, tag, "email", email)
    if phone:
        _channel(out, tag, phone_kind(phone), phone)


def _channel(out: Writer, tag: str, kind: str, kennung: str) -> None:
    with out.element(tag):
        code(out, "kanal", KANAL, kind)
        out.leaf("kennung", kennung)


def contact_channels(out: Writer, tag: str, contact: Contact | None) -> None:
    """Write the household's contact data as KommunikationType elements."""
    if contact is not None:
        channels(out, tag, contact.email, contact.phone)
