"""What operators need at a glance: queues, failures, the oldest waiting work, the last batches,
and what each authority has not acknowledged yet."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.delivery import outbox
from intake.documents import store as documents
from intake.registrations.booking import aware
from intake.runtime import QUEUE_NAMES, Runtime
from intake.store import models


@dataclass(frozen=True)
class Owed:
    """What one authority has not acknowledged: messages waiting for a batch, and batches
    made and not acknowledged (fetched or not: only an acknowledgement says it has them)."""

    key: str
    name: str
    waiting: int
    batches: int
    in_batches: int  # messages in those batches
    oldest_batch: dt.datetime | None

    @property
    def messages(self) -> int:
        """Messages built for it and not acknowledged."""
        return self.waiting + self.in_batches

    def age(self, now: dt.datetime) -> float:
        """Seconds since its oldest unacknowledged batch was made; 0 when there is none."""
        return (now - aware(self.oldest_batch)).total_seconds() if self.oldest_batch else 0.0


def owed(session: Session) -> list[Owed]:
    """Every authority, by key, with what it has not acknowledged: one statement whatever
    the number of authorities (both counts are read through partial indexes)."""
    waiting = (
        select(models.Message.authority_key, func.count().label("messages"))
        .where(models.message_waiting())
        .group_by(models.Message.authority_key)
        .subquery()
    )
    unacknowledged = (
        select(models.Batch.authority_key, func.count().label("batches"),
               func.sum(models.Batch.count).label("messages"),
               func.min(models.Batch.created_at).label("oldest"))
        .where(models.Batch.acknowledged_at.is_(None))
        .group_by(models.Batch.authority_key)
        .subquery()
    )
    rows = session.execute(
        select(models.Authority.key, models.Authority.name, waiting.c.messages,
               unacknowledged.c.batches, unacknowledged.c.messages, unacknowledged.c.oldest)
        .outerjoin(waiting, waiting.c.authority_key == models.Authority.key)
        .outerjoin(unacknowledged, unacknowledged.c.authority_key == models.Authority.key)
        .order_by(models.Authority.key)
    ).all()
    return [Owed(key, name, waiting_count or 0, batches or 0, int(in_batches or 0), oldest)
            for key, name, waiting_count, batches, in_batches, oldest in rows]


def report(runtime: Runtime) -> dict[str, Any]:
    """Queue lengths, failed work, oldest waiting message and last batch per authority,
    what each authority has not acknowledged, and the documents kept."""
    now = dt.datetime.now(dt.UTC)
    with runtime.db.read() as session:
        stuck = outbox.undelivered(session)
        failed = session.scalars(
            select(models.Outbox.id).where(models.Outbox.failed_at.is_not(None))
        ).all()
        owed_work = session.scalar(
            select(func.count()).select_from(models.Outbox).where(models.Outbox.pending())
        )
        oldest: dict[str, Any] = dict(
            session.execute(
                select(models.Message.authority_key, func.min(models.Message.created_at))
                .where(models.message_waiting())
                .group_by(models.Message.authority_key)
            ).all()
        )
        last: dict[str, Any] = dict(
            session.execute(
                select(models.Batch.authority_key, func.max(models.Batch.created_at))
                .group_by(models.Batch.authority_key)
            ).all()
        )
        authorities = owed(session)
        kept = documents.totals(session)
    queues: dict[str, Any] = {}
    for name in QUEUE_NAMES:
        queue = runtime.queue(name)
        queues[name] = {"queued": queue.count, "failed": queue.failed_job_registry.count}
    return {
        "validation": runtime.validation,
        "queues": queues,
        "registrations_owed_work": owed_work or 0,
        "failed_outbox_rows": list(failed),
        # Messages that could not be built, with why: fix, then `intake outbox retry`.
        "undelivered": [
            {
                "reference": item.reference,
                "authority": item.authority_key,
                "registered_at": str(item.registered_at),
                "state": "given up" if item.given_up else "retrying",
                "reason": item.reason,
            }
            for item in stuck
        ],
        "oldest_waiting_message": {key: str(value) for key, value in oldest.items()},
        "last_batch": {key: str(value) for key, value in last.items()},
        # Authorities owed messages, or sent some before: not the hundreds never sent any.
        "authorities": [
            {
                "key": item.key,
                "name": item.name,
                "messages_waiting": item.waiting,
                "unacknowledged_batches": item.batches,
                "messages_owed": item.messages,
                "oldest_unacknowledged_batch": _text(item.oldest_batch),
                "oldest_unacknowledged_age_seconds": round(item.age(now)),
                "last_batch": _text(last.get(item.key)),
            }
            for item in authorities if item.messages or item.key in last
        ],
        # Documents kept, their bytes before encryption, where (database, s3).
        "documents": kept,
    }


def _text(moment: dt.datetime | None) -> str | None:
    return None if moment is None else str(moment)
