"""POST /api/v1/registrations as multipart/form-data: the household's documents with it
(issue #27 item 1).

Before, the endpoint took JSON only (415 for anything else): a partner had no way to send a
passport page or a proof of arrival with the registration.
"""

from __future__ import annotations

import copy
import io
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from PIL import ExifTags, Image
from pypdf.actions import JavaScript
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from intake.documents import store as documents
from intake.runtime import Runtime
from intake.store import models
from tests.helpers import documents as made
from tests.helpers.api import post
from tests.helpers.data import ADULT

PATH = "/api/v1/registrations"
SPOUSE = {"role": "spouse", "family_name": "Shevchenko", "given_names": "Taras", "sex": "male",
          "date_of_birth": "1988-02-03", "place_of_birth": "Lviv", "country_of_birth": "UA",
          "nationalities": ["UA"]}


def household(**extra: Any) -> dict[str, Any]:
    body = copy.deepcopy(ADULT)
    body.update(extra)
    return body


def send(client, token: str, body: dict[str, Any] | None, parts: dict[str, Any],  # type: ignore[no-untyped-def]
         **headers: str):
    """A multipart request: the registration's JSON (None: no such part) and file parts,
    each {name: [(bytes, file name), ...]}."""
    data = MultiDict() if body is None else MultiDict({"registration": json.dumps(body)})
    for name, sent in parts.items():
        for content, file_name in sent:
            data.add(name, FileStorage(io.BytesIO(content), file_name))
    # Encoded here, in memory: the test client would spool a large body to a temporary file
    # and leave it open when the answer comes before the body is read (413).
    boundary, encoded = encode_multipart(data)
    return client.post(PATH, data=encoded,
                       content_type=f"multipart/form-data; boundary={boundary}",
                       headers={"Authorization": f"Bearer {token}", **headers})


def proof_pdf() -> bytes:
    return made.pdf_bytes(made.pdf())


def scripted_pdf() -> bytes:
    writer = made.pdf()
    writer.add_open_action(JavaScript("app.alert('hello');"))
    return made.pdf_bytes(writer)


def count(runtime: Runtime, model: Any) -> int:
    with runtime.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def nothing_stored(runtime: Runtime) -> bool:
    return all(count(runtime, model) == 0 for model in (
        models.Registration, models.Document, models.DocumentBlob, models.Draft))


def stored_documents(runtime: Runtime, reference: str) -> list[tuple[models.Document, bytes]]:
    with runtime.db.read() as session:
        registration_id = session.scalar(select(models.Registration.id).where(
            models.Registration.reference == reference))
        rows = documents.listed(session, registration_id=registration_id)
        return [(row, documents.content(session, runtime.cipher, runtime.blobs, row))
                for row in rows]


def test_a_page_and_a_proof_are_stored_with_the_registration_without_exif(
        client, submit_token, runtime):
    photo = made.photo()
    assert b"Exif" in photo and made.PRIVATE in photo  # a phone's photo, GPS and all

    answer = send(client, submit_token, household(proofs=[{"kind": "arrival"}]), {
        "persons.0.document_pages": [(photo, "passport.jpg")],
        "proofs": [(proof_pdf(), "ankunft.pdf")],
    })

    assert answer.status_code == 201, answer.json
    (page, page_bytes), (proof, proof_bytes) = sorted(
        stored_documents(runtime, answer.json["reference"]), key=lambda item: item[0].kind)
    assert (page.kind, page.person_position, page.media_type) == (
        documents.DOCUMENT_PAGE, 0, "image/jpeg")
    assert page.draft_id is None and proof.draft_id is None
    image = Image.open(io.BytesIO(page_bytes))
    assert len(image.getexif()) == 0 and ExifTags.IFD.GPSInfo not in image.getexif()
    assert b"Exif" not in page_bytes and made.PRIVATE not in page_bytes
    assert (proof.kind, proof.person_position, proof.media_type) == (
        documents.PROOF, None, "application/pdf")
    assert documents.description(runtime.cipher, proof) == "Ankunftsnachweis"
    assert made.PRIVATE not in proof_bytes
    assert count(runtime, models.Draft) == 0  # the documents' draft went with the commit


def test_each_persons_pages_and_an_other_proof_keep_their_place(client, submit_token, runtime):
    body = household(proofs=[{"kind": "other", "description": "Schreiben des Jobcenters"}])
    body["persons"].append(SPOUSE)

    answer = send(client, submit_token, body, {
        "persons.0.document_pages": [(made.photo(), "front.jpg"), (made.screenshot(), "back.png")],
        "persons.1.document_pages": [(made.photo((200, 300)), "taras.jpg")],
        "proofs": [(proof_pdf(), "letter.pdf")],
    })

    assert answer.status_code == 201, answer.json
    stored = stored_documents(runtime, answer.json["reference"])
    assert sorted((row.kind, row.person_position) for row, _content in stored) == [
        (documents.DOCUMENT_PAGE, 0), (documents.DOCUMENT_PAGE, 0), (documents.DOCUMENT_PAGE, 1),
        (documents.PROOF, None)]
    proof = next(row for row, _content in stored if row.kind == documents.PROOF)
    assert documents.description(runtime.cipher, proof) == "Schreiben des Jobcenters"


