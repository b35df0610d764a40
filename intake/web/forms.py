"""HTML form inputs <-> the dataset's JSON document (CONTRACT §4), and errors -> inputs.

Empty inputs count as missing, so the schema answers "required" rather than "invalid".
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from intake.dataset import fields, names, transliteration

Form = MultiDict[str, str]
UNKNOWN = "unknown"


def _value(form: Form, name: str) -> str | None:
    return form.get(name, "").strip() or None


def _date(form: Form, prefix: str) -> str | None:
    """`YYYY-MM-DD`, `YYYY-MM` or `YYYY` from day / month / year inputs ("unknown" allowed).

    Digits of any script are taken as 0-9; anything else is passed on as typed, for the
    schema to refuse with a message.
    """
    year, month, day = (
        names.ascii_digits(value) if value else value
        for value in (_value(form, f"{prefix}_{part}") for part in ("year", "month", "day"))
    )
    if year is None or year == UNKNOWN:
        return None
    if month in (None, UNKNOWN):
        return year
    if day in (None, UNKNOWN):
        return f"{year}-{_two_digits(month)}"
    return f"{year}-{_two_digits(month)}-{_two_digits(day)}"


def _two_digits(value: str) -> str:
    """ "7" as "07" (select options are plain numbers); other text unchanged."""
    return value.zfill(2) if value.isascii() and value.isdigit() and len(value) < 2 else value


def _date_inputs(prefix: str, value: str | None) -> dict[str, str]:
    if value is None:
        return {f"{prefix}_unknown": "yes"}
    parts = value.split("-") + [UNKNOWN] * 2
    year, month, day = parts[:3]
    # Select options are plain numbers ("7", not "07").
    return {
        f"{prefix}_year": year,
        f"{prefix}_month": month if month == UNKNOWN else str(int(month)),
        f"{prefix}_day": day if day == UNKNOWN else str(int(day)),
    }


def person_document(form: Form, role: str) -> dict[str, Any]:
    """One person of the dataset from the person step's inputs."""
    person: dict[str, Any] = {
        "role": role,
        "family_name": _value(form, "family_name"),
        "given_names": _value(form, "given_names"),
        "no_family_name": form.get("no_family_name") == "yes",
        "no_given_name": form.get("no_given_name") == "yes",
        "family_name_native": _value(form, "family_name_native"),
        "given_names_native": _value(form, "given_names_native"),
        "country_of_birth": _unless_unknown(_value(form, "country_of_birth")),
        "marital_status": _value(form, "marital_status") or "unknown",
        "nationalities": [
            code for code in (_value(form, "nationality"), _value(form, "nationality_2")) if code
        ],
    }
    if _value(form, "sex"):
        person["sex"] = _value(form, "sex")
    if form.get("birth_unknown") == "yes":
        person["date_of_birth"] = None
    elif _value(form, "birth_year"):
        person["date_of_birth"] = _date(form, "birth")
    if form.get("place_of_birth_unknown") == "yes":
        person["place_of_birth"] = None
    elif _value(form, "place_of_birth"):
        person["place_of_birth"] = _value(form, "place_of_birth")
    # The form always asks what temporary protection rests on: unanswered is an error.
    person["eligibility"] = {
        "lived_in_ukraine": {"yes": True, "no": False}.get(form.get("lived_in_ukraine", "")),
        "status_in_ukraine": _value(form, "status_in_ukraine"),
    }
    if _value(form, "mrz"):
        person["document"] = {"mrz": _value(form, "mrz")}  # the expiry is in the lines
    elif _value(form, "document_number"):
        person["document"] = {
            "type": _value(form, "document_type") or "passport",
            "number": _value(form, "document_number"),
            "valid_until": _date(form, "expiry"),
        }
    if "document" in person:
        person["document"]["valid_from"] = _date(form, "issued")
    return person


def _unless_unknown(value: str | None) -> str | None:
    return None if value == UNKNOWN else value


def unanswered(form: Form) -> dict[str, str]:
    """Questions of the person step left without an answer, which the dataset would take as
    "unknown" (no drop-down starts on an answer: a month forgotten is not "unknown"), and
    a date that does not exist; by input, as `flatten` gives errors."""
    found: dict[str, str] = {}
    problem = date_unanswered(form, "birth") if form.get("birth_unknown") != "yes" else None
    if problem:
        found["birth_day"] = problem
    if _value(form, "country_of_birth") is None:
        found["country_of_birth"] = str(_l("Choose the country of birth, or “unknown”."))
    if _value(form, "marital_status") is None:
        found["marital_status"] = str(REQUIRED["marital_status"])
    for prefix in ("issued", "expiry"):  # a document's dates are whole dates
        problem = date_unanswered(form, prefix, whole=True)
        if problem:
            found[f"{prefix}_day"] = problem
    return found


