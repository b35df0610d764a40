"""Seeding for bench/scale.py: registrations written through the service's own store layer.

Households of 1-6 persons from Ukraine, Syria, Afghanistan and third countries
(bench/scale_households.py), routed over the imported national directory's authorities (a
few large ones take most). They are prepared (JSON, encryption, blind
indexes: `household_rows.prepare`) in a pool of processes, CHUNK households at a time, and
written by `household_rows.write` in one transaction a chunk, together with:
  - for DELIVERED of them, their messages in a batch per authority and chunk, acknowledged:
    real messages built once per template, each message's payload sealed for its own id
    as `batches.seal` does (the template compressed once; see `_sealed`), so payload sizes
    are real, and naming the household's summary PDF, kept once as its document of kind
    SUMMARY as the payload job keeps it (`enclosed.keep_summary`; here in bulk); each
    batch with a stand-in file of its size under the data key (`_stand_in_files`);
  - their outbox rows done and their confirmation mails sent (the pipeline's work is over);
  - ERASED of them erased on request before delivery (as `retention.erase` does it);
  - DOCUMENT_SHARE of them with one stored page (`documents.store.save`, a phone photo made
    safe by `files.accept`, about 420 KB as kept).
Every random choice comes from a fixed seed: the same households on every run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import heapq
import multiprocessing
import os
import random
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from scale_households import GROUPS, Households, templates
from sqlalchemy import func, insert, select, update

from intake import xaus
from intake.dataset import domain
from intake.delivery import batch_files, batches, building, enclosed, references
from intake.delivery.files import private_folder
from intake.documents import files
from intake.documents import store as documents
from intake.documents.blobs import DATABASE
from intake.registrations import routing
from intake.runtime import Runtime
from intake.security.crypto import FieldCipher
from intake.store import blind_index, household_rows, models, packing, stored_form

CHUNK = int(os.environ.get("INTAKE_SCALE_CHUNK", "2000"))  # households a transaction
DELIVERED, ERASED = 0.30, 0.03
# One page of ~420 KB each: 10 % of a million households would be 42 GB a database.
DOCUMENT_SHARE = float(os.environ.get("INTAKE_SCALE_DOCUMENT_SHARE", "0.02"))
SEED = 29
# Per (group, household size): each member's message as stored (packed, its summary named),
# its bytes in a batch file and its sha256; and the summary PDF the messages name.
Templates = dict[tuple[str, int], tuple[list[tuple[bytes, int, str]], bytes]]

@dataclass
class Chunk:
    """One transaction's rows, as a pool process prepares them."""

    submissions: list[household_rows.Submission]
    messages: list[dict[str, Any]] = field(default_factory=list)
    payloads: list[dict[str, Any]] = field(default_factory=list)
    summaries: list[dict[str, Any]] = field(default_factory=list)  # document rows
    summary_blobs: list[dict[str, Any]] = field(default_factory=list)
    batches: list[dict[str, Any]] = field(default_factory=list)
    erased: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    pending_persons: list[tuple[str, str]] = field(default_factory=list)  # not delivered
    samples: list[dict[str, Any]] = field(default_factory=list)


# --- a pool process's part ------------------------------------------------------------------

_state: dict[str, Any] = {}


def _start(keys: tuple[tuple[str, bytes], ...], index_key: bytes, routes: Any, weights: Any,
           payloads: Templates) -> None:
    _state.update(cipher=FieldCipher(keys, index_key), routes=routes, weights=weights,
                  payloads=payloads, shapes=templates())


def _sealed(cipher: FieldCipher, message_id: str, compressed: bytes) -> str:
    """A payload as `batches.seal` stores it, from the template's packed XML
    (`batches.packed`: packing each copy again cost a millisecond a message). Checked
    against `batches.unseal` when the bench starts (`check_sealing`)."""
    return cipher.encrypt_bytes(compressed, batches.message_context(message_id))


def _keep_summary(chunk: Chunk, cipher: FieldCipher, registration_id: str, summary: bytes,
                  now: dt.datetime) -> None:
    """The rows `documents.save` writes for a household's summary kept in the database."""
    document_id = models.new_id()
    content_key, sealed = documents.seal_content(cipher, document_id, summary)
    chunk.summaries.append({
        "id": document_id, "registration_id": registration_id, "kind": documents.SUMMARY,
        "media_type": enclosed.PDF, "size": len(summary), "key_id": cipher.current_key_id,
        "content_key": content_key, "digest": documents.digest(cipher, summary),
        "location": DATABASE, "created_at": now})
    chunk.summary_blobs.append({"document_id": document_id, "content": sealed})


