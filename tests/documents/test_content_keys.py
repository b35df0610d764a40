"""A key of its own for each document's content: kept in its row under the data key,
sealed again by rotation instead of the content, and erased with the row, which leaves
whatever is left of the content unopenable."""

from __future__ import annotations

import dataclasses
import os

import pytest
from sqlalchemy import select, text, update

from intake.config import new_data_key, parse_data_keys
from intake.documents import files
from intake.documents import store as documents
from intake.registrations import retention
from intake.runtime import Runtime
from intake.security.crypto import DecryptionError
from intake.store import models
from tests.documents.test_store import marked, read, registered, saved
from tests.helpers import documents as made
from tests.helpers.privacy import raw_database_text


def stored_content(runtime: Runtime, document_id: str) -> bytes:
    table = models.table(models.DocumentBlob)
    with runtime.db.read() as session:
        return bytes(session.scalar(select(table.c.content).where(
            table.c.document_id == document_id)))


def row_of(runtime: Runtime, document_id: str) -> models.Document:
    with runtime.db.read() as session:
        row = session.get(models.Document, document_id)
        assert row is not None
        return row


def test_a_documents_content_opens_with_its_own_key_only(client, submit_token, runtime):
    registration = registered(client, submit_token, runtime)
    one, other = (saved(runtime, marked(size), kind=documents.PROOF,
                        registration_id=registration) for size in (1000, 2000))

    key = row_of(runtime, one).content_key
    assert key is not None and key.startswith(f"{runtime.cipher.current_key_id}.")
    with pytest.raises(DecryptionError):  # the data key alone opens nothing
        runtime.cipher.unseal(f"{runtime.cipher.current_key_id}.".encode()
                              + stored_content(runtime, one), documents.content_context(one))
    with runtime.db.transaction() as session:  # another document's key, moved to this row
        session.execute(update(models.Document).where(models.Document.id == other)
                        .values(content_key=key))
    with pytest.raises(DecryptionError):
        read(runtime, other)
    assert read(runtime, one)[0] == marked(1000).content


def test_rotation_seals_the_keys_again_in_one_part_and_leaves_the_content_as_it_is(
        client, submit_token, runtime, monkeypatch):
    registration = registered(client, submit_token, runtime)
    ids = [saved(runtime, marked(size), kind=documents.PROOF, registration_id=registration)
           for size in (1000, 2000, 3000)]
    contents = {document_id: stored_content(runtime, document_id) for document_id in ids}
    monkeypatch.setattr(documents, "ROTATE_BYTES", 2500)  # each content alone would not fit
    parts, rotate_part = [], documents._rotate_part
    monkeypatch.setattr(documents, "_rotate_part", lambda db, cipher, blobs, part: (
        parts.append(len(part)), rotate_part(db, cipher, blobs, part))[1])
    new_keys = parse_data_keys(new_data_key("t2")) + runtime.settings.data_keys
    rotated = Runtime(dataclasses.replace(runtime.settings, data_keys=new_keys))
    seal_key = rotated.cipher.encrypt_bytes

    def erased_meanwhile(key: bytes, context: str) -> str:  # after the read, before the write
        if context == documents.key_context(ids[1]):
            with runtime.db.transaction() as other:
                documents.remove(other, runtime.blobs, models.Document.id == ids[1])
        return seal_key(key, context)

    monkeypatch.setattr(rotated.cipher, "encrypt_bytes", erased_meanwhile)

    assert documents.rotate(rotated.db, rotated.cipher, rotated.blobs) == 2
    assert parts == [3]
    only_new = Runtime(dataclasses.replace(runtime.settings, data_keys=new_keys[:1]))
    for n in (0, 2):
        assert stored_content(only_new, ids[n]) == contents[ids[n]]
        row = row_of(only_new, ids[n])
        assert row.key_id == "t2" and str(row.content_key).startswith("t2.")
        assert read(only_new, ids[n])[0] == marked(1000 * (n + 1)).content
    with only_new.db.read() as session:
        assert session.get(models.Document, ids[1]) is None
    rotated.close()
    only_new.close()


def test_an_erased_documents_key_is_overwritten_and_older_content_too(
        client, submit_token, runtime):
    """On SQLite the content with a key of its own may stay in free pages, unopenable (not
    writing over it took a quarter of a sweep's time); its key, in the row, is overwritten;
    content stored before migration 0023, under the data key, is overwritten as ever."""
    if not runtime.settings.database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL keeps deleted rows until vacuum, whatever is asked")
    erased, kept = (registered(client, submit_token, runtime) for _ in range(2))
    page = files.Document("application/pdf", os.urandom(200_000), "", 1, None)
    keyed = saved(runtime, page, kind=documents.PROOF, registration_id=erased)
    older = saved(runtime, marked(), kind=documents.PROOF, registration_id=erased)
    older_sealed = made.stored_before_0023(runtime, older)
    key, sealed = row_of(runtime, keyed).content_key, stored_content(runtime, keyed)
    saved(runtime, marked(1000), kind=documents.PROOF, registration_id=kept)

    with runtime.db.transaction() as session:
        retention.erase(session, session.get(models.Registration, erased), runtime.cipher,
                        runtime.settings.xml_out, runtime.blobs)
    with runtime.db.engine.connect() as connection:  # the log's pages into the file
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))

    stored = raw_database_text(runtime)
    assert str(key).partition(".")[2].encode() not in stored
    assert not any(older_sealed[at:at + 64] in stored for at in range(0, 40_000, 2_000))
    left = sum(sealed[at:at + 64] in stored for at in range(0, 200_000, 2_000))
    assert left > 50  # not written over: what the sweep saves


def test_a_downgrade_past_0023_is_refused_while_a_content_needs_its_own_key(
        client, submit_token, runtime):
    registration = registered(client, submit_token, runtime)
    document_id = saved(runtime, marked(1000), kind=documents.PROOF,
                        registration_id=registration)

    with pytest.raises(RuntimeError, match="keys of their own"):
        runtime.db.downgrade("0022")
    assert read(runtime, document_id)[0] == marked(1000).content  # still at the head

    made.stored_before_0023(runtime, document_id)
    runtime.db.downgrade("0022")
    with runtime.db.read() as session:  # as 0022 left it, the content under the data key
        sealed = session.scalar(text("SELECT content FROM document_blob"))
    assert runtime.cipher.unseal(bytes(sealed), documents.content_context(document_id)) == \
        marked(1000).content
    runtime.db.upgrade()
    assert read(runtime, document_id)[0] == marked(1000).content