def date_unanswered(form: Form, prefix: str, whole: bool = False) -> str | None:
    """What is missing from a date's drop-downs once its year is given, or wrong with it
    (`whole`: a day and a month are needed, "unknown" is none)."""
    year, month, day = (_value(form, f"{prefix}_{part}") for part in ("year", "month", "day"))
    if year in (None, UNKNOWN):
        return None
    if whole and {month, day} & {None, UNKNOWN}:
        return str(_l("Choose the day and the month as printed in the document."))
    if month is None:
        return str(_l("Choose the month, or “unknown”."))
    if month != UNKNOWN and day is None:
        return str(_l("Choose the day, or “unknown”."))
    if month != UNKNOWN and day != UNKNOWN and not _exists(year, month, day):
        return str(_l("There is no such day: check the day and the month."))
    return None


def _exists(year: str, month: str | None, day: str | None) -> bool:
    """Whether the drop-downs' day exists in that month (31 February does not); a year
    that is not a number is the schema's to refuse."""
    try:
        dt.date(int(names.ascii_digits(year)), int(month or 1), int(day or 1))
    except ValueError:
        return not names.ascii_digits(year).isdigit()
    return True


def in_page_order(errors: dict[str, str], inputs: dict[str, str]) -> dict[str, str]:
    order = {name: position for position, name in enumerate(dict.fromkeys(inputs.values()))}
    return dict(sorted(errors.items(), key=lambda item: order.get(item[0], len(order))))


def person_inputs(person: dict[str, Any]) -> dict[str, str]:
    """The person step's inputs for a stored person (to change it)."""
    inputs = {
        key: str(person[key])
        for key in ("family_name", "given_names", "family_name_native", "given_names_native",
                    "sex", "country_of_birth", "marital_status", "role")
        if person.get(key)
    }
    for flag in ("no_family_name", "no_given_name"):
        if person.get(flag):
            inputs[flag] = "yes"
    inputs.update(_birth_inputs(person))
    for name, code in zip(
        ("nationality", "nationality_2"), person.get("nationalities", [])[:2], strict=False
    ):
        inputs[name] = code
    eligibility = person.get("eligibility") or {}
    if eligibility.get("lived_in_ukraine") is not None:
        inputs["lived_in_ukraine"] = "yes" if eligibility["lived_in_ukraine"] else "no"
    if eligibility.get("status_in_ukraine"):
        inputs["status_in_ukraine"] = eligibility["status_in_ukraine"]
    document = person.get("document") or {}
    if document.get("number"):
        inputs["document_type"] = document.get("type", "passport")
        inputs["document_number"] = document["number"]
    for prefix, key in (("issued", "valid_from"), ("expiry", "valid_until")):
        if document.get(key):
            inputs.update(_date_inputs(prefix, document[key]))
    return inputs


def _birth_inputs(person: dict[str, Any]) -> dict[str, str]:
    """Date, place and country of birth; what was answered "unknown" shown as answered."""
    inputs: dict[str, str] = {}
    if "date_of_birth" in person:
        inputs.update(_date_inputs("birth", person["date_of_birth"]))
    if "country_of_birth" in person and person["country_of_birth"] is None:
        inputs["country_of_birth"] = UNKNOWN
    if "place_of_birth" in person:
        if person["place_of_birth"] is None:
            inputs["place_of_birth_unknown"] = "yes"
        else:
            inputs["place_of_birth"] = person["place_of_birth"]
    return inputs


def address_document(form: Form) -> dict[str, Any]:
    """`postal_code`, `municipality_key` (None unless chosen) and, when any part is given,
    `address`."""
    document: dict[str, Any] = {}
    postal_code = _value(form, "postal_code")
    if postal_code:  # as digits 0-9 already: the authority is looked up by it at once
        document["postal_code"] = names.ascii_digits(postal_code)
    chosen = _value(form, "municipality_key")  # the place, where the postal code asks it
    document["municipality_key"] = names.ascii_digits(chosen) if chosen else None
    parts = {key: _value(form, key) for key in ("street", "house_number", "city")}
    if any(parts.values()):
        address: dict[str, str | None] = {k: v for k, v in parts.items() if v}
        address.setdefault("house_number", None)
        if "postal_code" in document:
            address["postal_code"] = document["postal_code"]
        document["address"] = address
    return document


def contact_document(form: Form) -> dict[str, Any]:
    contact = {key: _value(form, key) for key in ("email", "phone")}
    document: dict[str, Any] = {
        "contact": contact if any(contact.values()) else None,
        "remarks": _value(form, "remarks"),
        "entry_date": None,
    }
    if _value(form, "entry_year"):
        document["entry_date"] = _date(form, "entry")
    return document


_TYPED_DATE = re.compile(r"^(\d{1,2})[./\s-](\d{1,2})[./\s-](\d{4})$|^(\d{1,2})[./\s-](\d{4})$")