def prepare_chunk(number: int, count: int, sample_rate: float) -> Chunk:
    """Chunk `number` (its households are the same on every run)."""
    rng = random.Random(SEED * 1_000_003 + number)
    cipher: FieldCipher = _state["cipher"]
    made = Households(rng, _state["shapes"], _state["routes"], _state["weights"])
    chunk = Chunk([])
    now = dt.datetime.now(dt.UTC)
    carriers: dict[str, dict[str, Any]] = {}
    for _ in range(count):
        household, authority, group = made.make()
        submission = household_rows.prepare(cipher, household, authority)
        submission.mail_cipher = None  # its mail is made; the cipher stays here
        chunk.submissions.append(submission)
        registration_id = submission.registration["id"]
        draw = rng.random()
        if draw < DELIVERED:
            batch = carriers.setdefault(authority.key, {
                "id": models.new_id(), "authority_key": authority.key, "created_at": now,
                "count": 0, "acknowledged_at": now})
            messages, summary = _state["payloads"][group, len(household.persons)]
            _keep_summary(chunk, cipher, registration_id, summary, now)
            for person, (compressed, in_file, sha256) in zip(submission.persons, messages,
                                                             strict=True):
                message_id = models.new_id()
                payload = _sealed(cipher, message_id, compressed)
                chunk.messages.append({
                    "id": message_id, "person_id": person["id"],
                    "registration_id": registration_id, "authority_key": authority.key,
                    "message_uuid": str(uuid.uuid4()),
                    "file_name": f"{person['application_id']}.xml", "sha256": sha256,
                    "created_at": now, "batch_id": batch["id"], "stored_bytes": in_file})
                chunk.payloads.append({"message_id": message_id, "payload": payload})
                batch["count"] += 1
        elif draw < DELIVERED + ERASED:
            chunk.erased.append(registration_id)
        else:
            chunk.pending_persons += [(person["id"], registration_id)
                                      for person in submission.persons]
        if rng.random() < DOCUMENT_SHARE and registration_id not in chunk.erased:
            chunk.documents.append(registration_id)
        # Status pages, searches and duplicate checks of people waiting for delivery (the
        # retention sweep erases delivered ones).
        if rng.random() < sample_rate and draw >= DELIVERED + ERASED:
            applicant = household.persons[0]
            chunk.samples.append({
                "token": submission.status_token, "authority": authority.key,
                "name": f"{applicant.family_name} {applicant.given_names}",
                "born": str(applicant.date_of_birth),
                "persons": [stored_form.person_document(person) for person in household.persons],
                "key": rng.random() ** sample_rate,  # weighted reservoir (A-Res): 1/rate each
            })
    chunk.batches = list(carriers.values())
    return chunk


# --- the bench's side -------------------------------------------------------------------------

def routes_of(runtime: Runtime) -> tuple[list[tuple[str, domain.Authority]], list[float]]:
    """Postal codes routed whole to an authority, weighted: a few authorities (cities)
    take most registrations, as Berlin, Hamburg and Munich did."""
    with runtime.db.read() as session:
        codes = session.scalars(select(models.PostalRoute.postal_code).distinct()
                                .order_by(models.PostalRoute.postal_code)).all()
        found = []
        for code in codes:
            with_places = routing.routing(session, code)
            if not with_places.asks and with_places.places[0].authority is not None:
                found.append((code, with_places.places[0].authority))
    keys = sorted({authority.key for _code, authority in found})
    rank = {key: n + 1 for n, key in enumerate(random.Random(SEED).sample(keys, len(keys)))}
    per_key: dict[str, int] = {}
    for _code, authority in found:
        per_key[authority.key] = per_key.get(authority.key, 0) + 1
    weights = [1 / rank[authority.key] ** 0.8 / per_key[authority.key] for _c, authority in found]
    return found, weights


