"""Marshmallow schemas for the dataset of CONTRACT §4; `load` returns domain objects.

Every message is wrapped for translation and formatted when the error is shown, so a
422 answers in the request's language. Rules that need the database (postal-code routing)
live in `registration`, not here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import (
    ValidationError,
    post_dump,
    post_load,
    pre_load,
    validate,
    validates,
    validates_schema,
)

from intake.dataset import domain, eligibility, transliteration
from intake.dataset.fields import (
    Day,
    Email,
    Flag,
    Items,
    Nested,
    Numeric,
    PartialDateField,
    Phone,
    StrictSchema,
    Text,
    choice,
    country,
    house_number,
    invalid,
    latin_name,
    length,
    not_future,
    plain_text,
)
from intake.dataset.languages import LANGUAGES
from intake.dataset.passport import fill_from_mrz

MAX_PERSONS = 12
MAX_NATIONALITIES = 4
NAME_MAX = 80

class DocumentSchema(StrictSchema):
    type = Text(required=True, validate=choice(domain.DOCUMENT_TYPES))
    number = Numeric(  # letters and digits; digits of any script are taken as 0-9
        required=True,
        validate=[
            length(1, 30),
            validate.Regexp(r"^[A-Za-z0-9<-]+$", error=_l("Use only letters and digits.")),
        ],
    )
    issuing_country = Text(load_default=None, allow_none=True, validate=country)
    valid_from = Day(load_default=None, allow_none=True)  # the date of issue
    valid_until = Day(load_default=None, allow_none=True)

    @validates_schema
    def issued_before_it_ends(self, data: dict[str, Any], **_: Any) -> None:
        issued, ends = data.get("valid_from"), data.get("valid_until")
        if issued is not None and issued > dt.date.today():
            raise ValidationError({"valid_from": [_l("The date of issue cannot be in the "
                                                     "future.")]})
        if issued is not None and ends is not None and issued >= ends:
            raise ValidationError({"valid_from": [_l("The date of issue must be before the "
                                                     "end of validity.")]})

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> domain.Document:
        data["number"] = data["number"].upper()
        return domain.Document(**data)


_POSTAL_CODE = validate.Regexp(r"^[0-9]{5}$", error=_l("Enter a postal code of five digits."))


class AddressSchema(StrictSchema):
    street = Text(required=True, validate=[length(1, 55), plain_text])
    house_number = Numeric(load_default=None, allow_none=True,
                           validate=[length(high=9), house_number])
    postal_code = Numeric(required=True, validate=_POSTAL_CODE)
    city = Text(required=True, validate=[length(1, 40), plain_text])

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> domain.Address:
        return domain.Address(**data)


class ContactSchema(StrictSchema):
    email = Email(load_default=None, allow_none=True, validate=length(high=254))
    phone = Phone(load_default=None, allow_none=True)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> domain.Contact:
        return domain.Contact(**data)


class ConsentSchema(StrictSchema):
    # A validator, not a method: the API's document (web/openapi.py) says `true` only.
    data_processing = Flag(required=True, validate=validate.Equal(
        True, error=_l("Please agree to the processing of your data.")))


_NAME_LENGTH = length(high=NAME_MAX)


class EligibilitySchema(StrictSchema):
    """What temporary protection rests on (intake.dataset.eligibility): the form always asks it."""

    lived_in_ukraine = Flag(required=True)
    status_in_ukraine = Text(load_default=None, allow_none=True,
                             validate=choice(domain.STATUSES_IN_UKRAINE))

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> domain.Eligibility:
        return domain.Eligibility(**data)


class PersonSchema(StrictSchema):
    role = Text(required=True, validate=choice(domain.ROLES))
    family_name = Text(load_default=None, allow_none=True, validate=[_NAME_LENGTH, latin_name])
    given_names = Text(load_default=None, allow_none=True, validate=[_NAME_LENGTH, latin_name])
    no_family_name = Flag(load_default=False)
    no_given_name = Flag(load_default=False)
    family_name_native = Text(load_default=None, allow_none=True, validate=_NAME_LENGTH)
    given_names_native = Text(load_default=None, allow_none=True, validate=_NAME_LENGTH)
    sex = Text(required=True, validate=choice(domain.SEXES))
    date_of_birth = PartialDateField(required=True, allow_none=True)
    place_of_birth = Text(required=True, allow_none=True, validate=[length(1, 120), plain_text])
    country_of_birth = Text(load_default=None, allow_none=True, validate=country)
    nationalities = Items(Text(), required=True, validate=validate.Length(  # as `persons`
        1, MAX_NATIONALITIES, error=_l("Enter one to four nationalities.")))
    marital_status = Text(load_default="unknown", validate=choice(domain.MARITAL_STATUSES))
    document = Nested(DocumentSchema, load_default=None, allow_none=True)
    eligibility = Nested(EligibilitySchema, load_default=None, allow_none=True)

    @pre_load
    def machine_readable_zone(self, data: Any, **_: Any) -> Any:
        return fill_from_mrz(data) if isinstance(data, dict) else data

    @validates("date_of_birth")
    def born(self, value: domain.PartialDate | None, **_: Any) -> None:
        if value is not None and value.earliest() > dt.date.today():
            raise invalid(_l("The date cannot be in the future."))
        if value is not None and value.year < 1900:
            raise invalid(_l("Enter a year after 1900."))

    @validates("nationalities")
    def nationality_list(self, value: list[str], **_: Any) -> None:
        special = {domain.STATELESS, domain.UNKNOWN}
        if any(code in special for code in value):
            if len(value) != 1:
                raise invalid(
                    _l("“Stateless” or “unknown” cannot be combined with a nationality.")
                )
            return
        if len(set(value)) != len(value):
            raise invalid(_l("Enter each nationality once."))
        for code in value:
            country(code)

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def names_present(self, data: dict[str, Any], original: Any, **_: Any) -> None:
        """Every missing name at once; a name refused for its script gets a Latin proposal."""
        errors: dict[str, list[Any]] = {}
        for part in ("family_name", "given_names"):
            none_flag = "no_family_name" if part == "family_name" else "no_given_name"
            typed = original.get(part) if isinstance(original, dict) else None
            hint = _script_language(data.get("nationalities") or ())
            if data.get(none_flag):
                if data.get(part):
                    errors[part] = [_l("Leave this empty or untick “has no such name”.")]
            elif part not in data and typed and isinstance(typed, str):
                # Refused by its own check, which says why; a Latin spelling may help.
                if proposal := self._missing_name(typed, hint, False):
                    errors[part] = [proposal]
            elif not data.get(part):
                errors[part] = [self._missing_name(data.get(f"{part}_native"), hint)]
        if data.get("no_family_name") and data.get("no_given_name"):
            errors["given_names"] = [_l("A person has at least one name: a family name or "
                                        "given names.")]
        if errors:
            raise ValidationError(errors)

    @staticmethod
    def _missing_name(native: str | None, hint: str | None, fallback: bool = True) -> Any:
        """The proposal of a Latin spelling of `native`, else (with `fallback`) a request."""
        proposal = (
            transliteration.propose_latin(native, transliteration.guess_language(native, hint))
            if native
            else None
        )
        if proposal:
            return _l(
                "Enter the name in Latin letters exactly as in the passport. "
                "Proposed spelling: %(proposal)s",
                proposal=proposal,
            )
        return _l("Enter the name in Latin letters as in the passport.") if fallback else None

    @validates_schema(skip_on_field_errors=False)  # said at once, beside the other errors
    def lived_in_ukraine(self, data: dict[str, Any], **_: Any) -> None:
        """Who did not live in Ukraine on 24 February 2022 is told at once where to go; a
        missing status waits for the household (a family member may qualify them)."""
        answers = data.get("eligibility")
        # Beside other errors marshmallow hands over the nested fields as read, not made.
        if isinstance(answers, dict):
            answers = domain.Eligibility(**answers) if "lived_in_ukraine" in answers else None
        if answers is not None and not answers.lived_in_ukraine:
            raise ValidationError({"eligibility": {"lived_in_ukraine": [_not_eligible()]}})

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> domain.Person:
        if data.pop("no_family_name"):
            data["family_name"] = None
        if data.pop("no_given_name"):
            data["given_names"] = None
        data["nationalities"] = tuple(data["nationalities"])
        return domain.Person(**data)

    @post_dump(pass_original=True)
    def flags(self, data: dict[str, Any], original: domain.Person, **_: Any) -> dict[str, Any]:
        data["no_family_name"] = original.family_name is None
        data["no_given_name"] = original.given_names is None
        return data


# Which transliteration a Cyrillic name most likely follows, by the person's nationality.
_SCRIPT_LANGUAGE_OF_COUNTRY = {"UA": "uk", "RU": "ru", "BY": "be"}


def _script_language(nationalities: Any) -> str | None:
    for code in nationalities:
        if code in _SCRIPT_LANGUAGE_OF_COUNTRY:
            return _SCRIPT_LANGUAGE_OF_COUNTRY[code]
    return None


class HouseholdSchema(StrictSchema):
    language = Text(load_default="en", validate=choice(LANGUAGES))
    consent = Nested(ConsentSchema, required=True, load_only=True)
    postal_code = Numeric(required=True, validate=_POSTAL_CODE)
    # Which of the postal code's places; routing checks that it is one (registrations).
    municipality_key = Numeric(load_default=None, allow_none=True, validate=validate.Regexp(
        r"^[0-9]{8}$", error=_l("Enter the official municipality key of eight digits.")))
    address = Nested(AddressSchema, load_default=None, allow_none=True)
    entry_date = Day(load_default=None, allow_none=True, validate=not_future)
    contact = Nested(ContactSchema, load_default=None, allow_none=True)
    remarks = Text(load_default=None, allow_none=True, validate=[length(high=500), plain_text])
    # Sizes as validators, not methods: the API's document (web/openapi.py) states them.
    persons = Items(Nested(PersonSchema), required=True, validate=validate.Length(
        1, MAX_PERSONS, error=_l("A registration holds 1 to 12 persons.")))

    @validates_schema
    def household_roles(self, data: dict[str, Any], **_: Any) -> None:
        """Runs only when every person is valid (marshmallow skips it on field errors). Each
        error lands on the role it is about: `persons.<n>.role`."""
        if "persons" not in data:  # a step that checks other fields only
            return
        roles = [person.role for person in data["persons"]]
        errors: dict[int, dict[str, list[Any]]] = {}
        if roles[0] != "applicant":
            errors[0] = {"role": [_l("The first person must be the applicant.")]}
        for index, role in enumerate(roles[1:], start=1):
            if role == "applicant":
                errors[index] = {"role": [_l("Only the first person is the applicant.")]}
        spouses = [index for index, role in enumerate(roles) if role == "spouse"]
        for index in spouses[1:]:
            errors[index] = {"role": [_l("A household has at most one spouse.")]}
        if errors:
            raise ValidationError({"persons": errors})

    @validates_schema
    def eligible(self, data: dict[str, Any], **_: Any) -> None:
        """Who did not live in Ukraine on 24 February 2022, or held no qualifying status there
        and has no family member who does, is told where to go instead (eligibility.py)."""
        if "persons" not in data:  # a step that checks other fields only
            return
        outcomes = eligibility.assess(data["persons"])
        errors = {
            index: {"eligibility": {"status_in_ukraine" if outcome.reason == "status"
                                    else "lived_in_ukraine": [_not_eligible()]}}
            for index, outcome in enumerate(outcomes) if outcome.verdict == "not_eligible"
        }
        if errors:
            raise ValidationError({"persons": errors})

    @validates_schema
    def entered_after_birth(self, data: dict[str, Any], **_: Any) -> None:
        """Nobody enters a country before being born (a child born since is another matter:
        the household's entry date is the applicant's)."""
        entry, persons = data.get("entry_date"), data.get("persons")
        if entry is None or not persons or persons[0].date_of_birth is None:
            return
        if entry < persons[0].date_of_birth.earliest():
            raise ValidationError(
                {"entry_date": [_l("The date of entry cannot be before the applicant's date "
                                   "of birth.")]}
            )

    @validates_schema
    def one_postal_code(self, data: dict[str, Any], **_: Any) -> None:
        """The address must lie where the registration is routed to."""
        address = data.get("address")
        if address is not None and address.postal_code != data.get("postal_code"):
            raise ValidationError(
                {"postal_code": [_l("The postal code must be the one of your address.")]}
            )

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> domain.Household:
        data.pop("consent")
        data["persons"] = tuple(data["persons"])
        return domain.Household(consent_data_processing=True, **data)

    @post_dump
    def consented(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["consent"] = {"data_processing": True}
        return data


def _not_eligible() -> Any:
    return _l(
        "Temporary protection is for people who lived in Ukraine on 24 February 2022: "
        "Ukrainians, and others who had international protection or a permanent residence "
        "permit there, and their families. This person cannot be registered here. To ask for "
        "asylum, go to an arrival centre of the Federal Office for Migration and Refugees "
        "(BAMF); for other residence permits, contact the immigration authority."
    )


# One instance for every request: building a schema copies its fields, which cost a fifth of
# a registration's time; loading keeps no state on the instance.
HOUSEHOLD = HouseholdSchema()


def messages(error: ValidationError) -> dict[str, Any]:
    """Error messages with every lazy string rendered in the current language."""

    def render(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(key): render(item) for key, item in value.items()}
        if isinstance(value, list):
            return [render(item) for item in value]
        return str(value)

    result = render(error.messages)
    return result if isinstance(result, dict) else {"_schema": result}
