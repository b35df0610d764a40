"""Background work: the caller side (`enqueue_*`) and the job entry points.

Jobs take ids, never personal data (their arguments sit in Redis and in rq's registries),
and are safe to run twice: a finished outbox row makes a second run a no-op, and the
database allows one message per person.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid

from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake import batches, domain, models, xaus
from intake.config import Settings
from intake.registration import load_household, to_domain
from intake.runtime import Runtime, current

log = logging.getLogger(__name__)

def enqueue_payloads(queue: Queue, rows: list[models.Outbox]) -> None:
    """Queue the build of a chunk of outbox rows as one job, and note its id on each row.

    The job id names the chunk, so the same chunk is never queued twice; an overlapping
    chunk (after a relay crash) is harmless, since a row already done is skipped.
    """
    job_id = f"payload-{rows[0].id}-{rows[-1].id}"
    try:
        queue.enqueue_call(
            "intake.jobs.build_payloads",
            args=[[row.id for row in rows]],
            job_id=job_id,
            unique=True,
            retry=Retry(max=3, interval=[10, 60, 300]),
            failure_ttl=30 * 24 * 3600,
        )
    except DuplicateJobError:
        log.info("job %s is queued already", job_id)
    for row in rows:
        row.job_id = job_id


def build_payloads(outbox_ids: list[int]) -> int:
    """Build the messages of several outbox rows in one transaction (one commit, one fsync).

    Each row has a savepoint of its own: a row that fails is rolled back alone and does not
    stop the others; the job then fails as a whole, so rq retries it, skipping the rows done.
    """
    runtime = current()
    written = failed = 0
    with runtime.db.transaction() as session:
        for outbox_id in outbox_ids:
            try:
                with session.begin_nested():
                    written += _build(runtime, session, outbox_id)
            except Exception as error:
                failed += 1
                log.error("outbox %s failed: %s", outbox_id, type(error).__name__)
    _batch_when_full(runtime)
    if failed:
        raise RuntimeError(f"{failed} of {len(outbox_ids)} outbox rows failed")
    return written


def _batch_when_full(runtime: Runtime) -> None:
    """Size threshold: an authority with a full batch waiting gets it assembled now, not at
    the next scheduled round."""
    with runtime.db.read() as session:
        full = session.scalars(
            select(models.Message.authority_key)
            .where(models.Message.batch_id.is_(None), models.Message.payload.is_not(None))
            .group_by(models.Message.authority_key)
            .having(func.count(models.Message.id) >= batches.MAX_MESSAGES)
        ).all()
    for authority_key in full:
        enqueue_batches(runtime.queue("batches"), authority_key)


def build_payload(outbox_id: int) -> int:
    """Build, validate and store the messages of one outbox row; returns how many were new."""
    runtime = current()
    with runtime.db.transaction() as session:
        return _build(runtime, session, outbox_id)


def _build(runtime: Runtime, session: Session, outbox_id: int) -> int:
    """The messages of a registration, in the caller's transaction; safe to run twice.

    The messages wait in the database (encrypted) until `build_batches` delivers them.
    """
    now = dt.datetime.now(dt.UTC)
    outbox = session.get(models.Outbox, outbox_id, with_for_update=True)
    if outbox is None or outbox.done_at is not None:
        return 0
    registration = session.get_one(models.Registration, outbox.registration_id)
    household = load_household(runtime.cipher, registration)
    authority = to_domain(session.get_one(models.Authority, registration.authority_key))
    done = set(
        session.scalars(
            select(models.Message.person_id).where(
                models.Message.registration_id == registration.id
            )
        )
    )
    application_ids = [person.application_id for person in registration.persons]
    written = 0
    for index, person in enumerate(registration.persons):
        if person.id in done:
            continue
        message_uuid = uuid.uuid4()
        envelope = xaus.Envelope(
            message_uuid=message_uuid,
            created=now,
            reader=authority,
            author=sender(runtime.settings),
            test=runtime.settings.message_test_flag,
        )
        message = xaus.build_element(
            household,
            index,
            application_ids=application_ids,
            envelope=envelope,
            application_date=registration.created_at.date(),
        )
        xaus.validate(message, runtime.schema)
        xml = xaus.serialize(message)
        row = models.Message(
            id=models.new_id(),
            person_id=person.id,
            registration_id=registration.id,
            authority_key=authority.key,
            message_uuid=str(message_uuid),
            file_name=f"{person.application_id}.xml",
            sha256=hashlib.sha256(xml).hexdigest(),
        )
        row.payload = runtime.cipher.encrypt(xml.decode(), batches.message_context(row))
        session.add(row)
        written += 1
    outbox.done_at = now
    return written


def sender(settings: Settings) -> domain.Sender:
    return domain.Sender(
        key=settings.sender_key, name=settings.sender_name, email=settings.sender_email
    )


def enqueue_batches(queue: Queue, authority_key: str) -> None:
    """Queue the assembly of an authority's waiting messages (once at a time per authority)."""
    try:
        queue.enqueue_call(
            "intake.jobs.build_batches",
            args=[authority_key],
            job_id=f"batches-{authority_key}",
            unique=True,
            retry=Retry(max=3, interval=[10, 60, 300]),
            result_ttl=0,
        )
    except DuplicateJobError:
        log.info("batches for %s are queued already", authority_key)


def build_batches(authority_key: str) -> int:
    """Assemble the authority's waiting messages into batches and write their files.

    Each batch is committed before its file is written; a crash in between leaves a batch
    whose file the scheduler writes later, from the database alone.
    """
    runtime = current()
    made = 0
    while True:
        with runtime.db.transaction() as session:
            batch = batches.assemble(session, authority_key, dt.datetime.now(dt.UTC))
        if batch is None:
            break
        made += 1
        with runtime.db.read() as session:
            batches.write_file(session, runtime.cipher, runtime.settings.xml_out, batch)
    log.info("authority %s: %d batch(es)", authority_key, made)
    return made
