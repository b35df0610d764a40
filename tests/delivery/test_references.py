"""A household's summary, proofs and pages are kept once, and its stored messages name them
(delivery.references): what the batch file carries is the whole message all the same."""

from __future__ import annotations

import base64
import hashlib

import pytest
from sqlalchemy import delete, select

from intake.delivery import batches, references
from intake.documents import files, proofs
from intake.documents import store as documents
from intake.security.crypto import FieldCipher
from intake.store import models
from tests.helpers import documents as made
from tests.helpers.api import post
from tests.helpers.data import ADULT
from tests.helpers.pipeline import delivered, process_queue

CHILD = {**ADULT["persons"][0], "role": "child", "given_names": "Sofiia",  # type: ignore[dict-item]
         "date_of_birth": "2016-03-02", "document": {"type": "passport", "number": "FE765432"}}
SPOUSE = {**ADULT["persons"][0], "role": "spouse", "given_names": "Taras", "sex": "male",  # type: ignore[dict-item]
          "date_of_birth": "1988-01-09", "document": {"type": "passport", "number": "FE345678"}}
FAMILY = {**ADULT, "persons": [ADULT["persons"][0], SPOUSE, CHILD]}  # type: ignore[index]
CIPHER = FieldCipher((("k", b"k" * 32),), b"i" * 32)


def test_a_household_keeps_its_enclosures_once_and_every_file_carries_them(
    client, submit_token, runtime
):
    reference = post(client, submit_token, FAMILY).get_json()["reference"]
    with runtime.db.transaction() as session:
        registration_id = session.scalar(select(models.Registration.id).where(
            models.Registration.reference == reference))
        proof = documents.save(session, runtime.cipher, runtime.blobs,
                               files.accept(made.photo(), "ankunft.jpg"), kind=documents.PROOF,
                               registration_id=registration_id,
                               description=proofs.description(proofs.ARRIVAL))
        photo = documents.content(session, runtime.cipher, runtime.blobs, proof)
    process_queue(runtime)

    sent = delivered(runtime.settings)
    with runtime.db.read() as session:
        [summary] = session.scalars(select(models.Document).where(
            models.Document.kind == documents.SUMMARY)).all()
        summary_pdf = documents.content(session, runtime.cipher, runtime.blobs, summary)
        stored = session.execute(select(models.Message.id, models.MessagePayload.payload).join(
            models.MessagePayload)).all()
    assert len(sent) == len(stored) == 3
    assert summary.registration_id == registration_id and summary_pdf.startswith(b"%PDF-")
    for xml in sent.values():  # every member's message carries the summary and the proof
        assert base64.b64encode(summary_pdf) in xml and base64.b64encode(photo) in xml
    # What is kept of a message is its own data: the three together take less than the
    # summary alone, which each of them carried before (2026-12-07: 17-22 KB each).
    kept = [batches.unseal(runtime.cipher, message_id, payload) for message_id, payload in stored]
    assert sum(len(payload) for _id, payload in stored) < len(summary_pdf)
    assert not any(base64.b64encode(summary_pdf) in xml or base64.b64encode(photo) in xml
                   for xml in kept)


def test_a_message_whose_document_is_gone_is_not_packed(client, submit_token, runtime):
    post(client, submit_token, ADULT)
    process_queue(runtime)
    with runtime.db.transaction() as session:
        batch = session.scalars(select(models.Batch)).one()
        session.execute(delete(models.DocumentBlob))
        session.execute(delete(models.Document))
        with pytest.raises(references.MissingEnclosure):
            batches.archive(session, runtime.cipher, runtime.blobs, batch)


def test_detach_names_only_what_is_kept_and_attach_puts_it_back():
    summary, page = b"%PDF-1.7 summary", b"\xff\xd8\xff page"
    kept_elsewhere = base64.b64encode(b"not kept")
    xml = b"".join(b"<xa:dokument>%s</xa:dokument>" % base64.b64encode(content)
                   for content in (summary, page, summary)) + (
        b"<xa:dokument>%s</xa:dokument><xa:dokumententyp>x</xa:dokumententyp>" % kept_elsewhere)
    stored = references.detach(xml, references.digests(CIPHER, [summary, page]))
    assert summary not in stored and base64.b64encode(page) not in stored
    assert stored.count(b"\x00") == 3 and kept_elsewhere in stored
    found = references.Kept({  # the summary with a key of its own, the page stored before
        ("r1", documents.digest(CIPHER, summary)): (
            "d1", *documents.seal_content(CIPHER, "d1", summary)),
        ("r1", documents.digest(CIPHER, page)): (
            "d2", None, CIPHER.seal(page, documents.content_context("d2")))})
    assert found.attach(CIPHER, "m1", "r1", stored) == xml
    with pytest.raises(references.MissingEnclosure):  # another household's documents
        found.attach(CIPHER, "m1", "r2", stored)
    assert references.NOTHING_KEPT.attach(CIPHER, "m1", "r1", xml) == xml  # stored whole
    assert hashlib.sha256(found.attach(CIPHER, "m1", "r1", stored)).digest() == \
        hashlib.sha256(xml).digest()
