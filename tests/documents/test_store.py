"""Documents kept like the rest of the personal data: encrypted, rotated, erased, counted."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest
from sqlalchemy import func, select, update

from intake.cli import main
from intake.config import new_data_key, parse_data_keys
from intake.documents import files
from intake.documents import store as documents
from intake.documents.blobs import MissingBlob
from intake.registrations import drafts, retention
from intake.runtime import Runtime
from intake.security import rotation
from intake.security.crypto import DecryptionError
from intake.store import models
from tests.helpers import documents as made
from tests.helpers.api import post
from tests.helpers.data import ADULT
from tests.helpers.forms import APPLICANT, add_person
from tests.helpers.forms import post as form_post
from tests.helpers.privacy import raw_database_text

# Bytes no encryption would leave in the clear by chance: found in the raw database, they
# would be plaintext.
MARKER = b"PLAINTEXT-MARKER-Shevchenko-"


def marked(size: int = 40_000) -> files.Document:
    content = (MARKER * (size // len(MARKER) + 1))[:size]
    return files.Document("application/pdf", content, hashlib.sha256(content).hexdigest(), 1, None)


def registered(client, token: str, runtime: Runtime) -> str:  # type: ignore[no-untyped-def]
    """A registration's id, stored through the API."""
    reference = post(client, token, ADULT).get_json()["reference"]
    with runtime.db.read() as session:
        return str(session.scalar(select(models.Registration.id).where(
            models.Registration.reference == reference)))


def saved(runtime: Runtime, document: files.Document, **owner: object) -> str:
    with runtime.db.transaction() as session:
        row = documents.save(session, runtime.cipher, runtime.blobs, document, **owner)  # type: ignore[arg-type]
        return row.id


def read(runtime: Runtime, document_id: str) -> tuple[bytes, str | None]:
    with runtime.db.read() as session:
        row = session.get(models.Document, document_id)
        assert row is not None
        return (documents.content(session, runtime.cipher, runtime.blobs, row),
                documents.description(runtime.cipher, row))


def counted(runtime: Runtime) -> tuple[int, int]:
    with runtime.db.read() as session:
        return (session.scalar(select(func.count()).select_from(models.Document)) or 0,
                session.scalar(select(func.count()).select_from(models.DocumentBlob)) or 0)


def test_a_document_round_trips_and_the_database_holds_no_byte_of_it(client, submit_token, runtime):
    registration = registered(client, submit_token, runtime)
    photo = files.accept(made.photo(), "passport.jpg")
    page = saved(runtime, photo, kind=documents.DOCUMENT_PAGE, registration_id=registration,
                 person=0)
    proof = saved(runtime, marked(), kind=documents.PROOF, registration_id=registration,
                  description="Ankunftsnachweis of Olena Shevchenko")

    assert read(runtime, page) == (photo.content, None)
    assert read(runtime, proof) == (marked().content, "Ankunftsnachweis of Olena Shevchenko")
    stored = raw_database_text(runtime)
    # SQLite's file as bytes; PostgreSQL's rows as JSON text, where bytea shows as hex.
    for plaintext in (MARKER, b"Ankunftsnachweis", photo.content[200:260]):
        assert plaintext not in stored and plaintext.hex().encode() not in stored
    assert photo.sha256.encode() not in stored  # only the keyed hash is kept


def test_the_same_file_sent_twice_for_the_same_place_is_kept_once(client, submit_token, runtime):
    registration = registered(client, submit_token, runtime)
    owner = {"kind": documents.DOCUMENT_PAGE, "registration_id": registration, "person": 0}

    first, again = saved(runtime, marked(), **owner), saved(runtime, marked(), **owner)
    other_person = saved(runtime, marked(), **{**owner, "person": 1})

    assert first == again != other_person
    with runtime.db.read() as session:
        assert documents.stored_bytes(session, registration_id=registration) == 80_000


def test_content_moved_to_another_document_does_not_decrypt(client, submit_token, runtime):
    registration = registered(client, submit_token, runtime)
    one = saved(runtime, marked(), kind=documents.PROOF, registration_id=registration)
    other = saved(runtime, marked(1000), kind=documents.PROOF, registration_id=registration)
    with runtime.db.transaction() as session:
        blob = models.table(models.DocumentBlob)
        sealed = session.scalar(select(blob.c.content).where(blob.c.document_id == one))
        session.execute(update(blob).where(blob.c.document_id == other).values(content=sealed))

    with pytest.raises(DecryptionError):
        read(runtime, other)


def test_rotation_re_encrypts_documents_and_the_old_key_can_go(client, submit_token, runtime):
    registration = registered(client, submit_token, runtime)
    ids = [saved(runtime, marked(size), kind=documents.PROOF, registration_id=registration,
                 description=f"proof {size}") for size in (1000, 2000, 3000)]
    new_keys = parse_data_keys(new_data_key("t2")) + runtime.settings.data_keys
    rotated = Runtime(dataclasses.replace(runtime.settings, data_keys=new_keys))

    values, _files = rotation.rotate(rotated, batch=2)

    # The registration and its person, three descriptions and three contents.
    assert values == 2 + 3 + 3
    assert rotation.rotate(rotated) == (0, 0)
    only_new = Runtime(dataclasses.replace(runtime.settings, data_keys=new_keys[:1]))
    for document_id, size in zip(ids, (1000, 2000, 3000), strict=True):
        assert read(only_new, document_id) == (marked(size).content, f"proof {size}")
    rotated.close()
    only_new.close()


