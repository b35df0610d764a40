"""bp "openapi": the partners' API described in OpenAPI 3.1, at /api/v1/openapi.json.

Generated, not written twice: request bodies from the dataset's marshmallow schemas (apispec's
marshmallow plugin, told what our own fields and validators mean by web/openapi_fields.py),
answers from web/api_answers.py, and paths, path parameters and security from the app's
url_map and each view's access policy. Written here by hand is only what no schema says: each
operation's words and the status codes it answers (OPERATIONS), and the error answers
(RESPONSES).

An /api/ route without an entry in OPERATIONS is left out of the document, and
tests/web/test_openapi.py fails. An error answer with more than `errors` (the registration's
`choices` of places) is described in RESPONSES beside the others.

The document depends on the code alone: no host (servers: the relative /api/v1), no request,
no personal data; so it is built once per app and may be cached by anyone.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import metadata
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.routing import Rule
from werkzeug.wrappers import Response as BaseResponse

from intake.dataset.schemas import HouseholdSchema
from intake.documents import files
from intake.security.access import policy, public
from intake.store import idempotency
from intake.web import api_answers, api_uploads, openapi_fields
from intake.web.uploads import MAX_UPLOAD_REQUEST, UPLOADS_AT_ONCE

PREFIX = "/api/v1"
bp = Blueprint("openapi", __name__, url_prefix=PREFIX)


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(schema: Any) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


ERROR = {"type": "object", "required": ["error"], "additionalProperties": False,
         "properties": {"error": {"type": "string", "description":
                                  "What went wrong, in the request's language."}}}
# The messages per field of a 422 (dataset/schemas.py `messages`): a list of messages, or for
# a nested object and a list's items (keyed "0", "1", ...) the same again, one level down.
# "_schema" holds what concerns the object as a whole.
FIELD_ERRORS = {"type": "object", "additionalProperties": {"anyOf": [
    {"type": "array", "items": {"type": "string"}, "minItems": 1},
    _ref("schemas", "FieldErrors"),
]}}
# No `additionalProperties: false`: a refusal may say more beside `errors`.
ERRORS = {"type": "object", "required": ["errors"], "properties": {"errors": {
    **_ref("schemas", "FieldErrors"),
    "description": "Messages per field, in the request's language."}}}
FILE = {"type": "string", "contentMediaType": "application/octet-stream"}
# What a file may be; its bytes tell, whatever type a part declares (files.accept).
PHOTOS_AND_PDFS = (f"A photo ({files.JPEG}, {files.PNG}, {files.HEIC}) or a PDF, at most "
                   f"{files.MAX_FILE_BYTES // files.MEGABYTE} MiB.")


def _error(description: str, schema: dict[str, Any] | None = None,
           **headers: str) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description,
                              "content": _json(schema or _ref("schemas", "Error"))}
    if headers:
        answer["headers"] = {name.replace("_", "-"): {"description": text,
                                                      "schema": {"type": "string"}}
                             for name, text in headers.items()}
    return answer


RESPONSES = {
    "BadRequest": _error(
        "The request could not be read: a NUL character in the path, query or form "
        "(`error`); for a registration, a body that is no JSON object, a multipart request "
        "without its `registration` part, or an unusable Idempotency-Key (`errors`).",
        {"anyOf": [_ref("schemas", "Error"), _ref("schemas", "Errors")]}),
    "Unauthorized": _error(
        "No bearer token, an unknown or revoked one, or one of another scope.",
        WWW_Authenticate='Bearer realm="intake"'),
    "NotFound": _error("No such object, or one this token may not see (alike, on purpose)."),
    "TooLarge": _error(
        "The body is larger than allowed: 256 KiB of JSON; "
        f"{MAX_UPLOAD_REQUEST // files.MEGABYTE} MiB for a registration sent as "
        "multipart/form-data with its documents (10 MiB a file)."),
    "UnsupportedMediaType": _error("The body is not sent as application/json (nor, for a "
                                   "registration, as multipart/form-data)."),
    "Unprocessable": _error("The body breaks a rule; each field names what.",
                            _ref("schemas", "Errors")),
    "RegistrationRefused": _error(
        "The registration breaks a rule of the dataset (docs/dataset.md), an unknown "
        "postal code among them, or a document was refused (under its part's name); "
        "nothing was stored. Where different authorities serve the postal code's places, "
        "`errors.municipality_key` asks for one of `choices`.",
        {"type": "object", "allOf": [_ref("schemas", "Errors")], "properties": {
            "choices": {"type": "array", "items": api_answers.PlaceSchema, "description":
                        "The postal code's places, when the place is what is missing or "
                        "not one of them (empty for a postal code served as a whole)."}}}),
    "Busy": _error(
        f"Documents are being read for {UPLOADS_AT_ONCE} other registrations: send again "
        "after Retry-After seconds. Nothing was read or stored.",
        Retry_After="Seconds to wait."),
}

PARAMETERS: dict[str, dict[str, Any]] = {
    "IdempotencyKey": {
        "in": "header", "name": "Idempotency-Key", "required": False,
        "description": "Makes a retry safe: the same key with the same request answers the "
                       "first answer again (with `Idempotent-Replayed: true`); the same key "
                       "with another request is a 422. A bare token or an sf-string.",
        "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_LENGTH,
                   "pattern": "^[ -~]+$"}},
    "AcceptLanguage": {
        "in": "header", "name": "Accept-Language", "required": False,
        "description": "The language of error messages (a registration's own `language` "
                       "comes first).", "schema": {"type": "string"}},
}
PATH_PARAMETERS = {
    "reference": "The registration's `reference`, as its 201 answer gave it.",
    "batch_id": "A batch's `id`, as the list of batches gives it.",
}
# The scope a view checks (bearer.require_scope), as the token's own scope reads.
SCOPES = {"authority": "authority:<key>"}
SECURITY_SCHEMES = {"bearerToken": {
    "type": "http", "scheme": "bearer",
    "description": "A token made by `intake token create NAME --scope SCOPE`. Each operation "
                   "names the scope it needs: `submit` for a partner that registers "
                   "households (it sees the registrations it sent, and no others), "
                   "`authority:<key>` for an immigration authority (its own batches only).",
}}

# A registration the service accepts (tests/web/test_openapi_answers.py sends it); the whole
# dataset is in docs/dataset.md.
EXAMPLE = {
    "language": "uk", "consent": {"data_processing": True}, "postal_code": "14467",
    "contact": {"email": "olena@example.org", "phone": "+4915112345678"},
    "persons": [
        {"role": "applicant", "family_name": "Shevchenko", "given_names": "Olena",
         "family_name_native": "Шевченко", "given_names_native": "Олена", "sex": "female",
         "date_of_birth": "1990-05-01", "place_of_birth": "Kyiv", "country_of_birth": "UA",
         "nationalities": ["UA"], "marital_status": "married",
         "document": {"type": "passport", "number": "FE123456", "issuing_country": "UA"}},
        {"role": "child", "family_name": "Shevchenko", "given_names": "Andrii", "sex": "male",
         "date_of_birth": "2016-03", "place_of_birth": None, "country_of_birth": "UA",
         "nationalities": ["UA"]},
    ],
}

# The registration's JSON as the multipart request's `registration` part carries it: the
# household, and the list that describes the files sent in `proofs` parts.
RegistrationPartSchema = type("RegistrationPartSchema",
                              (HouseholdSchema, api_uploads.ProofListSchema), {})
MULTIPART = {
    "schema": {
        "type": "object", "required": [api_uploads.REGISTRATION],
        "properties": {
            api_uploads.REGISTRATION: RegistrationPartSchema,
            api_uploads.PROOFS: {
                "type": "array", "items": FILE,
                "description": "The household's proofs (arrival, entry, residence, other), "
                               "one file a part, described in the same order by the "
                               f"registration's `proofs` list. {PHOTOS_AND_PDFS}"},
        },
        "patternProperties": {f"^{api_uploads.PAGES_OF_PERSON.pattern}$": {
            "type": "array", "items": FILE, "maxItems": api_uploads.MAX_PAGES_PER_PERSON,
            "description": "Pages of person n's identity document (n counts from 0). "
                           + PHOTOS_AND_PDFS}},
        "additionalProperties": False,
    },
    "encoding": {api_uploads.REGISTRATION: {"contentType": "application/json"},
                 api_uploads.PROOFS: {"contentType": "application/octet-stream"}},
}


def _answers(own: dict[int, Any], *codes: int) -> dict[str, Any]:
    """The responses of an operation: its own, and the error answers these codes name."""
    common = {400: "BadRequest", 401: "Unauthorized", 404: "NotFound", 413: "TooLarge",
              415: "UnsupportedMediaType", 422: "Unprocessable", 503: "Busy"}
    answers = {**{code: _ref("responses", common[code]) for code in codes}, **own}
    return {str(code): answers[code] for code in sorted(answers)}


def _answer(description: str, schema: Any, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": _json(schema), **extra}


_LANGUAGE = "AcceptLanguage"  # a component: apispec takes its name

OPERATIONS: dict[str, dict[str, Any]] = {
    "api.create_registration": {
        "operationId": "create_registration", "tags": ["registrations"],
        "summary": "Register a household",
        "description": "The household as JSON, or as multipart/form-data with the identity "
                       "documents' pages and the proofs. Each person gets a message to the "
                       "immigration authority responsible for the postal code (or, where "
                       "asked, for the place chosen by `municipality_key`).",
        "parameters": ["IdempotencyKey", _LANGUAGE],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": HouseholdSchema, "example": EXAMPLE},
            "multipart/form-data": MULTIPART}},
        "responses": _answers({
            201: _answer("Registered (or, for a used Idempotency-Key, registered before).",
                         api_answers.ReceiptSchema, headers={"Idempotent-Replayed": {
                             "description": "Present on the answer to a retry.",
                             "schema": {"type": "string", "const": "true"}}},
                         links={"slots": {"operationId": "list_slots", "parameters": {
                             "reference": "$response.body#/reference"}}}),
            410: _error("The registration this Idempotency-Key made was erased."),
            422: _ref("responses", "RegistrationRefused"),
        }, 400, 401, 413, 415, 503),
    },
    "api.list_slots": {
        "operationId": "list_slots", "tags": ["appointments"],
        "summary": "Free appointment slots at the registration's authority",
        "parameters": [{"in": "query", "name": "priority", "required": False,
                        "schema": {"type": "string"},
                        "description": "`1`, `true` or `yes`: count the seats held for "
                                       "priority as free too."}, _LANGUAGE],
        "responses": _answers({200: _answer(
            "Slots with room for the whole household, soonest first.",
            api_answers.SlotsSchema)}, 400, 401, 404),
    },
    "api.book_appointment": {
        "operationId": "book_appointment", "tags": ["appointments"],
        "summary": "Book a slot for the whole household",
        "parameters": [_LANGUAGE],
        "requestBody": {"required": True, "content": _json(api_answers.SlotChoiceSchema)},
        "responses": _answers({
            201: _answer("Booked (a booking before is replaced).",
                         api_answers.AppointmentSchema),
            409: _error("The slot has no room left for the household."),
        }, 400, 401, 404, 413, 415, 422),
    },
    "api.show_appointment": {
        "operationId": "show_appointment", "tags": ["appointments"],
        "summary": "The household's appointment",
        "parameters": [_LANGUAGE],
        "responses": _answers({200: _answer("The appointment (404: none is booked).",
                                            api_answers.AppointmentSchema)}, 400, 401, 404),
    },
    "api.cancel_appointment": {
        "operationId": "cancel_appointment", "tags": ["appointments"],
        "summary": "Cancel the household's appointment, freeing its seats",
        "parameters": [_LANGUAGE],
        "responses": _answers({204: {"description": "Cancelled (404: none was booked)."}},
                              400, 401, 404),
    },
    "deliveries.api_list": {
        "operationId": "list_batches", "tags": ["batches"],
        "summary": "The authority's batches, oldest first",
        "parameters": [_LANGUAGE],
        "responses": _answers({200: _answer("Batches not yet erased; take them in "
                                            "`sequence`.", api_answers.BatchesSchema)},
                              400, 401),
    },
    "deliveries.api_download": {
        "operationId": "download_batch", "tags": ["batches"],
        "summary": "A batch's file (its download is audited)",
        "parameters": [_LANGUAGE],
        "responses": _answers({200: {
            "description": "A zip of the XAusländer messages and a manifest.json; sealed "
                           "(JWE, compact) to the authority's public key when one is set "
                           "(docs/authorities.md).",
            "headers": {"Content-Disposition": {"schema": {"type": "string"}}},
            "content": {"application/zip": {"schema": FILE},
                        "application/jose": {"schema": FILE}}}}, 400, 401, 404),
    },
    "deliveries.api_acknowledge": {
        "operationId": "acknowledge_batch", "tags": ["batches"],
        "summary": "Confirm a batch's receipt: its personal data is erased after the "
                   "retention time",
        "parameters": [_LANGUAGE],
        "responses": _answers({200: _answer(
            "The batch, acknowledged (again: the first time stays).",
            api_answers.BatchSchema)}, 400, 401, 404),
    },
    "openapi.document": {
        "operationId": "openapi_document", "tags": ["document"],
        "summary": "This document",
        "responses": _answers({
            200: _answer("OpenAPI 3.1.", {"type": "object"}),
            304: {"description": "Unchanged since the ETag sent in If-None-Match."},
        }, 400),
    },
}


# <name> or <converter:name> or <converter(arguments):name> in a Werkzeug rule.
_VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _path_of(rule: Rule) -> tuple[str, list[dict[str, Any]]]:
    """The rule as an OpenAPI path below PREFIX, and its path parameters."""
    parameters = [{"in": "path", "name": name, "required": True,
                   "description": PATH_PARAMETERS.get(name, ""),
                   "schema": {"type": "integer"} if converter == "int"
                   else {"type": "string", "minLength": 1}}
                  for converter, name in _VARIABLE.findall(rule.rule)]
    return _VARIABLE.sub(r"{\2}", rule.rule.removeprefix(PREFIX)), parameters


def _security(app: Flask, endpoint: str) -> list[dict[str, list[str]]]:
    kind, *detail = policy(app, endpoint) or ("",)
    if kind == "bearer" and detail:
        return [{"bearerToken": [SCOPES.get(detail[0], detail[0])]}]
    return []  # public


def build(app: Flask) -> dict[str, Any]:
    """The document of every /api/ route that OPERATIONS describes."""
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="intake: the partners' API", version=metadata.version("intake"),
        openapi_version="3.1.0", plugins=[plugin],
        servers=[{"url": PREFIX}],
        info={"description": "Register households seeking protection (partners, scope "
                             "`submit`) and fetch their messages (immigration authorities, "
                             "scope `authority:<key>`). Every error is JSON."},
    )
    openapi_fields.teach(plugin)
    for name, schema in (("Error", ERROR), ("Errors", ERRORS), ("FieldErrors", FIELD_ERRORS),
                         (openapi_fields.COUNTRY, openapi_fields.COUNTRY_SCHEMA)):
        spec.components.schema(name, schema)
    for name, response in RESPONSES.items():
        spec.components.response(name, response)
    for name, parameter in PARAMETERS.items():
        spec.components.parameter(name, parameter["in"], parameter)
    spec.components.security_scheme("bearerToken", SECURITY_SCHEMES["bearerToken"])
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        operation = OPERATIONS.get(rule.endpoint)
        if operation is None or not rule.rule.startswith(PREFIX + "/"):
            continue
        path, parameters = _path_of(rule)
        operations = {method.lower(): {**operation, "security": _security(app, rule.endpoint)}
                      for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})}
        spec.path(path=path, operations=operations, parameters=parameters)
    document = spec.to_dict()
    openapi_fields.checked_in_code(document["components"]["schemas"])
    return document


def _document_bytes(app: Flask) -> bytes:
    """The document as served, built once per app (it depends on the code alone)."""
    if "openapi" not in app.extensions:
        app.extensions["openapi"] = json.dumps(build(app), ensure_ascii=False,
                                               indent=1).encode()
    body: bytes = app.extensions["openapi"]
    return body


@bp.get("/openapi.json")
@public
def document() -> BaseResponse:
    body = _document_bytes(current_app)
    response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    return response.make_conditional(request)
