"""Documents on their way out (issue #27): in the messages, in batches bounded by bytes, in
files written with bounded memory, and in downloads that stream."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
import os
import tracemalloc
import zipfile
import zlib
from types import SimpleNamespace

from lxml import etree
from PIL import Image
from sqlalchemy import select

from intake import xaus
from intake.delivery import batch_files, batches, references
from intake.documents import files, proofs
from intake.documents import store as documents
from intake.runtime import Runtime
from intake.store import models
from tests.helpers import documents as made
from tests.helpers import official
from tests.helpers.api import authority_token, post
from tests.helpers.data import ADULT
from tests.helpers.pipeline import batch_file_names, cipher_of, delivered, process_queue

NS = {"xa": "http://www.osci.de/xauslaender2611"}


def registered(client, token: str, runtime) -> str:  # type: ignore[no-untyped-def]
    reference = post(client, token, ADULT).get_json()["reference"]
    with runtime.db.read() as session:
        return str(session.scalar(select(models.Registration.id).where(
            models.Registration.reference == reference)))


def save(runtime, registration_id: str, document: files.Document, **place) -> bytes:  # type: ignore[no-untyped-def]
    """Keep a document for the registration; its stored (cleaned) content."""
    with runtime.db.transaction() as session:
        row = documents.save(session, runtime.cipher, runtime.blobs, document,
                             registration_id=registration_id, **place)
        return documents.content(session, runtime.cipher, runtime.blobs, row)


def noisy_photo(seed: int, size: tuple[int, int] = (900, 650)) -> bytes:
    """A camera-like JPEG of ~0.5 MB: noise does not compress, as a scanned page barely does."""
    image = Image.frombytes("RGB", size, random_bytes(seed, size[0] * size[1] * 3))
    output = io.BytesIO()
    image.save(output, "JPEG", quality=90, exif=made.gps_exif())
    return output.getvalue()


def random_bytes(seed: int, count: int) -> bytes:
    out, block = bytearray(), hashlib.sha256(str(seed).encode()).digest()
    while len(out) < count:
        block = hashlib.sha256(block).digest()
        out += block * 64  # fast enough, and no two photos alike
    return bytes(out[:count])


def test_pages_and_proofs_reach_the_message_as_stored_without_exif(client, submit_token, runtime):
    registration_id = registered(client, submit_token, runtime)
    pages = [save(runtime, registration_id, files.accept(made.photo(size), "page.jpg"),
                  kind=documents.DOCUMENT_PAGE, person=0) for size in ((300, 200), (200, 300))]
    proof = save(runtime, registration_id, files.accept(made.photo(), "ankunft.jpg"),
                 kind=documents.PROOF, description=proofs.description(proofs.ARRIVAL))
    process_queue(runtime)

    [xml] = delivered(runtime.settings).values()
    if official.schema() is not None:
        xaus.validate(xml, official.schema())
    root = etree.fromstring(xml)
    sent = [base64.b64decode(text) for text in root.xpath(
        "xa:nachweis/xa:dokumentOderReferenz/xa:dokument/text()", namespaces=NS)]
    # The API asks no date of issue: the pages go as proofs, after the household's own.
    assert sent == [proof, *pages]
    assert all(made.PRIVATE not in content and b"Exif" not in content[:64] for content in sent)
    assert root.xpath("xa:nachweis/xa:bezeichnung/text()", namespaces=NS)[0] == "Ankunftsnachweis"
    summary = base64.b64decode(root.findtext(
        "xa:antragszusammenfassung/xa:dokumentOderReferenz/xa:dokument", namespaces=NS))
    assert summary.startswith(b"%PDF-") and b"pdfaid:part" in summary


def test_the_summary_is_the_same_when_the_job_runs_again(client, submit_token, runtime):
    from intake.delivery import enclosed
    from intake.registrations.booking import aware
    from intake.store.household_rows import authority_of, household_of

    registration_id = registered(client, submit_token, runtime)
    with runtime.db.read() as session:
        registration = session.get(models.Registration, registration_id)
        persons = session.scalars(select(models.Person).where(
            models.Person.registration_id == registration_id)).all()
        household = household_of(runtime.cipher, registration, persons)
        authority = models.table(models.Authority)
        row = session.execute(select(authority).where(
            authority.c.key == registration.authority_key)).one()
    made_twice = [enclosed.summary_pdf(
        runtime.settings, household, enclosed.Loaded(), reference=registration.reference,
        registered=aware(registration.created_at),
        authority=authority_of(row)) for _ in range(2)]
    assert made_twice[0] == made_twice[1]


def test_batches_are_bounded_by_bytes_and_every_message_is_in_one(client, submit_token, runtime):
    for seed in range(5):
        registration_id = registered(client, submit_token, runtime)
        for page in range(2):  # ~1 MB a message, as with two photographed pages
            save(runtime, registration_id, files.accept(noisy_photo(seed * 2 + page), "p.jpg"),
                 kind=documents.DOCUMENT_PAGE, person=0)
    bound = 2_500_000
    bounded = Runtime(dataclasses.replace(runtime.settings, batch_max_bytes=bound))
    try:
        process_queue(bounded)
    finally:
        bounded.close()

    names = batch_file_names(runtime.settings.xml_out)
    sizes = sorted(name.stat().st_size for name in names)
    assert len(names) == 3 and all(size <= bound for size in sizes), sizes
    assert sizes[-1] > bound * 0.7  # two messages of ~1 MB share a file
    assert len(delivered(runtime.settings)) == 5  # every member once (read_files raises else)


def test_a_large_batch_is_written_with_a_few_megabytes(tmp_path, runtime):
    """60 messages of 1 MB each: the zip is written member by member, through encryption,
    into the file; the peak is what one message takes a few times over, not the batch."""
    cipher = runtime.cipher
    batch = models.Batch(id="01BATCHLARGE", authority_key="073400", sequence=1,
                         created_at=models.utcnow(), count=60, sealed_to=None)
    # A message's worth of base64, as photos make it: deflate takes a quarter off, no more.
    message = base64.b64encode(os.urandom(750_000))
    messages = [f"{n:04d}.xml" for n in range(60)]

    def pack(out):  # type: ignore[no-untyped-def]
        packer = batches.Packer(cipher, batch, out)
        for name in messages:  # one stored message at a time, as the groups come
            xml = message + name.encode()
            stored = SimpleNamespace(id=name, file_name=name, registration_id="r",
                                     sha256=hashlib.sha256(xml).hexdigest(),
                                     payload=batches.seal(cipher, name, xml)[0])
            packer.add([stored])  # type: ignore[list-item]
        packer.finish()

    tracemalloc.start()
    try:
        written = batch_files.write_packed(cipher, tmp_path, batch, None, pack)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert written.stat().st_size > 55_000_000
    assert peak < 12_000_000, f"peak {peak / 1e6:.1f} MB for a {written.stat().st_size / 1e6:.0f} MB file"
    with written.open("rb") as file:
        zipped = b"".join(batch_files.opened_pieces(cipher, batch.id, file))
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["count"] == 60 and [m["name"] for m in manifest["members"]] == messages
        for member in manifest["members"]:
            assert hashlib.sha256(archive.read(member["name"])).hexdigest() == member["sha256"]


def test_downloads_stream_the_file_and_a_tampered_one_gives_nothing(client, submit_token, runtime):
    post(client, submit_token, ADULT)
    process_queue(runtime)
    token = authority_token(runtime, "073400")
    [listed] = client.get("/api/v1/batches", headers={"Authorization": f"Bearer {token}"}).json["batches"]
    response = client.get(listed["url"], headers={"Authorization": f"Bearer {token}"})
    assert response.is_streamed
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        assert "manifest.json" in archive.namelist()

    [path] = batch_file_names(runtime.settings.xml_out)
    text = bytearray(path.read_bytes())
    text[len(text) // 2] = ord("A") if text[len(text) // 2] != ord("A") else ord("B")
    path.write_bytes(bytes(text))
    with path.open("rb") as file:
        try:
            pieces = list(batch_files.opened_pieces(cipher_of(runtime.settings), listed["id"], file))
        except ValueError:
            pieces = []
    assert pieces == []


def test_messages_stored_before_their_size_was_kept_are_counted_by_their_payload(runtime):
    import datetime as dt

    from sqlalchemy import update

    from intake.dataset.schemas import HouseholdSchema
    from intake.delivery import jobs, outbox
    from intake.registrations import register
    from intake.runtime import bind

    for _ in range(3):
        register.register(runtime, HouseholdSchema().load(ADULT))
    bind(runtime)
    outbox.relay(runtime)
    with runtime.db.read() as session:
        jobs.build_payloads(list(session.scalars(select(models.Outbox.id))))
    with runtime.db.transaction() as session:
        kept = dict(session.execute(select(models.Message.id, models.Message.stored_bytes)).all())
        payloads = session.execute(select(models.MessagePayload.message_id,
                                          models.MessagePayload.payload,
                                          models.Message.registration_id).join(models.Message)).all()
        found = references.kept(session, runtime.blobs, {row[2] for row in payloads})
        for message_id, payload, registration_id in payloads:
            # A member's bytes: the whole message (its summary back), deflated alone, in base64.
            xml = found.attach(runtime.cipher, message_id, registration_id,
                               batches.unseal(runtime.cipher, message_id, payload))
            member = zlib.compress(xml, batches.ZIP_LEVEL)
            assert kept[message_id] == len(base64.b64encode(member))
            # As stored before 0018: deflated alone, its size not kept.
            before = runtime.cipher.encrypt_bytes(member, batches.message_context(message_id))
            kept[message_id] = len(before)  # what it is counted by now
            session.execute(update(models.MessagePayload).where(
                models.MessagePayload.message_id == message_id).values(payload=before))
        session.execute(update(models.Message).values(stored_bytes=None))
    two = batches.FILE_BYTES + 2 * (max(kept.values()) + batches.MEMBER_BYTES)
    with runtime.db.transaction() as session:
        counts = [batches.assemble(session, "073400", dt.datetime.now(dt.UTC), max_bytes=two)
                  for _ in range(3)]
        assert [batch.count if batch else None for batch in counts] == [2, 1, None]


def test_a_document_that_cannot_be_read_holds_back_its_household_only(
        client, submit_token, runtime):
    """Its content gone from the store (or not decrypted): that household's messages wait,
    with the reason for operators, and the others' are built and delivered."""
    from sqlalchemy import delete

    broken, whole = (registered(client, submit_token, runtime) for _ in range(2))
    for registration_id in (broken, whole):
        save(runtime, registration_id, files.accept(made.photo(), "p.jpg"),
             kind=documents.DOCUMENT_PAGE, person=0)
    with runtime.db.transaction() as session:
        gone = session.scalar(select(models.Document.id).where(
            models.Document.registration_id == broken))
        session.execute(delete(models.DocumentBlob).where(
            models.DocumentBlob.document_id == gone))

    process_queue(runtime)

    assert len(delivered(runtime.settings)) == 1  # before: 0, the part's job failed whole
    with runtime.db.read() as session:
        failures = dict(session.execute(select(models.Outbox.registration_id,
                                               models.Outbox.failure)).all())
    assert failures[whole] is None
    assert failures[broken] and failures[broken].startswith("RuntimeError")
