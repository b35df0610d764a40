"""Documents in an S3-compatible object store: ciphertext under random names, rotated in
place, deleted with their registration, and nothing left behind by a failed upload."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from intake.config import new_data_key, parse_data_keys
from intake.documents import files
from intake.documents import store as documents
from intake.registrations import retention
from intake.runtime import Runtime
from intake.security import rotation
from intake.security.crypto import DecryptionError
from intake.store import models
from tests.documents.test_store import MARKER, marked, read, registered, saved
from tests.helpers import documents as made
from tests.helpers.documents import objects, s3_client
from tests.helpers.pipeline import delivered, process_queue

NAME = re.compile(r"documents/[0-9a-f]{32}")


def test_content_goes_to_the_store_as_ciphertext_under_random_names(
    client, submit_token, s3_runtime: Runtime
):
    registration = registered(client, submit_token, s3_runtime)
    photo = files.accept(made.photo(), "Olena_Shevchenko_passport.jpg")
    page = saved(s3_runtime, photo, kind=documents.DOCUMENT_PAGE, registration_id=registration,
                 person=0)
    proof = saved(s3_runtime, marked(), kind=documents.PROOF, registration_id=registration)

    stored = objects(s3_runtime)
    assert len(stored) == 2 and all(NAME.fullmatch(name) for name in stored)
    for sealed in stored.values():
        assert MARKER not in sealed and photo.content[300:360] not in sealed
        for document_id in (page, proof):  # under a key of its own, not the data key
            with pytest.raises(DecryptionError):
                s3_runtime.cipher.unseal(b"t1." + sealed, documents.content_context(document_id))
    assert read(s3_runtime, page) == (photo.content, None)
    assert read(s3_runtime, proof)[0] == marked().content
    with s3_runtime.db.read() as session:
        assert session.scalar(select(func.count()).select_from(models.DocumentBlob)) == 0
        assert documents.totals(session)["by_location"] == {
            "s3": {"count": 2, "bytes": photo.size + marked().size}}


def test_erasure_deletes_the_objects(client, submit_token, s3_runtime: Runtime):
    erased, kept = (registered(client, submit_token, s3_runtime) for _ in range(2))
    sealed_of = {}
    for owner, size in ((erased, 1000), (erased, 2000), (kept, 3000)):
        before = set(objects(s3_runtime))
        document_id = saved(s3_runtime, marked(size), kind=documents.PROOF, registration_id=owner)
        [(_name, sealed_of[document_id])] = [
            item for item in objects(s3_runtime).items() if item[0] not in before]
    made.stored_before_0023(s3_runtime, next(iter(sealed_of)))  # one of each kind erased

    with s3_runtime.db.transaction() as session:
        retention.erase(session, session.get(models.Registration, erased), s3_runtime.cipher,
                        s3_runtime.settings.xml_out, s3_runtime.blobs)

    [left] = objects(s3_runtime).values()
    with s3_runtime.db.read() as session:
        [row] = session.scalars(select(models.Document)).all()
    assert row.registration_id == kept and read(s3_runtime, row.id)[0] == marked(3000).content
    assert left == sealed_of[row.id]


def test_rotation_leaves_objects_with_keys_of_their_own_and_re_encrypts_older_in_place(
        client, submit_token, s3_runtime: Runtime):
    registration = registered(client, submit_token, s3_runtime)
    ids = [saved(s3_runtime, marked(size), kind=documents.PROOF, registration_id=registration)
           for size in (1000, 2000)]
    older = made.stored_before_0023(s3_runtime, ids[1])
    before = objects(s3_runtime)
    new_keys = parse_data_keys(new_data_key("t2")) + s3_runtime.settings.data_keys
    rotated = Runtime(dataclasses.replace(s3_runtime.settings, data_keys=new_keys))

    assert rotation.rotate(rotated)[0] == 2 + 2  # the registration, its person, two documents

    stored = objects(rotated)
    [older_name] = [name for name in before if before[name] == older]
    assert set(stored) == set(before)
    assert [name for name in stored if stored[name] != before[name]] == [older_name]
    assert stored[older_name].startswith(b"t2.")  # the other's key was sealed again instead
    only_new = Runtime(dataclasses.replace(s3_runtime.settings, data_keys=new_keys[:1]))
    assert [read(only_new, document)[0] for document in ids] == [
        marked(1000).content, marked(2000).content]
    rotated.close()
    only_new.close()


def test_an_upload_whose_transaction_failed_is_swept_away(
    client, submit_token, s3_runtime: Runtime
):
    registration = registered(client, submit_token, s3_runtime)
    kept = saved(s3_runtime, marked(), kind=documents.PROOF, registration_id=registration)

    def upload_then_fail() -> None:
        with s3_runtime.db.transaction() as session:
            documents.save(session, s3_runtime.cipher, s3_runtime.blobs, marked(500),
                           kind=documents.PROOF, registration_id=registration)
            raise RuntimeError("the commit fails")

    with pytest.raises(RuntimeError):
        upload_then_fail()
    assert len(objects(s3_runtime)) == 2

    assert documents.sweep(s3_runtime.db, s3_runtime.blobs) == 0  # younger than an hour
    assert documents.sweep(s3_runtime.db, s3_runtime.blobs, dt.timedelta(0)) == 1

    assert len(objects(s3_runtime)) == 1
    assert read(s3_runtime, kept)[0] == marked().content


def test_documents_kept_in_the_database_stay_readable_and_erasable(
    client, submit_token, runtime: Runtime, s3_runtime: Runtime
):
    registration = registered(client, submit_token, runtime)
    before = saved(runtime, marked(1000), kind=documents.PROOF, registration_id=registration)
    after = saved(s3_runtime, marked(2000), kind=documents.PROOF, registration_id=registration)

    assert read(s3_runtime, before)[0] == marked(1000).content
    assert read(s3_runtime, after)[0] == marked(2000).content
    with s3_runtime.db.transaction() as session:
        retention.erase(session, session.get(models.Registration, registration),
                        s3_runtime.cipher, s3_runtime.settings.xml_out, s3_runtime.blobs)
    with s3_runtime.db.read() as session:
        assert session.scalar(select(func.count()).select_from(models.Document)) == 0
        assert session.scalar(select(func.count()).select_from(models.DocumentBlob)) == 0
    assert objects(s3_runtime) == {}


def test_an_object_store_that_refuses_to_delete_fails_the_erasure(
    client, submit_token, s3_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
):
    registration = registered(client, submit_token, s3_runtime)
    saved(s3_runtime, marked(), kind=documents.PROOF, registration_id=registration)
    refusal = {"Errors": [{"Key": "documents/x", "Code": "AccessDenied", "Message": "no"}]}
    monkeypatch.setattr(s3_client(s3_runtime), "delete_objects", lambda **_kwargs: refusal)

    with pytest.raises(RuntimeError, match="AccessDenied"), s3_runtime.db.transaction() as s:
        retention.erase(s, s.get(models.Registration, registration), s3_runtime.cipher,
                        s3_runtime.settings.xml_out, s3_runtime.blobs)

    with s3_runtime.db.read() as session:  # not erased: the scheduler tries again
        assert session.scalar(select(func.count()).select_from(models.Document)) == 1


def test_a_summary_kept_in_the_store_reaches_the_batch_file(client, submit_token,
                                                            s3_runtime: Runtime):
    """The payload job keeps the authority's summary where documents go; the batch file,
    packed from the database and the store, carries it in the message."""
    registered(client, submit_token, s3_runtime)
    process_queue(s3_runtime)

    [xml] = delivered(s3_runtime.settings).values()
    [sealed] = objects(s3_runtime).values()
    with s3_runtime.db.read() as session:
        [summary] = session.scalars(select(models.Document)).all()
        content = documents.content(session, s3_runtime.cipher, s3_runtime.blobs, summary)
    assert summary.kind == documents.SUMMARY and summary.location == "s3"
    assert content.startswith(b"%PDF-") and b"%PDF-" not in sealed
    assert base64.b64encode(content) in xml