def message_payloads(runtime: Runtime) -> Templates:
    """Each template's messages as the worker builds them, packed as `batches.seal` packs
    them (the summary named), with their bytes in a batch file and the XML's sha256; and
    the summary they name."""
    authority = domain.Authority("073400", "STV Potsdam",
                                 domain.Address("Friedrich-Ebert-Str.", "79", "14467", "Potsdam"))
    made = Households(random.Random(SEED), templates(), [("14467", authority)], [1.0])
    built: Templates = {}
    now = dt.datetime.now(dt.UTC)
    for group, size in templates():
        household = made.shapes[group, size]
        household = dataclasses.replace(household, persons=tuple(
            made._person(person, group, GROUPS[group][2] or "NG", made._family(group, "NG"))
            for person in household.persons))
        enclosures = enclosed.enclosures(runtime.settings, household, None,
                                         reference="BENCH-00001", registered=now,
                                         authority=authority)
        ids = [str(uuid.uuid4()) for _ in household.persons]
        envelope = xaus.Envelope(uuid.uuid4(), now, authority, building.sender(runtime.settings))
        kept = references.digests(runtime.cipher, enclosed.contents(enclosures))
        assert enclosures.summary is not None
        built[group, size] = ([
            (batches.packed(references.detach(xml, kept)), batches.file_bytes(xml),
             hashlib.sha256(xml).hexdigest())
            for xml in (xaus.render(household, index, application_ids=ids, envelope=envelope,
                                    application_date=now.date(), schema=runtime.schema,
                                    enclosed=enclosures)
                        for index in range(size))], enclosures.summary.content)
    return built


def check_sealing(cipher: FieldCipher, compressed: bytes) -> None:
    message_id = models.new_id()
    assert batches.unseal(cipher, message_id, _sealed(cipher, message_id, compressed)) \
        == packing.unpack(compressed, (batches.MESSAGE_DICTIONARY,))


