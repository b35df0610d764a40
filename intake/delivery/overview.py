"""What operators need at a glance: queues, failures, the oldest waiting work, the last batches."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from intake.delivery import outbox
from intake.documents import store as documents
from intake.runtime import QUEUE_NAMES, Runtime
from intake.store import models


def report(runtime: Runtime) -> dict[str, Any]:
    """Queue lengths, failed work, oldest waiting message and last batch per authority,
    and the documents kept."""
    with runtime.db.read() as session:
        stuck = outbox.undelivered(session)
        failed = session.scalars(
            select(models.Outbox.id).where(models.Outbox.failed_at.is_not(None))
        ).all()
        owed = session.scalar(
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
        kept = documents.totals(session)
    queues: dict[str, Any] = {}
    for name in QUEUE_NAMES:
        queue = runtime.queue(name)
        queues[name] = {"queued": queue.count, "failed": queue.failed_job_registry.count}
    return {
        "validation": runtime.validation,
        "queues": queues,
        "registrations_owed_work": owed or 0,
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
        # Documents kept, their bytes before encryption, where (database, s3).
        "documents": kept,
    }
