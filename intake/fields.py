"""Field types and validators for the dataset, each with a translated error message."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate

from intake import domain, names, territories

_REQUIRED = {"required": _l("This field is required."), "null": _l("This field is required.")}


class _Validated(fields.Field):
    """A field's validators combined once: marshmallow combines them anew for every value
    (7 % of loading a household), though a field's validators are fixed when it is built."""

    @functools.cached_property
    def _validate_all(self) -> validate.And:  # type: ignore[override]
        return validate.And(*self.validators)


class Text(_Validated, fields.String):
    default_error_messages = {**_REQUIRED, "invalid": _l("Enter text.")}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        # NFC and single spaces, as DIN 91379 expects: a phone may send "ü" as u + ◌̈.
        return names.normalize(super()._deserialize(value, attr, data, **kwargs))


class Flag(_Validated, fields.Boolean):
    default_error_messages = {**_REQUIRED, "invalid": _l("Choose yes or no.")}


class Day(_Validated, fields.Date):
    default_error_messages = {**_REQUIRED, "invalid": _l("Enter a date as YYYY-MM-DD.")}


class Nested(_Validated, fields.Nested):
    default_error_messages = {**_REQUIRED, "type": _l("Enter the details as an object.")}


class Items(_Validated, fields.List):
    default_error_messages = {**_REQUIRED, "invalid": _l("Enter a list.")}


class PartialDateField(_Validated):
    """`YYYY-MM-DD`, `YYYY-MM`, `YYYY`, or null for an unknown date."""

    default_error_messages = {
        **_REQUIRED,
        "invalid": _l("Enter the date as YYYY-MM-DD, YYYY-MM or YYYY, or leave it unknown."),
    }

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            return domain.PartialDate.parse(value.strip())
        except ValueError as error:
            raise self.make_error("invalid") from error

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else str(value)


def choice(options: tuple[str, ...]) -> validate.OneOf:
    return validate.OneOf(options, error=_l("Choose one of: {choices}."))


def country(value: str) -> None:
    if not territories.is_country(value):
        raise ValidationError(_l("Enter a country as a two-letter ISO code, such as UA."))


def latin_name(value: str) -> None:
    """A name in the characters that XÖV's DIN 91379 string type allows."""
    bad = names.first_disallowed(value)
    if bad is not None:
        raise ValidationError(
            _l(
                'The character "%(char)s" cannot be used. Write the name in Latin letters '
                "as in the passport.",
                char=bad,
            )
        )


def plain_text(value: str) -> None:
    """Free text that the authorities' systems can store (DIN 91379 as well)."""
    bad = names.first_disallowed(value)
    if bad is not None:
        raise ValidationError(
            _l('The character "%(char)s" cannot be used here.', char=bad)
        )


def not_future(value: dt.date) -> None:
    if value > dt.date.today():
        raise ValidationError(_l("The date cannot be in the future."))


class StrictSchema(Schema):
    """Unknown fields are rejected (RAISE is marshmallow's default), with a translated message."""

    error_messages = {"unknown": _l("Unknown field."), "type": _l("Enter an object.")}