def test_a_pdf_with_javascript_is_refused_naming_it_and_nothing_is_stored(
        client, submit_token, runtime):
    answer = send(client, submit_token, household(proofs=[{"kind": "residence"}]), {
        "persons.0.document_pages": [(made.photo(), "passport.jpg")],
        "proofs": [(scripted_pdf(), "tenancy.pdf")],
    })

    assert answer.status_code == 422
    assert answer.json == {"errors": {"proofs": [
        "“tenancy.pdf” contains active content (JavaScript) and cannot be accepted."]}}
    assert nothing_stored(runtime)


def test_a_refused_page_is_named_in_the_households_language(client, submit_token, runtime):
    answer = send(client, submit_token, household(language="uk"), {
        "persons.0.document_pages": [(b"just text", "name.jpg")]})

    assert answer.status_code == 422
    assert answer.json == {"errors": {"persons.0.document_pages": [
        "«name.jpg» не є ні фото, ні PDF."]}}
    assert nothing_stored(runtime)


def test_documents_of_a_registration_that_cannot_be_routed_are_deleted(
        client, submit_token, runtime):
    answer = send(client, submit_token, household(postal_code="00000"), {
        "persons.0.document_pages": [(made.photo(), "passport.jpg")]})

    assert answer.status_code == 422 and "postal_code" in answer.json["errors"]
    assert nothing_stored(runtime)  # the documents were on a draft: it is gone with them


def test_the_parts_are_checked_against_the_registration(client, submit_token, runtime):
    body = household(proofs=[{"kind": "visa"}, {"kind": "other"}, {"kind": "entry"}])

    answer = send(client, submit_token, body, {
        "persons.3.document_pages": [(made.photo(), "someone.jpg")],
        "persons.0.document_pages": [(made.photo(), f"{page}.jpg") for page in range(5)],
        "passport": [(made.photo(), "passport.jpg")],
        "persons.00.document_pages": [(made.photo(), "zero.jpg")],
        "proofs": [(proof_pdf(), "a.pdf")],
    })

    assert answer.status_code == 422
    errors = answer.json["errors"]
    assert errors["proofs"] == {"0": {"kind": ["Choose one of: entry, arrival, residence, other."]},
                                "1": {"description": ["This field is required."]}}
    assert errors["persons.3.document_pages"] == [
        "There is no such person in “persons” (the first is 0)."]
    assert errors["persons.0.document_pages"] == [
        "Send at most four pages of a person's identity document."]
    assert errors["passport"] == errors["persons.00.document_pages"] == ["Unknown field."]
    assert nothing_stored(runtime)


def test_each_proof_file_is_described(client, submit_token, runtime):
    answer = send(client, submit_token, household(proofs=[{"kind": "arrival"}]), {
        "proofs": [(proof_pdf(), "a.pdf"), (proof_pdf(), "b.pdf")]})

    assert answer.status_code == 422
    assert list(answer.json["errors"]) == ["proofs"]
    assert "same order" in answer.json["errors"]["proofs"][0]
    assert nothing_stored(runtime)


def test_a_multipart_request_without_the_registration_says_what_is_missing(
        client, submit_token, runtime):
    answer = send(client, submit_token, None, {"proofs": [(proof_pdf(), "a.pdf")]})

    assert answer.status_code == 400
    assert answer.json == {"errors": {"registration": [
        "Send the registration's JSON in a part named “registration”."]}}
    assert nothing_stored(runtime)


def test_a_retry_with_the_same_files_answers_the_first_result(client, submit_token, runtime):
    body = household(proofs=[{"kind": "arrival"}])
    photo, proof = made.photo(), proof_pdf()

    def retry(page: bytes):  # type: ignore[no-untyped-def]
        return send(client, submit_token, body, {
            "persons.0.document_pages": [(page, "passport.jpg")],
            "proofs": [(proof, "ankunft.pdf")]}, **{"Idempotency-Key": "with-files"})

    first, again = retry(photo), retry(photo)
    other_page = retry(made.photo((320, 240)))

    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert other_page.status_code == 422
    assert "another request" in other_page.json["errors"]["Idempotency-Key"][0]
    assert count(runtime, models.Registration) == 1
    assert count(runtime, models.Document) == 2 and count(runtime, models.Draft) == 0


def test_a_json_request_is_answered_as_before(client, submit_token, runtime):
    answer = post(client, submit_token, ADULT)

    assert answer.status_code == 201 and set(answer.json) == {
        "reference", "status_url", "authority", "applications"}
    assert count(runtime, models.Document) == 0
    # JSON has no files to carry: its body stays as small as before, and proofs need files.
    large = household(remarks="x" * 300_000)
    assert post(client, submit_token, large).status_code == 413
    refused = post(client, submit_token, household(proofs=[]))
    assert refused.status_code == 422 and refused.json["errors"]["proofs"] == ["Unknown field."]


