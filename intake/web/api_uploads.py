"""POST /api/v1/registrations as multipart/form-data: the registration with its documents.

The JSON document travels in a part named `registration`; each page of person n's identity
document in a part named `persons.<n>.document_pages` (n counts from 0, as `persons` does);
the household's proofs in parts named `proofs`, described in the same order by the JSON's
top-level `proofs` list (`[{"kind": "arrival"}, {"kind": "other", "description": "..."}]`).
Nothing is stored here: this module reads and checks the parts, makes every file safe
(files.accept) and says what is wrong with them, per part name, as the API's 422 does.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, request
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, validates_schema

from intake.dataset.fields import (
    REQUIRED_MESSAGE,
    Items,
    Nested,
    StrictSchema,
    Text,
    choice,
    length,
    plain_text,
)
from intake.dataset.schemas import messages
from intake.documents import files, proofs
from intake.documents import store as documents
from intake.registrations.enclosures import Enclosure
from intake.store import idempotency
from intake.web import uploads

REGISTRATION = "registration"
PROOFS = "proofs"
# One name per person: "persons.01" would be person 1 again, with four pages more.
PAGES_OF_PERSON = re.compile(r"persons\.(0|[1-9][0-9]?)\.document_pages")
# Four: both sides of an identity card, or a passport's data page with the pages of entry
# stamps and visas, with room for one taken again. An authority needs no more to know who
# someone is, and 12 persons' pages must still fit the household's 30 MB. A PDF's pages
# count one by one: a whole scanned passport is not one "page".
MAX_PAGES_PER_PERSON = 4

Errors = dict[str, Any]


class Unreadable(ValueError):
    """A multipart request whose `registration` part is missing or not JSON (400)."""

    def __init__(self, message: Any) -> None:
        super().__init__("unreadable registration part")
        self.message = message


@dataclass(frozen=True)
class SentFile:
    """A file part as it arrived: its part name, the client's file name (shown in messages
    only, never stored) and its bytes."""

    field: str
    file_name: str
    data: bytes


@dataclass(frozen=True)
class Multipart:
    """What a multipart request sent: the registration's JSON without its `proofs` list,
    that list as sent, and the files in the order they came."""

    payload: Any
    proofs: Any
    files: list[SentFile]
    text_fields: list[str]  # other parts without a file name: refused (`problems`)


class ProofSchema(StrictSchema):
    kind = Text(required=True, validate=choice(proofs.KINDS))
    description = Text(load_default=None, allow_none=True,
                       validate=[length(1, proofs.MAX_DESCRIPTION), plain_text])

    @validates_schema
    def described(self, data: dict[str, Any], **_: Any) -> None:
        """An "other" proof says what it is; the others have a fixed German description."""
        if data["kind"] == proofs.OTHER and not data.get("description"):
            raise ValidationError({"description": [REQUIRED_MESSAGE]})
        if data["kind"] != proofs.OTHER and data.get("description"):
            raise ValidationError({"description": [
                _l("Only a proof of the kind “other” takes a description.")]})


class ProofListSchema(StrictSchema):
    """The `proofs` list of a multipart request's `registration` part."""

    proofs = Items(Nested(ProofSchema), load_default=list)


_PROOFS = ProofListSchema()


def is_multipart() -> bool:
    return request.mimetype == "multipart/form-data"


def read() -> Multipart:
    """The parts of this multipart request (Unreadable without a JSON `registration`)."""
    registration = _registration_text()
    if registration is None:
        raise Unreadable(_l("Send the registration's JSON in a part named “registration”."))
    try:
        payload = json.loads(registration)
    except ValueError:
        raise Unreadable(_l("Send the registration as a JSON object.")) from None
    proofs_sent = payload.pop(PROOFS, None) if isinstance(payload, dict) else None
    sent = [SentFile(field, upload.filename or "", uploads.read(upload))
            for field, upload in request.files.items(multi=True) if field != REGISTRATION]
    text_fields = [field for field in request.form if field != REGISTRATION]
    return Multipart(payload, proofs_sent, sent, text_fields)