def test_documents_stored_before_0023_rotate_in_parts_and_one_erased_meanwhile_stays_erased(
    client, submit_token, runtime, monkeypatch
):
    """Their content is sealed with the data key: rotation reads and writes it whole."""
    registration = registered(client, submit_token, runtime)
    ids = [saved(runtime, marked(size), kind=documents.PROOF, registration_id=registration)
           for size in (1000, 2000, 3000)]
    for document_id in ids:
        made.stored_before_0023(runtime, document_id)
    monkeypatch.setattr(documents, "ROTATE_BYTES", 2500)
    parts, read_sealed = [], documents.sealed_contents

    def erased_while_read(session, blobs, rows):  # type: ignore[no-untyped-def]
        parts.append([row.size for row in rows])
        found = read_sealed(session, blobs, rows)
        if ids[1] in found:  # erased on request between the part's read and its write
            with runtime.db.transaction() as other:
                documents.remove(other, runtime.blobs, models.Document.id == ids[1])
        return found

    monkeypatch.setattr(documents, "sealed_contents", erased_while_read)
    new_keys = parse_data_keys(new_data_key("t2")) + runtime.settings.data_keys
    rotated = Runtime(dataclasses.replace(runtime.settings, data_keys=new_keys))

    assert documents.rotate(rotated.db, rotated.cipher, rotated.blobs) == 2
    assert parts == [[1000], [2000], [3000]]  # a transaction each, within ROTATE_BYTES
    only_new = Runtime(dataclasses.replace(runtime.settings, data_keys=new_keys[:1]))
    assert [read(only_new, ids[n])[0] for n in (0, 2)] == [marked(1000).content,
                                                             marked(3000).content]
    with only_new.db.read() as session:
        assert session.get(models.Document, ids[1]) is None
        assert session.scalar(select(func.count()).select_from(models.DocumentBlob)) == 2
    rotated.close()
    only_new.close()


def test_erasure_deletes_a_registrations_documents_and_nothing_else(
    client, submit_token, runtime
):
    erased, kept = (registered(client, submit_token, runtime) for _ in range(2))
    for owner, size in ((erased, 1000), (erased, 2000), (kept, 1000)):
        saved(runtime, marked(size), kind=documents.PROOF, registration_id=owner)

    with runtime.db.transaction() as session:
        retention.erase(session, session.get(models.Registration, erased), runtime.cipher,
                        runtime.settings.xml_out, runtime.blobs)

    assert counted(runtime) == (1, 1)
    with runtime.db.read() as session:
        assert documents.listed(session, registration_id=erased) == []
        assert len(documents.listed(session, registration_id=kept)) == 1


def test_a_drafts_documents_go_with_it_or_become_its_registrations(client, runtime):
    assert form_post(client, "/en/", {"who": "self"}).status_code == 303
    assert add_person(client, "en", 0, APPLICANT).status_code == 303
    assert form_post(client, "/en/address", {"postal_code": "14467"}).status_code == 303
    assert form_post(client, "/en/contact", {"email": "taras@example.org"}).status_code == 303
    with runtime.db.transaction() as session:
        draft = session.scalar(select(models.Draft))
        assert draft is not None
        documents.save(session, runtime.cipher, runtime.blobs, marked(), person=0,
                       kind=documents.DOCUMENT_PAGE, draft_id=draft.id)
    # An abandoned draft of someone else, past its lifetime, with its own document.
    with runtime.db.transaction() as session:
        drafts.save(session, runtime.cipher, None, {"persons": []})
        abandoned = session.scalar(select(models.Draft).where(models.Draft.id != draft.id))
        assert abandoned is not None
        documents.save(session, runtime.cipher, runtime.blobs, marked(500),
                       kind=documents.PROOF, draft_id=abandoned.id)
        abandoned.expires_at = models.utcnow()

    assert form_post(client, "/en/review", {"consent": "yes"}).status_code == 303
    with runtime.db.transaction() as session:
        assert drafts.purge_expired(session, runtime.blobs) == 1

    with runtime.db.read() as session:
        [kept] = session.scalars(select(models.Document)).all()
        registration = session.scalar(select(models.Registration.id))
        assert (kept.registration_id, kept.draft_id, kept.person_position) == (
            registration, None, 0)
    assert read(runtime, kept.id) == (marked().content, None)
    assert counted(runtime) == (1, 1)


def test_intake_status_counts_documents_and_their_bytes(app, client, submit_token, runtime):
    registration = registered(client, submit_token, runtime)
    for size in (1000, 2500):
        saved(runtime, marked(size), kind=documents.PROOF, registration_id=registration)

    result = app.test_cli_runner().invoke(main, ["status", "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["documents"] == {
        "count": 2, "bytes": 3500, "by_location": {"database": {"count": 2, "bytes": 3500}},
        "by_kind": {"proof": {"count": 2, "bytes": 3500}}}
    readable = app.test_cli_runner().invoke(main, ["status"]).output
    assert "documents:   2 kept, 3,500 bytes (proof 2, database 2)" in readable


def test_documents_in_an_object_store_need_its_url(client, submit_token, runtime):
    document = saved(runtime, marked(), kind=documents.SUMMARY,
                     registration_id=registered(client, submit_token, runtime))
    with runtime.db.transaction() as session:
        session.execute(update(models.Document).values(location="s3", blob_key="0" * 32))

    with pytest.raises(MissingBlob, match="no INTAKE_BLOB_URL"):
        read(runtime, document)


@pytest.mark.parametrize("owner", [{}, {"registration_id": "r", "draft_id": "d"}])
def test_a_document_has_exactly_one_owner_and_a_known_kind(runtime, owner):
    with runtime.db.transaction() as session, pytest.raises(ValueError):
        documents.save(session, runtime.cipher, runtime.blobs, marked(), kind="proof", **owner)
    with runtime.db.transaction() as session, pytest.raises(ValueError, match="kind"):
        documents.save(session, runtime.cipher, runtime.blobs, marked(), kind="selfie",
                       registration_id="r")
