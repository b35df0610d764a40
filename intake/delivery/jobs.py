"""Background work: the caller side (`enqueue_*`) and the job entry points.

Jobs take ids, never personal data (their arguments sit in Redis and in rq's registries),
and are safe to run twice: a finished outbox row makes a second run a no-op, and the
database allows one message per person.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.metadata
import logging
from dataclasses import dataclass
from typing import Any, BinaryIO

from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from sqlalchemy import Row, insert, select, update
from sqlalchemy.orm import Session

from intake import progress, xaus
from intake.config import Settings
from intake.dataset import domain
from intake.delivery import background, batch_files, batches, enclosed
from intake.documents import fonts
from intake.registrations.booking import LOCAL_TIME, aware
from intake.runtime import Runtime, bound
from intake.store import models
from intake.store.household_rows import Erased, authority_of, household_of

log = logging.getLogger(__name__)

def enqueue_payloads(queue: Queue, outbox_ids: list[int]) -> str:
    """Queue the build of a chunk of outbox rows as one job; returns the job's id.

    The job id names the chunk (its ends and a digest of all its ids: rows put back by the
    reconciler can make a chunk with the same ends), so the same chunk is never queued
    twice; an overlapping chunk (after a relay crash) is harmless, since a row already done
    is skipped.
    """
    digest = hashlib.sha256(",".join(map(str, outbox_ids)).encode()).hexdigest()[:12]
    job_id = f"payload-{outbox_ids[0]}-{outbox_ids[-1]}-{digest}"
    try:
        queue.enqueue_call(
            "intake.delivery.jobs.build_payloads",
            args=[outbox_ids],
            job_id=job_id,
            unique=True,
            retry=Retry(max=3, interval=[10, 60, 300]),
            failure_ttl=30 * 24 * 3600,
        )
    except DuplicateJobError:
        log.info("job %s is queued already", job_id)
    return job_id


# Outbox rows stored per transaction. A job carries more (INTAKE_RELAY_CHUNK) to spread the
# cost of forking its work horse; its writes stay this short, since on SQLite the write lock
# they hold is the whole database's, and registrations wait for it.
STORE_ROWS = 200


def build_payloads(outbox_ids: list[int]) -> int:
    """Build the messages of several outbox rows and store them in short transactions.

    The rows are read, then taken in parts of at most STORE_ROWS rows whose documents fit
    `enclosed.PART_BYTES`: a part's documents are read, its messages built outside any
    transaction (on SQLite the write lock is the whole database's, and building takes far
    longer than storing; building, at the lowest priority, may wait long), then stored in
    one transaction that marks its rows done. A row whose messages cannot be built is left
    undone and does not stop the others; the job then fails as a whole, so rq retries it,
    skipping the rows done.
    """
    runtime = bound()
    with runtime.db.read() as session:
        work = _owed(session, outbox_ids)
    written, failed = 0, {}
    for part in enclosed.parts(work.rows, work.carried, STORE_ROWS):
        with_documents = {key for _row, key in part if work.carried.get(key)}
        documents = {}
        if with_documents:
            with runtime.db.read() as session:
                documents = enclosed.load(session, runtime.cipher, runtime.blobs, with_documents)
        built, part_failed = background.compute(_build, runtime, work, part, documents)
        failed.update(part_failed)
        with runtime.db.transaction() as session:
            written += _store(session, built)
    _batch_when_full(runtime, {row.authority_key for row in work.registrations.values()})
    if failed:
        with runtime.db.transaction() as session:  # operators and the status page see it
            for row, reason in failed.items():
                session.execute(
                    update(_OUTBOX)
                    .where(_OUTBOX.c.id == row, _OUTBOX.c.done_at.is_(None))
                    .values(failure=reason)
                )
        raise RuntimeError(f"{len(failed)} of {len(outbox_ids)} outbox rows failed")
    return written


def warm(runtime: Runtime) -> None:
    """Do once in the worker what each forked work horse would otherwise do for every job:
    make the database engine and compile the job's statements, set up the data keys' ciphers,
    write the summary's fonts. The connections are closed again, since a horse must open its
    own; the rest stays."""
    _ = runtime.cipher
    fonts.warm()
    with runtime.db.read() as session:
        _owed(session, [])
        batches.pending(session, "")
    runtime.db.dispose()


def _batch_when_full(runtime: Runtime, authority_keys: set[str]) -> None:
    """Size threshold: an authority with a full batch waiting gets it assembled now, not at
    the next scheduled round."""
    with runtime.db.read() as session:
        full = [
            key for key in sorted(authority_keys)
            if batches.pending(session, key) >= batches.MAX_MESSAGES
            or batches.pending_bytes(session, key) >= runtime.settings.batch_max_bytes
        ]
    for authority_key in full:
        enqueue_batches(runtime.queue("batches"), authority_key)


_OUTBOX, _REGISTRATION, _PERSON, _MESSAGE, _AUTHORITY = (
    models.table(model) for model in (
        models.Outbox, models.Registration, models.Person, models.Message, models.Authority
    )
)
_NEW_MESSAGES = insert(_MESSAGE)
_NEW_PAYLOADS = insert(models.table(models.MessagePayload))
# A built message: its row, and its payload's row (a table of its own, models.MessagePayload).
Built = tuple[dict[str, Any], dict[str, Any]]


@dataclass
class _Owed:
    """What building the messages of a chunk of outbox rows needs, read in a few queries."""

    rows: list[tuple[int, str]]  # (outbox id, registration id), not done yet
    registrations: dict[str, Row[Any]]
    persons: dict[str, list[Row[Any]]]  # by registration id, in household order
    authorities: dict[str, domain.Authority]
    done: set[str]  # persons who have their message already
    carried: dict[str, int]  # document bytes per registration (enclosed.carried_bytes)


def _owed(session: Session, outbox_ids: list[int]) -> _Owed:
    rows = session.execute(
        select(_OUTBOX.c.id, _OUTBOX.c.registration_id)
        .where(_OUTBOX.c.id.in_(outbox_ids), _OUTBOX.c.done_at.is_(None))
    ).all()
    ids = {row.registration_id for row in rows}
    registrations = {row.id: row for row in session.execute(
        select(_REGISTRATION).where(_REGISTRATION.c.id.in_(ids))
    )}
    persons: dict[str, list[Row[Any]]] = {key: [] for key in ids}
    for person in session.execute(
        select(_PERSON).where(_PERSON.c.registration_id.in_(ids))
        .order_by(_PERSON.c.registration_id, _PERSON.c.position)
    ):
        persons[person.registration_id].append(person)
    keys = {row.authority_key for row in registrations.values()}
    authorities = {row.key: authority_of(row) for row in session.execute(
        select(_AUTHORITY).where(_AUTHORITY.c.key.in_(keys))
    )}
    owed = [(row.id, row.registration_id) for row in rows]
    members = {key: len(household) for key, household in persons.items()}
    carried = enclosed.carried_bytes(session, ids, members)
    return _Owed(owed, registrations, persons, authorities, _built_for(session, ids), carried)


def _built_for(session: Session, registration_ids: set[str]) -> set[str]:
    """Persons of these registrations who have their message."""
    return set(session.scalars(
        select(_MESSAGE.c.person_id).where(_MESSAGE.c.registration_id.in_(registration_ids))
    ))


def _build(
    runtime: Runtime, work: _Owed, part: list[tuple[int, str]],
    documents: dict[str, enclosed.Loaded],
) -> tuple[dict[int, tuple[str, list[Built]]], dict[int, str]]:
    """The message rows per outbox row of `part` ({outbox id: (registration id, rows)}), and
    why each row that failed did ({outbox id: reason}). A registration erased meanwhile owes
    nothing."""
    now = dt.datetime.now(dt.UTC)
    built, failed = {}, {}
    for outbox_id, registration_id in part:
        try:
            registration = work.registrations[registration_id]
            loaded = documents.get(registration_id)
            if loaded is not None and loaded.unreadable:
                raise RuntimeError(loaded.unreadable)
            built[outbox_id] = (registration_id, _messages(
                runtime, registration, work.persons[registration_id],
                work.authorities[registration.authority_key], work.done, now,
                documents.get(registration_id),
            ))
        except Erased:
            built[outbox_id] = (registration_id, [])
        except Exception as error:
            failed[outbox_id] = failure_reason(error)
            log.error("outbox %s failed: %s", outbox_id, failed[outbox_id])
    return built, failed


def failure_reason(error: Exception) -> str:
    """What operators are told of a failed build: the own checks' and the schema's findings
    name element paths and reasons, never values; of anything else, only its kind, since
    its message might quote personal data."""
    if isinstance(error, xaus.InvalidMessage):
        return f"refused by the message checks: {error}"[:2000]
    return f"{type(error).__name__} (see the worker's log)"


def _store(session: Session, built: dict[int, tuple[str, list[Built]]]) -> int:
    """Insert the built messages of rows still owed and mark those rows done; returns how
    many messages were new.

    The rows are locked, and looked at again: a second job for the same rows waits here and
    then finds them done, and a message another job stored meanwhile is not stored twice.
    """
    if not built:
        return 0
    still_owed = set(session.scalars(
        select(_OUTBOX.c.id)
        .where(_OUTBOX.c.id.in_(built), _OUTBOX.c.done_at.is_(None))
        .with_for_update()
    ))
    done = _built_for(session, {built[row][0] for row in still_owed})
    messages = [
        (message, payload)
        for row in still_owed
        for message, payload in built[row][1]
        if message["person_id"] not in done
    ]
    if messages:
        session.execute(_NEW_MESSAGES, [message for message, _payload in messages])
        session.execute(_NEW_PAYLOADS, [payload for _message, payload in messages])
    if still_owed:
        session.execute(
            update(_OUTBOX).where(_OUTBOX.c.id.in_(still_owed))
            .values(done_at=dt.datetime.now(dt.UTC), failure=None)
        )
    return len(messages)


def _messages(
    runtime: Runtime,
    registration: Row[Any],
    persons: list[Row[Any]],
    authority: domain.Authority,
    done: set[str],
    now: dt.datetime,
    documents: enclosed.Loaded | None,
) -> list[Built]:
    """The message and payload rows of one registration's persons that have none yet."""
    household = household_of(runtime.cipher, registration, persons)
    application_ids = [person.application_id for person in persons]
    author = sender(runtime.settings)
    if all(person.id in done for person in persons):
        return []
    # Once per household: every member's message carries the same summary and proofs.
    enclosures = enclosed.enclosures(
        runtime.settings, household, documents, reference=registration.reference,
        registered=aware(registration.created_at), authority=authority,
    )
    rows = []
    for index, person in enumerate(persons):
        if person.id in done:
            continue
        message_uuid = models.new_uuid()
        envelope = xaus.Envelope(
            message_uuid=message_uuid,
            created=now,
            reader=authority,
            author=author,
            test=runtime.settings.message_test_flag,
            product_version=PRODUCT_VERSION,
        )
        xml = xaus.render(
            household,
            index,
            application_ids=application_ids,
            envelope=envelope,
            application_date=application_date(registration.created_at),
            schema=runtime.schema,
            enclosed=enclosures,
        )
        message_id = models.new_id()
        payload, in_file = batches.seal(runtime.cipher, message_id, xml)
        rows.append(({
            "id": message_id,
            "person_id": person.id,
            "registration_id": registration.id,
            "authority_key": authority.key,
            "message_uuid": str(message_uuid),
            "file_name": f"{person.application_id}.xml",
            "sha256": hashlib.sha256(xml).hexdigest(),
            "created_at": now,
            "stored_bytes": in_file,
        }, {"message_id": message_id, "payload": payload}))
    return rows