def _registration_text() -> str | None:
    """The `registration` part, sent as a field (`-F 'registration=<file'`) or as a file
    (`-F registration=@file`); 413 when larger than a JSON body may be."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if REGISTRATION in request.form:
        data = request.form[REGISTRATION].encode()
    elif (upload := request.files.get(REGISTRATION)) is not None:
        data = upload.stream.read(limit + 1)
    else:
        return None
    if len(data) > limit:
        abort(413)
    return data.decode("utf-8", errors="replace")


def request_hash(sent: Multipart) -> str:
    """The Idempotency-Key's digest of the request: the JSON as a JSON request's (the same
    registration without files is the same request), with each file's digest in order."""
    document = sent.payload
    if isinstance(document, dict) and sent.proofs is not None:
        document = {**document, PROOFS: sent.proofs}
    if not sent.files:
        return idempotency.request_hash(document)
    return idempotency.request_hash({
        REGISTRATION: document,
        "files": [[item.field, hashlib.sha256(item.data).hexdigest()] for item in sent.files],
    })


def problems(sent: Multipart) -> tuple[list[dict[str, Any]], Errors]:
    """The proofs' descriptions, and what is wrong with the parts before any file is made safe:
    the `proofs` list, its length, part names, persons that do not exist, too many pages."""
    errors: Errors = {}
    try:
        described: list[dict[str, Any]] = _PROOFS.load(
            {} if sent.proofs is None else {PROOFS: sent.proofs})[PROOFS]
    except ValidationError as error:
        described = []
        errors.update(messages(error))
    proofs_sent = sum(item.field == PROOFS for item in sent.files)
    if PROOFS not in errors and len(described) != proofs_sent:
        errors[PROOFS] = [_l("Describe each file sent in a part named “proofs” in the "
                             "registration's “proofs” list, in the same order.")]
    persons = sent.payload.get("persons") if isinstance(sent.payload, dict) else None
    count = len(persons) if isinstance(persons, list) else 0
    pages = Counter(item.field for item in sent.files if item.field != PROOFS)
    for field, sent_pages in pages.items():
        person = _person_of(field)
        if person is None:
            errors[field] = [_l("Unknown field.")]
        elif person >= count:
            errors[field] = [_l("There is no such person in “persons” (the first is 0).")]
        elif sent_pages > MAX_PAGES_PER_PERSON:
            errors[field] = [_too_many_pages()]
    for field in sent.text_fields:
        errors[field] = [_l("Send this part as a file, with a file name.")]
    return described, _rendered(errors)


def made_safe(
    sent: Multipart, described: list[dict[str, Any]]
) -> tuple[list[Enclosure], Errors]:
    """Every file made safe, with where it belongs; or the refusals, each naming its file,
    under its part's name."""
    errors: Errors = {}
    kept: list[Enclosure] = []
    total = 0
    pages: Counter[str] = Counter()
    proofs_told = iter(described)
    for item in sent.files:
        told = next(proofs_told) if item.field == PROOFS else None
        try:
            document = files.accept(item.data, item.file_name)
            files.check_household_total(total, document, item.file_name)
        except files.Refused as refused:
            errors.setdefault(item.field, []).append(refused.message)
            continue
        total += document.size
        if told is not None:
            kept.append(Enclosure(document, documents.PROOF, description=proofs.description(
                told["kind"], told["description"])))
            continue
        pages[item.field] += document.pages
        if pages[item.field] > MAX_PAGES_PER_PERSON:
            errors.setdefault(item.field, []).append(_too_many_pages())
        person = _person_of(item.field)
        if person is not None:  # always: problems() refused other names
            kept.append(Enclosure(document, documents.DOCUMENT_PAGE, person=person))
    return kept, _rendered(errors)


def _rendered(errors: Errors) -> Errors:
    """Lazy messages as text in the current language, each once per field."""
    return {field: list(dict.fromkeys(str(message) for message in found))
            if isinstance(found, list) else found for field, found in errors.items()}


def _person_of(field: str) -> int | None:
    """The person whose pages a part named `persons.<n>.document_pages` holds."""
    match = PAGES_OF_PERSON.fullmatch(field)
    return None if match is None else int(match.group(1))


def _too_many_pages() -> Any:
    return _l("Send at most four pages of a person's identity document.")