def test_other_content_types_stay_refused(client, submit_token):
    answer = client.post(PATH, data="registration", content_type="text/plain",
                         headers={"Authorization": f"Bearer {submit_token}"})

    assert answer.status_code == 415 and "error" in answer.json


def test_a_request_over_40_megabytes_is_413_as_json(client, submit_token, runtime):
    answer = send(client, submit_token, household(), {
        "persons.0.document_pages": [(b"\xff\xd8\xff" + bytes(41 * 1024 * 1024), "huge.jpg")]})

    assert answer.status_code == 413
    assert answer.json == {"error": "The request is too large."}
    assert nothing_stored(runtime)


def test_a_failure_after_the_documents_were_put_aside_leaves_nothing(
        client, submit_token, runtime, monkeypatch):
    from intake.registrations import register

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(register, "register", broken)

    with pytest.raises(RuntimeError):  # the test app lets it through; clients get a 500
        send(client, submit_token, household(), {
            "persons.0.document_pages": [(made.photo(), "passport.jpg")]})

    assert nothing_stored(runtime)


def test_a_request_of_several_megabytes_is_read(client, submit_token, runtime):
    noise = Image.frombytes("RGB", (1600, 1200), os.urandom(1600 * 1200 * 3))
    output = io.BytesIO()
    noise.save(output, "JPEG", quality=95)
    assert len(output.getvalue()) > 2 * 1024 * 1024  # far over the 256 KB of a JSON body

    answer = send(client, submit_token, household(), {
        "persons.0.document_pages": [(output.getvalue(), "scan.jpg")]})

    assert answer.status_code == 201, answer.json
    assert count(runtime, models.Document) == 1


def test_the_registration_may_come_as_a_file_part(client, submit_token, runtime):
    data = MultiDict({"registration": FileStorage(
        io.BytesIO(json.dumps(household()).encode()), "household.json")})
    boundary, encoded = encode_multipart(data)  # as curl -F registration=@household.json

    answer = client.post(PATH, data=encoded,
                         content_type=f"multipart/form-data; boundary={boundary}",
                         headers={"Authorization": f"Bearer {submit_token}"})

    assert answer.status_code == 201, answer.json
    assert count(runtime, models.Document) == 0


def test_retries_at_once_store_the_documents_once(app, submit_token, runtime):
    body = household(proofs=[{"kind": "arrival"}])
    photo, proof = made.photo(), proof_pdf()
    start = threading.Barrier(6)

    def retry(_index: int) -> int:
        client = app.test_client()  # one each: a test client is not shared between threads
        start.wait()
        return int(send(client, submit_token, body, {
            "persons.0.document_pages": [(photo, "passport.jpg")],
            "proofs": [(proof, "ankunft.pdf")]}, **{"Idempotency-Key": "burst"}).status_code)

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(retry, range(6)))

    assert codes == [201] * 6
    assert count(runtime, models.Registration) == 1
    assert count(runtime, models.Document) == 2 and count(runtime, models.Draft) == 0


def test_a_passport_with_its_dates_reaches_the_authority_as_ausweisdokument_then_is_erased(
        client, submit_token, runtime):
    """Issue #27's acceptance, through the API: pages of a passport photographed with GPS
    tags, its dates and number, and a proof; the message is valid (against the official set
    where it lies beside the clone), the pages in it carry no EXIF, and erasure removes every
    document."""
    import base64

    from intake.registrations import retention
    from tests.helpers.pipeline import process_queue, the_message

    body = household(proofs=[{"kind": "arrival"}])
    body["persons"][0]["document"] = {"type": "passport", "number": "FE123456",
                                      "valid_from": "2021-04-30", "valid_until": "2031-04-30"}
    answer = send(client, submit_token, body, {
        "persons.0.document_pages": [(made.photo((1200, 900)), "IMG_0001.JPG"),
                                     (made.photo((1000, 700)), "IMG_0002.JPG")],
        "proofs": [(proof_pdf(), "ankunft.pdf")],
    })
    assert answer.status_code == 201, answer.json
    process_queue(runtime)

    message, ns = the_message(runtime.settings)
    [document] = message.findall(".//xa:ausweisdokument", ns)
    assert document.findtext(".//xa:seriennummer", namespaces=ns) == "FE123456"
    assert [document.findtext(f".//xa:gueltigkeitszeitraum/xa:{end}", namespaces=ns)
            for end in ("von", "bis")] == ["2021-04-30", "2031-04-30"]
    pages = [base64.b64decode("".join(page.itertext()))
             for page in document.iter() if page.text and len(page.text) > 1000]
    assert len(pages) == 2
    for page in pages:
        assert page.startswith(b"\xff\xd8") and b"Exif" not in page and made.PRIVATE not in page
    assert len(message.findall(".//xa:nachweis", ns)) == 1
    assert len(message.findall(".//xa:antragszusammenfassung", ns)) == 1

    with runtime.db.transaction() as session:
        registration = session.scalar(select(models.Registration))
        retention.erase(session, registration, runtime.cipher, runtime.settings.xml_out,
                        runtime.blobs)
    assert count(runtime, models.Document) == 0 and count(runtime, models.DocumentBlob) == 0
