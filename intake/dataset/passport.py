"""What a passport's machine-readable zone (MRZ) says of a person, merged with what was typed.

The MRZ is the source of truth where it is given: its check digits prove it was read right.
A field left empty is filled from it (names in the passport's visual form, "Shevchenko" for
"SHEVCHENKO", for the person to confirm); a typed value that contradicts it is an error on
both, the field and the MRZ, so that the person corrects whichever is wrong.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from intake.dataset import domain, mrz

# Translators: shown when a passport's machine-readable zone (MRZ) does not check out.
_MRZ_ERRORS = {
    "document_number": _l("The document number in the machine-readable zone does not match "
                          "its check digit. Check the lines against the passport."),
    "date_of_birth": _l("The date of birth in the machine-readable zone does not match its "
                        "check digit. Check the lines against the passport."),
    "expiry": _l("The expiry date in the machine-readable zone does not match its check "
                 "digit. Check the lines against the passport."),
    "optional_data": _l("The optional data in the machine-readable zone does not match its "
                        "check digit. Check the lines against the passport."),
    "composite": _l("The last check digit of the machine-readable zone does not match. "
                    "Check the lines against the passport."),
    "format": _l("Enter the two or three lines of the machine-readable zone at the bottom "
                 "of the passport's photo page, exactly as printed."),
}


def fill_from_mrz(person: dict[str, Any]) -> dict[str, Any]:
    """Fill a person's missing fields from `document.mrz`, every check digit verified; raise
    ValidationError on the fields that contradict it."""
    document = person.get("document")
    if not isinstance(document, dict) or "mrz" not in document:
        return person
    lines = document.get("mrz")
    try:
        if not isinstance(lines, str):
            raise mrz.MrzError("format", "layout")
        read = mrz.parse(lines, dt.date.today())
    except mrz.MrzError as error:
        raise ValidationError({"document": {"mrz": [_MRZ_ERRORS[error.field]]}}) from error
    contradictions = _contradictions(person, read)
    if contradictions:
        raise ValidationError({**contradictions, "document": {"mrz": [_MRZ_DIFFERS]}})
    filled = dict(person)
    found = {
        "family_name": _visual(read.family_name),
        "given_names": _visual(read.given_names),
        "sex": read.sex,
        "date_of_birth": None if read.date_of_birth is None else str(read.date_of_birth),
    }
    for key, value in found.items():
        filled.setdefault(key, value)
    if read.given_names is None and "given_names" not in person:
        filled["no_given_name"] = True
    nationality = mrz.country_code(read.nationality)
    if nationality and "nationalities" not in person:
        filled["nationalities"] = [nationality]
    travel_document = read.document()
    filled["document"] = {
        "type": travel_document.type,
        "number": travel_document.number,
        "issuing_country": travel_document.issuing_country,
        "valid_until": travel_document.valid_until.isoformat()
        if travel_document.valid_until
        else None,
    }
    if document.get("valid_from") is not None:  # the date of issue is not in the lines
        filled["document"]["valid_from"] = document["valid_from"]
    return filled



_MRZ_DIFFERS = _l("The machine-readable zone says otherwise than the fields marked on this "
                  "page. Check them against the passport.")


def _differs(value: str) -> Any:
    return _l("The passport's machine-readable zone says %(value)s here. Correct whichever of "
              "the two is wrong.", value=value)


def _contradictions(typed: dict[str, Any], read: mrz.Mrz) -> dict[str, Any]:
    """The typed fields the MRZ contradicts, each with the message to show there."""
    found: dict[str, Any] = {}
    for field, value in (("family_name", read.family_name), ("given_names", read.given_names)):
        if isinstance(typed.get(field), str) and value and not _same_name(typed[field], value):
            found[field] = [_differs(_visual(value) or value)]
    birth = typed.get("date_of_birth")
    if isinstance(birth, str) and read.date_of_birth is not None:
        try:
            entered = domain.PartialDate.parse(birth)
        except ValueError:
            entered = None  # the field's own check says what is wrong
        if entered is not None and not _compatible(entered, read.date_of_birth):
            found["date_of_birth"] = [_differs(str(read.date_of_birth))]
    sex = typed.get("sex")
    if isinstance(sex, str) and {sex, read.sex} == {"female", "male"}:
        found["sex"] = [_differs(read.sex)]
    nationality = mrz.country_code(read.nationality)
    nationalities = typed.get("nationalities")
    if nationality and isinstance(nationalities, list) and nationality not in nationalities:
        found["nationalities"] = [_differs(nationality)]
    return found


def _compatible(entered: domain.PartialDate, read: domain.PartialDate) -> bool:
    """Whether a typed date can be the MRZ's (a year alone fits any day of that year)."""
    return (entered.year, entered.month or read.month, entered.day or read.day) == (
        read.year, read.month, read.day
    )


# Doc 9303 Part 3, 6.A: the transliterations of letters with diacritics that the MRZ uses
# besides dropping the diacritic (Müller is MUELLER or MULLER).
_ICAO = str.maketrans({"Ä": "AE", "Ö": "OE", "Ü": "UE", "ß": "SS", "Å": "AA", "Æ": "AE",
                       "Ø": "OE", "Þ": "TH", "Ĳ": "IJ", "Œ": "OE", "Ð": "D"})


def _same_name(typed: str, read: str) -> bool:
    """Whether a typed Latin name is what the MRZ holds, which has no diacritics and may be
    cut short (its name field holds 39 characters, 30 on an ID card, family and given names
    together): a typed name that begins with the MRZ's (five letters at least) agrees."""
    for folded in (_fold(typed), _fold(typed.upper().translate(_ICAO))):
        if folded == read or (len(read) >= 5 and folded.startswith(read)):
            return True
    return False


def _fold(name: str) -> str:
    """A name as the MRZ writes it: capitals A-Z, words separated by single spaces, an
    apostrophe left out (D'Angelo is DANGELO), a hyphen a space."""
    plain = "".join(
        char for char in unicodedata.normalize("NFKD", name.upper())
        if not unicodedata.combining(char) and char not in "'’"
    )
    letters = "".join(char if "A" <= char <= "Z" else " " for char in plain)
    return " ".join(letters.split())


def _visual(name: str | None) -> str | None:
    """An MRZ name as the visual zone prints it, to propose: "SHEVCHENKO" is "Shevchenko"."""
    return None if name is None else " ".join(word.capitalize() for word in name.split())


def proposed_names(lines: str) -> tuple[str | None, str | None] | None:
    """The names an MRZ holds, as the visual zone prints them, for the person to confirm;
    None when the lines do not read (the form then says why, on the MRZ)."""
    try:
        read = mrz.parse(lines, dt.date.today())
    except mrz.MrzError:
        return None
    return _visual(read.family_name), _visual(read.given_names)