class Seeder:
    """Grows one database: `grow(target)` seeds up to `target` registrations."""

    def __init__(self, runtime: Runtime, page: files.Document, processes: int = 2) -> None:
        self.runtime, self.page = runtime, page
        self.routes, self.weights = routes_of(runtime)
        self.payloads = message_payloads(runtime)
        check_sealing(runtime.cipher, self.payloads["ua", 1][0][0][0])
        self.processes = processes
        self.pool = self._pool()
        self.count = self.chunks = 0
        self.sequences: dict[str, int] = {}
        self._reservoir: list[tuple[float, int, dict[str, Any]]] = []
        self.seen = 0
        self.pending: list[tuple[str, str]] = []  # recent persons without a message
        self.documents = self.files = 0

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()

    def _pool(self) -> Any:
        settings = self.runtime.settings
        return multiprocessing.get_context("fork").Pool(self.processes, _start, (
            settings.data_keys, settings.index_key, self.routes, self.weights, self.payloads))

    def rekey(self, runtime: Runtime) -> None:
        """After a key rotation: prepare with the new keys."""
        self.close()
        self.runtime = runtime
        self.pool = self._pool()

    def sealed(self, message_id: str, group: str = "ua",
               size: int = 1) -> tuple[str, int, str]:
        """A sealed payload for a message (as the worker stores it), its bytes in a batch
        file and its XML's sha256."""
        compressed, in_file, sha256 = self.payloads[group, size][0][0]
        return _sealed(self.runtime.cipher, message_id, compressed), in_file, sha256

    def keep_summaries(self, session: Any, registration_ids: set[str]) -> None:
        """The summary `sealed`'s messages name, kept for each of these registrations."""
        chunk, now = Chunk([]), dt.datetime.now(dt.UTC)
        for registration_id in sorted(registration_ids):
            _keep_summary(chunk, self.runtime.cipher, registration_id,
                          self.payloads["ua", 1][1], now)
        _insert_summaries(session, chunk)

    def biggest_authorities(self, count: int) -> tuple[str, ...]:
        """The authorities that take the most registrations, most first."""
        weights: dict[str, float] = {}
        for (_code, authority), weight in zip(self.routes, self.weights, strict=True):
            weights[authority.key] = weights.get(authority.key, 0) + weight
        return tuple(sorted(weights, key=weights.__getitem__, reverse=True)[:count])

    def grow(self, target: int, keep: int = 2000) -> float:
        """Seed up to `target` registrations; seconds it took."""
        started = time.monotonic()
        with self.runtime.db.read() as session:  # the service numbered batches meanwhile
            self.sequences = dict(session.execute(  # type: ignore[arg-type]
                select(models.Batch.authority_key, func.max(models.Batch.sequence))
                .group_by(models.Batch.authority_key)).all())
        sizes = []
        while self.count + sum(sizes) < target:
            sizes.append(min(CHUNK, target - self.count - sum(sizes)))
        rate = min(1.0, 4 * keep / target)
        # A few chunks prepared ahead of the one written, not all: the processes prepare
        # faster than one connection writes, and with `imap` the chunks waiting piled up in
        # this process (5.5 GB at 1,000,000, kept through the measurements, out of the page
        # cache SQLite reads through).
        ahead: deque[Any] = deque()
        for n, size in enumerate(sizes):
            ahead.append(self.pool.apply_async(_prepare, ((self.chunks + n, size, rate),)))
            if len(ahead) > 2 * self.processes:
                self._write(ahead.popleft().get(), keep)
        while ahead:
            self._write(ahead.popleft().get(), keep)
        self.chunks += len(sizes)
        return time.monotonic() - started

    def _write(self, chunk: Chunk, keep: int) -> None:
        runtime = self.runtime
        for batch in chunk.batches:
            batch["sequence"] = self.sequences[batch["authority_key"]] = \
                self.sequences.get(batch["authority_key"], 0) + 1
        now = dt.datetime.now(dt.UTC)
        with runtime.db.transaction() as session:
            household_rows.write(session, chunk.submissions)
            connection = session.connection()
            if chunk.batches:
                connection.execute(insert(models.table(models.Batch)), chunk.batches)
                connection.execute(insert(models.table(models.Message)), chunk.messages)
                connection.execute(insert(models.table(models.MessagePayload)), chunk.payloads)
                _insert_summaries(connection, chunk)
            connection.execute(update(models.Outbox).where(models.Outbox.pending())
                               .values(enqueued_at=now, done_at=now))
            connection.execute(update(models.Mail).where(models.Mail.pending())
                               .values(enqueued_at=now, claimed_at=now, sent_at=now, data=None))
            if chunk.erased:
                _erase_undelivered(connection, chunk.erased, now)
            for registration_id in chunk.documents:
                documents.save(session, runtime.cipher, runtime.blobs, self.page,
                               kind=documents.DOCUMENT_PAGE, registration_id=registration_id,
                               person=0)
        self._stand_in_files(chunk)
        self.documents += len(chunk.documents)
        self.count += len(chunk.submissions)
        self.pending = (chunk.pending_persons + self.pending)[:6000]
        for sample in chunk.samples:  # a uniform sample of all seeded so far
            item = (sample["key"], self.seen, sample)
            self.seen += 1
            if len(self._reservoir) < keep:
                heapq.heappush(self._reservoir, item)
            elif item[0] > self._reservoir[0][0]:
                heapq.heapreplace(self._reservoir, item)

    def _stand_in_files(self, chunk: Chunk) -> None:
        """A file for each seeded batch, where its batch job would have written it: under
        the data key, as large as its messages make it. Its content is random bytes, which
        nothing here reads (rotation encrypts files again as they are; the sweep deletes
        them). Without files, the scheduler writes every one from the database while the
        bench measures, as it repairs files a crash lost."""
        sizes: dict[str, int] = {}
        for message in chunk.messages:
            sizes[message["batch_id"]] = sizes.get(message["batch_id"], 0) + message["stored_bytes"]
        cipher, xml_out = self.runtime.cipher, self.runtime.settings.xml_out
        for batch in chunk.batches:
            target = batch_files.path(xml_out, models.Batch(
                id=batch["id"], authority_key=batch["authority_key"], sealed_to=None))
            private_folder(target.parent)
            target.write_text(cipher.encrypt_bytes(os.urandom(sizes.get(batch["id"], 0)),
                                                   batch_files.context(batch["id"])))
            self.files += 1

    @property
    def samples(self) -> list[dict[str, Any]]:
        return [sample for _key, _n, sample in sorted(self._reservoir, key=lambda i: i[1])]


def _insert_summaries(connection: Any, chunk: Chunk) -> None:
    connection.execute(insert(models.table(models.Document)), chunk.summaries)
    connection.execute(insert(models.table(models.DocumentBlob)), chunk.summary_blobs)


def _erase_undelivered(connection: Any, registration_ids: list[str], now: dt.datetime) -> None:
    """What `retention.erase` does to registrations erased on request before any message was
    built, with no documents, no idempotency key and no mail owed (as seeded here), for a
    chunk at once: one erasure through the ORM took 10-40 ms, a third of seeding's time."""
    connection.execute(update(models.Registration)
                       .where(models.Registration.id.in_(registration_ids))
                       .values(data=None, email_index=None, erased_at=now))
    connection.execute(update(models.Person)
                       .where(models.Person.registration_id.in_(registration_ids))
                       .values(data=None, **dict.fromkeys(blind_index.COLUMNS)))


def _prepare(arguments: tuple[int, int, float]) -> Chunk:
    return prepare_chunk(*arguments)