def application_date(registered_at: dt.datetime) -> dt.date:
    """The day of an application as the authority counts days (Europe/Berlin), not UTC's:
    between midnight and 01:00 (02:00 in summer) the two differ."""
    return aware(registered_at).astimezone(LOCAL_TIME).date()


def sender(settings: Settings) -> domain.Sender:
    """This service as the messages' author, as the deployment configured it."""
    return domain.Sender(
        key=settings.sender_key,
        name=settings.sender_name,
        email=settings.sender_email,
        address=domain.Address(
            settings.sender_street, settings.sender_house_number or None,
            settings.sender_postal_code, settings.sender_city,
        ),
    )


# `produktversion` of every message: this release, as installed.
PRODUCT_VERSION = importlib.metadata.version("intake")


def batches_job_id(authority_key: str) -> str:
    return f"batches-{authority_key}"


def enqueue_batches(queue: Queue, authority_key: str) -> None:
    """Queue the assembly of an authority's waiting messages (once at a time per authority)."""
    try:
        queue.enqueue_call(
            "intake.delivery.jobs.build_batches",
            args=[authority_key],
            job_id=batches_job_id(authority_key),
            unique=True,
            retry=Retry(max=3, interval=[10, 60, 300]),
            result_ttl=0,
        )
    except DuplicateJobError:
        log.info("batches for %s are queued already", authority_key)


