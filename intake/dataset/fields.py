"""Field types and validators for the dataset, each with a translated error message."""

from __future__ import annotations

import datetime as dt
from typing import Any

import email_validator
import phonenumbers
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate

from intake.dataset import domain, names, territories, transliteration

REQUIRED_MESSAGE = _l("This field is required.")  # the form names the field (web/forms.py)
_REQUIRED = {"required": REQUIRED_MESSAGE, "null": REQUIRED_MESSAGE}


def invalid(message: Any) -> ValidationError:
    """The error for one message. Always a list: marshmallow takes a message that is not a
    str for a list of messages, and a lazily translated one is not, which split it into
    its characters ("T", "h", "e", ...)."""
    return ValidationError([message])


def length(low: int | None = None, high: int | None = None) -> validate.Length:
    """marshmallow's length check, with a translated message."""
    if low:
        return validate.Length(low, high, error=_l("Enter {min} to {max} characters."))
    return validate.Length(max=high, error=_l("Enter at most {max} characters."))


class _Translated(fields.Field[Any]):
    """A field whose errors are translated messages, each raised as `invalid` raises it."""

    def make_error(self, key: str, **kwargs: Any) -> ValidationError:
        message: Any = self.error_messages[key]
        if kwargs:  # ours take %(name)s, marshmallow's own {name}
            message = message.format(**kwargs) if isinstance(message, str) else message % kwargs
        return invalid(message)


class Text(_Translated, fields.String):
    default_error_messages = {
        **_REQUIRED,
        "invalid": _l("Enter text."),
        "unusable": _l('The character "%(char)s" cannot be used.'),
    }

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        # NFC and single spaces, as DIN 91379 expects: a phone may send "ü" as u + ◌̈.
        text = names.normalize(super()._deserialize(value, attr, data, **kwargs))
        bad = names.first_unusable(text)  # a control, a lone surrogate, an invisible override
        if bad is not None:
            raise self.make_error("unusable", char=names.shown(bad))
        return text


class Numeric(Text):
    """Text whose digits may come in any script ("۱۴۴۶۷"); they are kept as 0-9."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        return names.ascii_digits(super()._deserialize(value, attr, data, **kwargs))


class Phone(Numeric):
    """A phone number as the authority can dial it, in E.164 ("+4915112345678"); a number
    without a country code is German, as the service is."""

    default_error_messages = {
        **Text.default_error_messages,
        "phone": _l("Enter a phone number such as +49 151 12345678."),
    }

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            number = phonenumbers.parse(text, "DE")
        except phonenumbers.NumberParseException:
            raise self.make_error("phone") from None
        if not phonenumbers.is_valid_number(number):
            raise self.make_error("phone")
        return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


class Email(Text):
    """An e-mail address as the authorities' systems can store it (DIN 91379, Latin script):
    a domain in another script ("пример.рф") is kept in its ASCII form (IDNA)."""

    default_error_messages = {
        **Text.default_error_messages,
        "email": _l("Enter an e-mail address such as name@example.org."),
        "script": _l("Write the part before the @ in Latin letters and digits; the "
                     "authority's systems cannot store other scripts."),
    }

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            address = email_validator.validate_email(text, check_deliverability=False)
        except email_validator.EmailNotValidError:
            raise self.make_error("email") from None
        if address.ascii_email is None or names.first_disallowed(address.ascii_email):
            raise self.make_error("script")
        return str(address.ascii_email)


class Flag(_Translated, fields.Boolean):
    """JSON's true or false, nothing else: consent given as the string "true" is no consent."""

    default_error_messages = {**_REQUIRED, "invalid": _l("Choose yes or no.")}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):  # 1 == True to Python, but 1 is no answer
            raise self.make_error("invalid")
        return value


class Day(_Translated, fields.Date):
    default_error_messages = {**_REQUIRED, "invalid": _l("Enter a date as YYYY-MM-DD.")}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ValidationError:  # marshmallow chains the parser's error, which
            raise self.make_error("invalid") from None  # quotes the value: drop it


class Nested(_Translated, fields.Nested):
    default_error_messages = {**_REQUIRED, "type": _l("Enter the details as an object.")}


class Items(_Translated, fields.List[Any]):
    default_error_messages = {**_REQUIRED, "invalid": _l("Enter a list.")}


class PartialDateField(_Translated):
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
        except ValueError:
            raise self.make_error("invalid") from None  # the cause would quote the value

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else str(value)


def choice(options: tuple[str, ...]) -> validate.OneOf:
    return validate.OneOf(options, error=_l("Choose one of: {choices}."))


def country(value: str) -> None:
    if not territories.is_country(value):
        raise invalid(_l("Enter a country as a two-letter ISO code, such as UA."))


def latin_name(value: str) -> None:
    """A name in the characters that XÖV's DIN 91379 string type allows, with a letter."""
    if not any(char.isalpha() for char in value):
        raise invalid(_l("Enter a name with at least one letter, or tick “has no such name”."))
    bad = names.first_disallowed(value)
    if bad is not None:
        raise invalid(
            _l(
                'The character "%(char)s" cannot be used. Write the name in Latin letters '
                "as in the passport.",
                char=names.shown(bad),
            )
        )


def plain_text(value: str) -> None:
    """Free text that the authorities' systems can store (DIN 91379 as well)."""
    bad = names.first_disallowed(value)
    if bad is not None:
        raise invalid(_l('The character "%(char)s" cannot be used here.', char=names.shown(bad)))


def house_number(value: str) -> None:
    """A house number the message can carry (DIN 91379): "12б" is refused, proposing "12b"."""
    if names.first_disallowed(value) is None:
        return
    proposal = transliteration.propose_latin(value, transliteration.guess_language(value))
    if proposal:
        raise invalid(_l(
            'Write the house number in Latin letters and digits, such as "%(example)s".',
            example=proposal,
        ))
    plain_text(value)


def not_future(value: dt.date) -> None:
    if value > dt.date.today():
        raise invalid(_l("The date cannot be in the future."))


class StrictSchema(Schema):
    """Unknown fields are rejected (RAISE is marshmallow's default), with a translated message."""

    error_messages = {"unknown": _l("Unknown field."), "type": _l("Enter an object.")}