def typed_date(text: str) -> str | None:
    """A date as people type it at a desk, as the dataset writes it: "15.03.1985",
    "15/3/1985", "15 03 1985" (day first, as in Germany and Ukraine), "03.1985", "1985",
    "1985-03-15", in any script's digits. None when empty; as typed when it is none of them
    (for the caller to refuse: domain.PartialDate.parse does not take it)."""
    text = names.ascii_digits(text.strip())
    if not text:
        return None
    found = _TYPED_DATE.match(text)
    if found and found.group(3):
        return f"{found.group(3)}-{int(found.group(2)):02d}-{int(found.group(1)):02d}"
    if found:
        return f"{found.group(5)}-{int(found.group(4)):02d}"
    return text


def as_latin(name: str) -> str:
    """A name as typed, or its Latin spelling when typed in Cyrillic."""
    name = name.strip()
    if name and names.first_disallowed(name):
        return transliteration.propose_latin(name) or name
    return name


def flatten(errors: dict[str, Any], inputs: dict[str, str]) -> dict[str, str]:
    """The first message per input, from the schema's nested errors (path -> input name), in
    the order the inputs have on the page (`inputs` lists them so), so that the error summary
    reads as the page does. A bare "required" says which answer is missing (REQUIRED)."""
    flat: dict[str, str] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, f"{path}.{key}" if path else str(key))
        elif node:
            name = inputs.get(path) or inputs.get(path.rsplit(".", 1)[0], "form")
            message = str(node[0] if isinstance(node, list) else node)
            if message == str(fields.REQUIRED_MESSAGE) and name in REQUIRED:
                message = str(REQUIRED[name])
            flat.setdefault(name, message)

    walk(errors, "")
    return in_page_order(flat, inputs)


# What a missing answer's message says, by input: GOV.UK's "say what to do, for this field".
REQUIRED = {
    "role": _l("Choose how this person is related to you."),
    "family_name": _l("Enter the family name as in the passport."),
    "given_names": _l("Enter the given names as in the passport."),
    "sex": _l("Choose the sex as in the passport."),
    "birth_day": _l("Enter the date of birth, or tick that it is not known."),
    "place_of_birth": _l("Enter the place of birth, or tick that it is not known."),
    "country_of_birth": _l("Choose the country of birth."),
    "nationality": _l("Choose the nationality."),
    "lived_in_ukraine": _l("Answer whether this person lived in Ukraine on 24 February 2022."),
    "status_in_ukraine": _l("Choose this person's status in Ukraine."),
    "marital_status": _l("Choose the marital status."),
    "document_type": _l("Choose the kind of document."),
    "document_number": _l("Enter the document number."),
    "postal_code": _l("Enter the postal code of where you are staying."),
    "street": _l("Enter the street."),
    "house_number": _l("Enter the house number."),
    "city": _l("Enter the town or city."),
    "consent": _l("Tick the box to agree, or the registration cannot be sent."),
}


# Where each field's error is shown: dataset path (relative to the step) -> the input's id.
PERSON_INPUTS = {  # in the order of the page
    "role": "role",
    "family_name": "family_name",
    "given_names": "given_names",
    "sex": "sex",
    "date_of_birth": "birth_day",
    "marital_status": "marital_status",
    "place_of_birth": "place_of_birth",
    "country_of_birth": "country_of_birth",
    "nationalities": "nationality",
    "eligibility.lived_in_ukraine": "lived_in_ukraine",
    "eligibility.status_in_ukraine": "status_in_ukraine",
    "eligibility": "lived_in_ukraine",
    "document.type": "document_type",
    "document.number": "document_number",
    "document": "document_number",
    "document.valid_from": "issued_day",
    "document.valid_until": "expiry_day",
    "document.mrz": "mrz",
}
ADDRESS_INPUTS = {
    "postal_code": "postal_code",
    "municipality_key": "municipality_key",
    "address.street": "street",
    "address.house_number": "house_number",
    "address.city": "city",
    "address.postal_code": "postal_code",
}
CONTACT_INPUTS = {
    "contact.email": "email",
    "contact.phone": "phone",
    "entry_date": "entry_day",
    "remarks": "remarks",
}


def section_inputs(draft: dict[str, Any]) -> dict[str, str]:
    """The address and contact steps' inputs for what the draft holds."""
    inputs: dict[str, str] = {}
    for key in ("postal_code", "municipality_key"):
        if draft.get(key):
            inputs[key] = draft[key]
    for part in ("address", "contact"):
        for key, value in (draft.get(part) or {}).items():
            if value and key != "postal_code":
                inputs[key] = value
    if draft.get("remarks"):
        inputs["remarks"] = draft["remarks"]
    if draft.get("entry_date"):
        inputs.update(_date_inputs("entry", draft["entry_date"]))
    return inputs
