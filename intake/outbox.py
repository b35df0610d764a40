"""The relay: moves owed work from the database onto the queue, and restores vanished jobs."""

from __future__ import annotations

import datetime as dt
import logging

from rq.job import Job
from sqlalchemy import select

from intake import models
from intake.jobs import enqueue_payload
from intake.runtime import Runtime

log = logging.getLogger(__name__)

# A queued job not finished after this long is checked: did Redis lose it?
STALE_AFTER = dt.timedelta(minutes=2)


def relay(runtime: Runtime, limit: int = 500) -> int:
    """Queue outbox rows not queued yet; returns how many were queued.

    Rows are marked in the same transaction that reads them. If Redis fails halfway, the
    transaction rolls back and the rows are offered again; the unique job ids keep a row
    that did reach the queue from running twice.
    """
    queue = runtime.queue("payloads")
    now = dt.datetime.now(dt.UTC)
    with runtime.db.transaction() as session:
        rows = session.scalars(
            select(models.Outbox)
            .where(models.Outbox.done_at.is_(None), models.Outbox.enqueued_at.is_(None))
            .order_by(models.Outbox.id)
            .limit(limit)
        ).all()
        for row in rows:
            enqueue_payload(queue, row)
            row.enqueued_at = now
    return len(rows)


def reconcile(runtime: Runtime, limit: int = 500) -> int:
    """Offer again the rows whose job vanished from Redis (restarted empty or flushed)."""
    cutoff = dt.datetime.now(dt.UTC) - STALE_AFTER
    restored = 0
    with runtime.db.transaction() as session:
        rows = session.scalars(
            select(models.Outbox)
            .where(models.Outbox.done_at.is_(None), models.Outbox.enqueued_at < cutoff)
            .order_by(models.Outbox.id)
            .limit(limit)
        ).all()
        for row in rows:
            if not Job.exists(row.job_id, connection=runtime.redis):
                row.enqueued_at = None
                restored += 1
    if restored:
        log.warning("%d outbox row(s) had lost their job and will be queued again", restored)
    return restored
