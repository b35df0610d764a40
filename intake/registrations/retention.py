"""Forgetting: personal data is deleted when its purpose ends; counts and dates remain.

A registration's purpose ends a set time after the authority acknowledged the batches that
carry all its messages, or at once on request (`intake erase REFERENCE`). Erased, a person
leaves the batch files the service still holds too.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from intake import progress
from intake.delivery import batch_files
from intake.documents import store as documents
from intake.documents.blobs import Blobs
from intake.security.crypto import FieldCipher
from intake.store import blind_index, idempotency, models


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def erase(
    session: Session, registration: models.Registration, cipher: FieldCipher, xml_out: Path,
    blobs: Blobs,
) -> None:
    """Delete a registration's personal data: fields, indexes, messages' payloads, its
    documents (rows and content), and its messages in the batch files still held (written
    again without them)."""
    registration.data = None
    registration.email_index = None
    registration.erased_at = _now()
    # Mails not sent yet carry a status link: they are not sent now (delivery.mail).
    session.execute(
        update(models.Mail)
        .where(models.Mail.registration_id == registration.id, models.Mail.sent_at.is_(None),
               models.Mail.failed_at.is_(None))
        .values(data=None, failed_at=registration.erased_at, failure="registration erased")
    )
    session.execute(
        update(models.Person)
        .where(models.Person.registration_id == registration.id)
        .values(data=None, **dict.fromkeys(blind_index.COLUMNS))
    )
    messages = select(models.Message.id).where(models.Message.registration_id == registration.id)
    session.execute(
        delete(models.MessagePayload).where(models.MessagePayload.message_id.in_(messages))
    )
    session.execute(
        update(models.Message)
        .where(models.Message.registration_id == registration.id)
        .values(erased_at=registration.erased_at)
    )
    idempotency.forget_token(session, registration.id)
    # Objects go before the commit, like the batch files below: a failed commit leaves a
    # row without its content, never content after `intake erase` said done.
    documents.remove(session, blobs, models.Document.registration_id == registration.id)
    # Written again inside the transaction: a failed commit leaves a file short of a message
    # the database still holds (written whole at the next erasure, key change or rotation),
    # never the reverse, a person still in a file after `intake erase` said done.
    carriers = session.scalars(select(models.Batch).where(
        models.Batch.erased_at.is_(None),
        models.Batch.id.in_(select(models.Message.batch_id).where(
            models.Message.registration_id == registration.id)),
    )).all()
    for batch in carriers:
        batch_files.write(session, cipher, xml_out, batch, again=True)


def expire(
    session: Session, cipher: FieldCipher, xml_out: Path, retention: dt.timedelta, blobs: Blobs,
    meter: progress.Meter = progress.silent,
) -> int:
    """Erase batches acknowledged longer than `retention` ago, and their registrations."""
    cutoff = _now() - retention
    done = session.scalars(
        select(models.Batch).where(
            models.Batch.acknowledged_at < cutoff, models.Batch.erased_at.is_(None)
        )
    ).all()
    for batch in done:  # all of them first: erasing a registration rewrites only live batches
        batch_files.remove(xml_out, batch)
        batch.erased_at = _now()
    session.flush()
    for batch in progress.each(done, "erasing batches past retention", meter=meter):
        registrations = session.scalars(
            select(models.Registration).where(
                models.Registration.erased_at.is_(None),
                models.Registration.id.in_(
                    select(models.Message.registration_id).where(
                        models.Message.batch_id == batch.id
                    )
                ),
            )
        ).all()
        for registration in registrations:
            if _all_delivered_before(session, registration, cutoff):
                erase(session, registration, cipher, xml_out, blobs)
    return len(done)


def _all_delivered_before(
    session: Session, registration: models.Registration, cutoff: dt.datetime
) -> bool:
    """Every person has a message, in a batch acknowledged before the cutoff."""
    delivered = session.scalars(
        select(models.Message.id)
        .join(models.Batch)
        .where(
            models.Message.registration_id == registration.id,
            models.Batch.acknowledged_at < cutoff,
        )
    ).all()
    return len(delivered) >= len(registration.persons)