def build_batches(authority_key: str, advance: progress.Advance = progress.ignore) -> int:
    """Assemble the authority's waiting messages into batches and write their files;
    `advance` counts the messages of each batch done.

    Each batch is committed before its file is written; a crash in between leaves a batch
    whose file the scheduler writes later, from the database alone.
    """
    runtime = bound()
    made = 0
    while True:
        with runtime.db.transaction() as session:
            batch = batches.assemble(session, authority_key, dt.datetime.now(dt.UTC),
                                     max_bytes=runtime.settings.batch_max_bytes)
        if batch is None:
            break
        made += 1
        # Reads end before packing: on SQLite a snapshot kept while packing at the lowest
        # priority would keep the log from starting over. So the payloads are read a group
        # at a time, each group packed (and encrypted into the file) before the next read.
        with runtime.db.read() as session:
            groups = batches.groups(session, batch)
            to = batch_files.recipient(session, authority_key)
        if (to.thumbprint if to is not None else None) != batch.sealed_to:
            # The authority's key changed since assembly: the scheduler writes the file
            # sealed to the new one (batch_files.to_write).
            advance(batch.count)
            continue
        batch_files.write_packed(runtime.cipher, runtime.settings.xml_out, batch, to,
                                 functools.partial(_pack, runtime, batch, groups))
        advance(batch.count)
    log.info("authority %s: %d batch(es)", authority_key, made)
    return made


def _pack(runtime: Runtime, batch: models.Batch, groups: list[list[str]],
          out: BinaryIO) -> None:
    packer = batches.Packer(runtime.cipher, batch, out)
    for group in groups:
        with runtime.db.read() as session:
            stored = batches.contents(session, batch, group)
        background.compute(packer.add, stored)
    background.compute(packer.finish)
