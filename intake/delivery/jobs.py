"""Background work: the caller side (`enqueue_*`) and the job entry points.

Jobs take ids, never personal data (their arguments sit in Redis and in rq's registries),
and are safe to run twice: a finished outbox row makes a second run a no-op, and the
database allows one message per person.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
from typing import BinaryIO

from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from intake import progress
from intake.delivery import background, batch_files, batches, building, enclosed
from intake.documents import fonts
from intake.runtime import Runtime, bound
from intake.store import models

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
        work = building.owed(session, outbox_ids)
    written, failed = 0, {}
    for part in enclosed.parts(work.rows, work.carried, STORE_ROWS):
        with_documents = {key for _row, key in part if work.carried.get(key)}
        documents = {}
        if with_documents:
            with runtime.db.read() as session:
                documents = enclosed.load(session, runtime.cipher, runtime.blobs, with_documents)
        built, part_failed = background.compute(building.build, runtime, work, part, documents)
        failed.update(part_failed)
        with runtime.db.transaction() as session:
            written += _store(session, runtime, built)
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
        building.owed(session, [])
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


_OUTBOX = models.table(models.Outbox)
_NEW_MESSAGES = insert(models.table(models.Message))
_NEW_PAYLOADS = insert(models.table(models.MessagePayload))


def _store(session: Session, runtime: Runtime, built: dict[int, building.Household]) -> int:
    """Insert the built messages of rows still owed, with the summaries they name, and mark
    those rows done; returns how many messages were new.

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
    done = building.built_for(session, {built[row].registration_id for row in still_owed})
    messages: list[building.Built] = []
    for row in still_owed:
        household = built[row]
        new = [message for message in household.messages if message[0]["person_id"] not in done]
        if new and household.summary is not None:
            enclosed.keep_summary(session, runtime.cipher, runtime.blobs,
                                  household.registration_id, household.summary)
        messages += new
    if messages:
        session.execute(_NEW_MESSAGES, [message for message, _payload in messages])
        session.execute(_NEW_PAYLOADS, [payload for _message, payload in messages])
    if still_owed:
        session.execute(
            update(_OUTBOX).where(_OUTBOX.c.id.in_(still_owed))
            .values(done_at=dt.datetime.now(dt.UTC), failure=None)
        )
    return len(messages)


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
            stored, kept = batches.read_group(session, runtime.blobs, batch, group)
        background.compute(packer.add, stored, kept)
    background.compute(packer.finish)
