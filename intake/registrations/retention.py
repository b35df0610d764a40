"""Forgetting: personal data is deleted when its purpose ends; counts and dates remain.

A registration's purpose ends a set time after the authority acknowledged the batches that
carry all its messages, or at once on request (`intake erase REFERENCE`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from intake.delivery.batches import file_path
from intake.store import idempotency, models


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def erase(session: Session, registration: models.Registration) -> None:
    """Delete a registration's personal data: fields, indexes, messages' payloads."""
    registration.data = None
    registration.erased_at = _now()
    session.execute(
        update(models.Person)
        .where(models.Person.registration_id == registration.id)
        .values(data=None, name_index=None, document_index=None)
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


def expire(session: Session, xml_out: Path, retention: dt.timedelta) -> int:
    """Erase batches acknowledged longer than `retention` ago, and their registrations."""
    cutoff = _now() - retention
    done = session.scalars(
        select(models.Batch).where(
            models.Batch.acknowledged_at < cutoff, models.Batch.erased_at.is_(None)
        )
    ).all()
    for batch in done:
        file_path(xml_out, batch).unlink(missing_ok=True)
        batch.erased_at = _now()
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
                erase(session, registration)
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
