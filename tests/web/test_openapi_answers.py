"""Every answer the API gives on a partner's and an authority's way is as its OpenAPI
document says: status, Content-Type, headers and body (schemathesis' checks).

The fuzz (test_openapi_fuzz.py) rarely makes a valid household or a batch: here each
success, and each error the code returns, is called for on purpose.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from schemathesis.core.failures import FailureGroup
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from intake.registrations import retention, routing
from intake.store import models
from tests.helpers import documents as made
from tests.helpers.api import authority_token
from tests.helpers.data import ADULT
from tests.helpers.openapi import PLAIN, loaded
from tests.helpers.pipeline import process_queue

APPOINTMENT = "/registrations/{reference}/appointment"


class Api:
    """Calls as schemathesis makes them, each answer checked against the document."""

    def __init__(self, app: Any, token: str | None) -> None:
        self.schema = loaded(app)
        self.headers = {**PLAIN, **({"Authorization": f"Bearer {token}"} if token else {})}

    def call(self, method: str, path: str, expected: int, headers: dict[str, str] | None = None,
             **case: Any) -> Any:
        if "body" in case:
            case.setdefault("media_type", "application/json")
        made_case = self.schema[path][method].Case(**case)
        answer = made_case.call_and_validate(headers={**self.headers, **(headers or {})})
        assert answer.status_code == expected, answer.text
        return answer

    def conforms(self, method: str, path: str, answer: Any, expected: int) -> Any:
        """A JSON answer to a request schemathesis cannot make (no JSON, too large, files)."""
        operation = self.schema[path][method]
        assert answer.status_code == expected, answer.text
        assert operation.responses.find_by_status_code(answer.status_code) is not None
        assert answer.mimetype == "application/json"  # what every error is documented as
        operation.validate_response(answer)
        return answer


def test_a_partners_calls_answer_as_documented(app, client, runtime, submit_token):
    api = Api(app, submit_token)
    created = api.call("POST", "/registrations", 201, body=ADULT).json()
    first = api.call("POST", "/registrations", 201, {"Idempotency-Key": "k1"}, body=ADULT)
    again = api.call("POST", "/registrations", 201, {"Idempotency-Key": "k1"}, body=ADULT)
    # schemathesis' answers name headers in lower case, each with its list of values
    assert "idempotent-replayed" not in first.headers and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == ["true"]
    reference = {"reference": created["reference"]}

    slots = api.call("GET", "/registrations/{reference}/slots", 200, path_parameters=reference,
                     query={"priority": "true"}).json()["slots"]
    api.call("POST", APPOINTMENT, 201, path_parameters=reference, body={"slot": slots[0]["id"]})
    api.call("GET", APPOINTMENT, 200, path_parameters=reference)
    api.call("DELETE", APPOINTMENT, 204, path_parameters=reference)
    api.call("GET", APPOINTMENT, 404, path_parameters=reference)
    api.call("DELETE", APPOINTMENT, 404, path_parameters=reference)
    with runtime.db.transaction() as session:
        full = session.get_one(models.Slot, int(slots[1]["id"]))
        full.taken = full.capacity
    api.call("POST", APPOINTMENT, 409, path_parameters=reference, body={"slot": slots[1]["id"]})
    api.call("POST", APPOINTMENT, 422, path_parameters=reference, body={"slot": "x"})
    api.call("GET", "/registrations/{reference}/slots", 404,
             path_parameters={"reference": "NOT-MINE"})


def test_the_documents_example_registers(app, submit_token):
    api = Api(app, submit_token)
    example = api.schema.raw_schema["paths"]["/registrations"]["post"]["requestBody"][
        "content"]["application/json"]["example"]

    receipt = api.call("POST", "/registrations", 201, body=example).json()

    assert [application["person"] for application in receipt["applications"]] == [0, 1]


def test_a_partners_mistakes_answer_as_documented(app, client, submit_token):
    api = Api(app, submit_token)
    api.call("POST", "/registrations", 422, body={**ADULT, "persons": []})
    api.call("POST", "/registrations", 422, body={**ADULT, "postal_code": "00000"})
    api.call("POST", "/registrations", 400, {"Idempotency-Key": "ключ"}, body=ADULT)
    api.call("POST", "/registrations", 201, {"Idempotency-Key": "k2"}, body=ADULT)
    api.call("POST", "/registrations", 422, {"Idempotency-Key": "k2"},
             body={**ADULT, "remarks": "another request"})
    api.call("GET", "/registrations/{reference}/slots", 400,
             path_parameters={"reference": "x"}, query={"q": "\x00"})
    Api(app, None).call("POST", "/registrations", 401, body=ADULT)
    Api(app, "not-a-token").call("GET", "/registrations/{reference}/slots", 401,
                                 path_parameters={"reference": "x"})
    auth = {**PLAIN, "Authorization": f"Bearer {submit_token}"}
    for sent, expected in [({"data": "[", "content_type": "application/json"}, 400),
                           ({"data": "x" * 300_000, "content_type": "application/json"}, 413),
                           ({"data": "language=uk"}, 415)]:
        answer = client.post("/api/v1/registrations", headers=auth, **sent)
        api.conforms("POST", "/registrations", answer, expected)
    answer = client.post("/api/v1/registrations/X/appointment", headers=auth, data="slot=1")
    api.conforms("POST", APPOINTMENT, answer, 415)


def _multipart(client, token: str, parts: dict[str, tuple[bytes, str]]):  # type: ignore[no-untyped-def]
    data = MultiDict({"registration": json.dumps({**ADULT, "proofs": [{"kind": "arrival"}]})})
    for name, (content, file_name) in parts.items():
        data.add(name, FileStorage(io.BytesIO(content), file_name))
    boundary, encoded = encode_multipart(data)
    return client.post("/api/v1/registrations", data=encoded,
                       content_type=f"multipart/form-data; boundary={boundary}",
                       headers={**PLAIN, "Authorization": f"Bearer {token}"})


def test_a_place_to_choose_answers_as_documented(app, runtime, submit_token, regional_set):
    regional_set.import_into(app)
    with runtime.db.read() as session:
        asked = routing.routing(session, regional_set.asked[0])
    api = Api(app, submit_token)
    body = {**ADULT, "postal_code": asked.postal_code}

    unchosen = api.call("POST", "/registrations", 422, body=body).json()
    api.call("POST", "/registrations", 422, body={**body, "municipality_key": "99999999"})
    place = asked.places[0].municipality_key
    api.call("POST", "/registrations", 201, body={**body, "municipality_key": place})

    assert place in [choice["municipality_key"] for choice in unchosen["choices"]]


def test_a_registration_with_documents_answers_as_documented(app, client, submit_token,
                                                             monkeypatch):
    from intake.web import uploads

    api = Api(app, submit_token)
    photo, pdf = (made.photo(), "passport.jpg"), (made.pdf_bytes(made.pdf()), "arrival.pdf")
    sent = _multipart(client, submit_token, {"persons.0.document_pages": photo, "proofs": pdf})
    refused = _multipart(client, submit_token, {"persons.0.document_pages": (b"x", "x.txt"),
                                                "proofs": pdf})
    api.conforms("POST", "/registrations", sent, 201)
    api.conforms("POST", "/registrations", refused, 422)
    assert "persons.0.document_pages" in refused.json["errors"]

    monkeypatch.setattr(uploads, "SLOT_WAIT", 0.1)
    slots = app.extensions["upload_slots"]
    for _ in range(uploads.UPLOADS_AT_ONCE):
        slots.acquire()
    try:
        busy = _multipart(client, submit_token, {"proofs": pdf})
    finally:
        for _ in range(uploads.UPLOADS_AT_ONCE):
            slots.release()
    api.conforms("POST", "/registrations", busy, 503)


def test_a_retry_after_erasure_answers_as_documented(app, runtime, submit_token):
    api = Api(app, submit_token)
    api.call("POST", "/registrations", 201, {"Idempotency-Key": "gone"}, body=ADULT)
    with runtime.db.transaction() as session:
        found = session.scalar(select(models.Registration))
        retention.erase(session, found, runtime.cipher, runtime.settings.xml_out, runtime.blobs)

    api.call("POST", "/registrations", 410, {"Idempotency-Key": "gone"}, body=ADULT)


def test_an_authoritys_calls_answer_as_documented(app, runtime, submit_token):
    Api(app, submit_token).call("POST", "/registrations", 201, body=ADULT)
    process_queue(runtime)
    api = Api(app, authority_token(runtime, "073400"))

    [batch] = api.call("GET", "/batches", 200).json()["batches"]
    batch_id = {"batch_id": batch["id"]}
    downloaded = api.call("GET", "/batches/{batch_id}", 200, path_parameters=batch_id)
    assert downloaded.headers["content-type"] == ["application/zip"]
    assert api.call("POST", "/batches/{batch_id}/ack", 200,
                    path_parameters=batch_id).json()["acknowledged"]
    api.call("GET", "/batches/{batch_id}", 404, path_parameters={"batch_id": "unknown"})
    Api(app, authority_token(runtime, "073000")).call(
        "POST", "/batches/{batch_id}/ack", 404, path_parameters=batch_id)
    Api(app, None).call("GET", "/batches", 401)


def test_an_answer_unlike_the_document_fails_these_checks(app, submit_token, monkeypatch):
    """The checks above can fail: an answer with a field the document does not name."""
    from intake.web import api

    created = api._created
    monkeypatch.setattr(api, "_created", lambda receipt: {**created(receipt), "extra": 1})

    with pytest.raises(FailureGroup):
        Api(app, submit_token).call("POST", "/registrations", 201, body=ADULT)
