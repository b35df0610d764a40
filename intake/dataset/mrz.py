"""Passport machine-readable zones (ICAO Doc 9303, TD3 and TD1) read and checked digit by digit.

No library is used for the reading itself: the one on PyPI made for it (`mrz`) has had no release
since 2020, and the rest read MRZ from images (OCR). The format is small and fixed, so the field
positions and check digits below are written from Doc 9303 Parts 3 to 5 and tested with the
specimens printed there. Country codes go through `pycountry` (ISO 3166-1).

Dates in an MRZ have two-digit years. A date of birth takes the century that does not put it in
the future; an expiry takes the one that puts it within 50 years of today either way, so an
expired passport (still proof of identity) reads as expired rather than a century ahead.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pycountry

from intake.dataset.domain import STATELESS, UNKNOWN, Document, PartialDate

# Fields an MrzError can name, so that the form can point at the part that is wrong.
FIELDS = ("document_number", "date_of_birth", "expiry", "optional_data", "composite", "format")
# The sex field: ICAO's "<" is "unspecified"; some states print the VIZ's "X" there too, and
# ICAO defines X as unspecified as well (it is not the German civil-status "diverse").
_SEXES = {"F": "female", "M": "male", "<": "unspecified", "X": "unspecified"}
# MRZ codes that are not ISO 3166-1 alpha-3 (Doc 9303 Part 3, section 5).
_SPECIAL_CODES = {
    "D": "DE",  # Germany writes "D<<"
    # British nationals who are not British citizens: overseas territories citizens, nationals
    # (overseas), overseas citizens, protected persons, subjects.
    "GBD": "GB",
    "GBN": "GB",
    "GBO": "GB",
    "GBP": "GB",
    "GBS": "GB",
    "XXA": STATELESS,  # stateless person (1954 Convention)
    "XXX": UNKNOWN,  # nationality unspecified
}
# Stateless persons and refugees (Doc 9303 Part 3, 5): their "passports" are travel
# documents (1951 and 1954 Conventions).
_TRAVEL_DOCUMENT_HOLDERS = frozenset(("XXA", "XXB", "XXC"))
_CHECK_WEIGHTS = (7, 3, 1)
_CHARACTERS = re.compile(r"[0-9A-Z<]+")


class MrzError(ValueError):
    """An MRZ that does not read: `field` (one of FIELDS) names where, `reason` says what.

    Reasons: "check_digit", "date", "characters", "layout", "document_code", "sex", "country".
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(field, reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Mrz:
    """What a machine-readable zone says, every check digit verified."""

    document_type: str  # the document code without fillers: "P", "PD", "I", "ID" ...
    issuing_state: str  # as in the MRZ: "UKR", "D", "UTO"
    family_name: str | None  # the primary identifier, None where the MRZ has none
    given_names: str | None  # the secondary identifier, None where the MRZ has none
    document_number: str
    nationality: str  # as in the MRZ; country_code() turns it into the dataset's value
    date_of_birth: PartialDate | None  # None when the MRZ leaves the year unknown
    sex: str  # "female", "male" or "unspecified"
    expiry: dt.date
    lines: tuple[str, ...]  # the lines as read, upper case, without surrounding whitespace

    def document(self) -> Document:
        """The domain document this MRZ describes: a travel document for a stateless person or
        a refugee (nationality XXA, XXB, XXC: Ausweisart 03, not a national passport), a
        passport for other "P" codes, else "other"."""
        issuing = country_code(self.issuing_state)
        if self.nationality.strip("<") in _TRAVEL_DOCUMENT_HOLDERS:
            kind = "travel_document"
        else:
            kind = "passport" if self.document_type.startswith("P") else "other"
        return Document(
            type=kind,
            number=self.document_number,
            issuing_country=issuing if issuing not in (STATELESS, UNKNOWN) else None,
            valid_until=self.expiry,
        )


def country_code(code: str) -> str | None:
    """The dataset's value for an MRZ state code: alpha-2, STATELESS or UNKNOWN; else None.

    None stands for codes that name no country: organisations (UNO, EUE ...), refugees (XXB,
    XXC), Kosovo (RKS, no ISO 3166-1 code) and fictitious states such as the specimens' UTO.
    """
    code = code.strip("<").upper()
    if code in _SPECIAL_CODES:
        return _SPECIAL_CODES[code]
    country = pycountry.countries.get(alpha_3=code) if len(code) == 3 else None
    return country.alpha_2 if country is not None else None


def parse(text: str, today: dt.date) -> Mrz:
    """Read a TD3 (2 x 44) or TD1 (3 x 30) MRZ; raise MrzError naming the first field that fails.

    Accepts surrounding whitespace, lower case, and the lines separated by line breaks or
    written one after the other.
    """
    lines = _split(text)
    if len(lines) == 2:
        return _parse_td3(lines, today)
    return _parse_td1(lines, today)


def _split(text: str) -> tuple[str, ...]:
    lines = [line.strip() for line in text.upper().splitlines() if line.strip()]
    if len(lines) == 1:  # concatenated: the length tells the format
        joined = lines[0]
        width = {88: 44, 90: 30}.get(len(joined))
        if width is None:
            raise MrzError("format", "layout")
        lines = [joined[start : start + width] for start in range(0, len(joined), width)]
    if [len(line) for line in lines] not in ([44, 44], [30, 30, 30]):
        raise MrzError("format", "layout")
    if not all(_CHARACTERS.fullmatch(line) for line in lines):
        raise MrzError("format", "characters")
    return tuple(lines)


def _parse_td3(lines: tuple[str, ...], today: dt.date) -> Mrz:
    first, second = lines
    if first[0] != "P":  # 44-character visas (MRV-A) have a second line of another layout
        raise MrzError("format", "document_code")
    _verify(second[0:9], second[9], "document_number")
    _verify_dates(second[13:20], second[21:28])
    _verify(second[28:42], second[42], "optional_data", blank_allowed=True)
    _verify(second[0:10] + second[13:20] + second[21:43], second[43], "composite")
    return _read(
        lines,
        today,
        code=first[0:2],
        state=first[2:5],
        name=first[5:44],
        number=second[0:9],
        nationality=second[10:13],
        birth=second[13:19],
        sex=second[20],
        expiry=second[21:27],
    )


def _parse_td1(lines: tuple[str, ...], today: dt.date) -> Mrz:
    first, second, third = lines
    if first[0] not in "ACI":
        raise MrzError("format", "document_code")
    number, digit = first[5:14], first[14]
    if digit == "<" and first[15] != "<":
        # A number longer than nine characters goes on in the optional data, ended by its check
        # digit and a filler; that check digit covers the whole number.
        rest = first[15:30].split("<", 1)[0]
        if len(rest) < 2:
            raise MrzError("document_number", "layout")
        number, digit = number + rest[:-1], rest[-1]
    _verify(number, digit, "document_number")
    _verify_dates(second[0:7], second[8:15])
    _verify(first[5:30] + second[0:7] + second[8:15] + second[18:29], second[29], "composite")
    return _read(
        lines,
        today,
        code=first[0:2],
        state=first[2:5],
        name=third,
        number=number,
        nationality=second[15:18],
        birth=second[0:6],
        sex=second[7],
        expiry=second[8:14],
    )


def _read(
    lines: tuple[str, ...],
    today: dt.date,
    *,
    code: str,
    state: str,
    name: str,
    number: str,
    nationality: str,
    birth: str,
    sex: str,
    expiry: str,
) -> Mrz:
    """Turn the fields, their check digits verified, into an Mrz."""
    family_name, given_names = _names(name)
    return Mrz(
        document_type=code.rstrip("<"),
        issuing_state=_state(state),
        family_name=family_name,
        given_names=given_names,
        document_number=number.rstrip("<"),
        nationality=_state(nationality),
        date_of_birth=_birth(birth, today),
        sex=_sex(sex),
        expiry=_expiry(expiry, today),
        lines=lines,
    )


def _check_digit(data: str) -> str:
    # Doc 9303 Part 3, 4.9: digits count as themselves, A to Z as 10 to 35, the filler as 0.
    values = (0 if char == "<" else int(char, 36) for char in data)
    total = sum(value * _CHECK_WEIGHTS[index % 3] for index, value in enumerate(values))
    return str(total % 10)


def _verify(data: str, digit: str, field: str, blank_allowed: bool = False) -> None:
    # An unused optional data field may carry the filler or zero as its check digit.
    if blank_allowed and data.strip("<") == "" and digit in "<0":
        return
    if digit != _check_digit(data):
        raise MrzError(field, "check_digit")


def _verify_dates(birth: str, expiry: str) -> None:
    _verify(birth[:6], birth[6], "date_of_birth")
    _verify(expiry[:6], expiry[6], "expiry")


def _names(field: str) -> tuple[str | None, str | None]:
    if any(char.isdigit() for char in field):
        raise MrzError("format", "characters")
    primary, _, secondary = field.partition("<<")
    return _words(primary), _words(secondary)


def _words(part: str) -> str | None:
    return " ".join(word for word in part.split("<") if word) or None


def _state(field: str) -> str:
    code = field.rstrip("<")
    if not code.isalpha():
        raise MrzError("format", "country")
    return code


def _sex(char: str) -> str:
    if char not in _SEXES:
        raise MrzError("format", "sex")
    return _SEXES[char]


def _birth(field: str, today: dt.date) -> PartialDate | None:
    """The date of birth; unknown parts ("<<", or "00" for month and day) are left out."""
    year, month, day = (field[i : i + 2] for i in (0, 2, 4))
    if year == "<<":
        return None
    known = [part for part in (month, day) if part not in ("<<", "00")]
    if not year.isdigit() or not all(part.isdigit() for part in known):
        raise MrzError("date_of_birth", "date")
    parts = [int(year), *(int(part) for part in known)]
    if month in ("<<", "00"):
        parts = parts[:1]  # a day without its month says nothing
    try:
        date = PartialDate(2000 + parts[0], *parts[1:])
        if date.earliest() > today:
            date = PartialDate(1900 + parts[0], *parts[1:])
        date.earliest()  # a full date checks the day of the month
    except ValueError:
        raise MrzError("date_of_birth", "date") from None
    return date


def _expiry(field: str, today: dt.date) -> dt.date:
    if not field.isdigit():
        raise MrzError("expiry", "date")
    earliest = today.year - 49
    year = earliest + (int(field[:2]) - earliest) % 100
    try:
        return dt.date(year, int(field[2:4]), int(field[4:6]))
    except ValueError:
        raise MrzError("expiry", "date") from None
