"""The relay: moves owed work from the database onto the queue, and restores vanished jobs."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from rq import Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from rq.serializers import JSONSerializer
from sqlalchemy import ColumnElement, Table, select, update
from sqlalchemy.orm import Session

from intake import progress
from intake.delivery.jobs import enqueue_batches, enqueue_payloads
from intake.runtime import QUEUE_NAMES, Runtime
from intake.store import models

log = logging.getLogger(__name__)

# A queued job not finished after this long is checked: did Redis lose it? Asking costs a
# few Redis reads per job, and a job still waiting its turn is left alone.
STALE_AFTER = dt.timedelta(seconds=20)
# A worker on another host that has not reported for this long is taken for dead. Busy
# workers report every 5 s (Runtime.worker); a worker starved of CPU for 20 s is taken for
# dead too, and its job runs twice, which jobs are safe to do.
HEARTBEAT_SILENCE = dt.timedelta(seconds=20)


# Rows one relay round queues at most; a full round means a backlog (see scheduler.run).
RELAY_ROUND = 1000
_OUTBOX = models.table(models.Outbox)


def relay(runtime: Runtime, limit: int = RELAY_ROUND) -> int:
    """Queue outbox rows not queued yet; returns how many were queued (relay_rows)."""
    queue = runtime.queue("payloads")
    return relay_rows(runtime, _OUTBOX, models.Outbox.pending(),
                      lambda chunk: enqueue_payloads(queue, chunk),
                      runtime.settings.relay_chunk, limit)


def relay_rows(
    runtime: Runtime,
    table: Table,
    pending: ColumnElement[bool],
    enqueue: Callable[[list[Any]], str],
    size: int,
    limit: int,
) -> int:
    """Queue owed rows of `table` (outbox rows, mails) not queued yet, in chunks of `size`;
    returns how many were queued.

    Each chunk is queued first, then marked in a short transaction of its own: Redis is not
    asked while the write lock is held (on SQLite the whole database's, which registrations
    wait for). A chunk queued but not marked, because Redis
    failed or the process died in between, is offered again by the next round; the job id
    names the chunk, and a job finds rows done by another and skips them.
    """
    now = dt.datetime.now(dt.UTC)
    with runtime.db.read() as session:
        ids = session.scalars(
            select(table.c.id)
            .where(pending, table.c.enqueued_at.is_(None))
            .order_by(table.c.id)
            .limit(limit)
        ).all()
    for start in range(0, len(ids), size):
        chunk = list(ids[start:start + size])
        job_id = enqueue(chunk)
        with runtime.db.transaction() as session:
            session.execute(
                update(table)
                .where(table.c.id.in_(chunk), table.c.enqueued_at.is_(None))
                .values(enqueued_at=now, job_id=job_id)
            )
    return len(ids)


def reconcile(runtime: Runtime, limit: int = 500, stale_after: dt.timedelta = STALE_AFTER) -> int:
    """Look after queued rows whose job did not finish in time.

    A job that vanished (Redis restarted empty or was flushed) or was abandoned by a worker
    that died is offered again; a job that failed all its retries marks its row failed, for
    operators to see (`intake status`), without holding back any other work.
    """
    cutoff = dt.datetime.now(dt.UTC) - stale_after
    restored = failed = 0
    with runtime.db.transaction() as session:
        rows = session.scalars(
            select(models.Outbox)
            .where(
                models.Outbox.pending(),
                models.Outbox.enqueued_at < cutoff,
            )
            .order_by(models.Outbox.enqueued_at, models.Outbox.id)  # as outbox_pending has them
            .limit(limit)
        ).all()
        fates: dict[str | None, str] = {}
        for row in rows:
            if row.job_id not in fates:
                fates[row.job_id] = _fate(runtime, row.job_id) if row.job_id else "unqueued"
            fate = fates[row.job_id]
            if fate in LOST:
                row.enqueued_at = None
                restored += 1
            elif fate == "failed":
                row.failed_at = dt.datetime.now(dt.UTC)
                failed += 1
    if restored:
        why = sorted({fate for fate in fates.values() if fate in LOST})
        log.warning("%d outbox row(s) had lost their job (%s) and will be queued again",
                    restored, ", ".join(why))
    if failed:
        log.error("%d outbox row(s) failed every retry; see intake status", failed)
    return restored


# A job taken off its queue this long ago and still not started lost its worker (a live one
# starts it within milliseconds; one starved of CPU that longer runs a job twice, which jobs
# are safe to do).
TAKEN_TOO_LONG = 10.0
_TAKEN_SINCE: dict[str, float] = {}  # job id -> when it was first seen taken, not started


def rescue(runtime: Runtime) -> int:
    """Offer again, at once, the work of jobs whose worker died (a few seconds after, not
    after STALE_AFTER): their outbox rows go back to the relay, an authority's batch job is
    queued anew. Returns how many jobs were rescued."""
    looked_at = {}
    for name in QUEUE_NAMES:
        queue = runtime.queue(name)
        # Started (rq's own maintenance cleans the registry up; here it is only read), or
        # taken off the queue by a worker and not started yet (see _fate).
        started = StartedJobRegistry(queue=queue).get_job_ids(cleanup=False)
        taken = runtime.redis.lrange(queue.intermediate_queue_key, 0, -1)
        looked_at[name] = {
            job.decode() if isinstance(job, bytes) else job for job in (*started, *taken)
        }
    for job_id in _TAKEN_SINCE.keys() - set().union(*looked_at.values()):
        del _TAKEN_SINCE[job_id]
    rescued = 0
    for name, job_ids in looked_at.items():
        for job_id in job_ids:
            if _fate(runtime, job_id) not in LOST:
                continue
            rescued += 1
            runtime.redis.lrem(runtime.queue(name).intermediate_queue_key, 0, job_id)
            if name == "batches":
                enqueue_batches(runtime.queue(name), job_id.removeprefix("batches-"))
                continue
            with runtime.db.transaction() as session:
                session.execute(
                    update(_OUTBOX)
                    .where(_OUTBOX.c.job_id == job_id, _OUTBOX.c.done_at.is_(None))
                    .values(enqueued_at=None)
                )
    if rescued:
        log.warning("%d job(s) of dead workers offered again", rescued)
    return rescued


def make_room(runtime: Runtime, job_id: str) -> None:
    """Clear a job id for a fresh job when the job holding it will never finish: a remnant,
    abandoned by a dead worker, or failed every retry. A batch job killed with its work horse
    otherwise refused its authority's next batch job until rq's own clean-up, minutes later.
    """
    if _fate(runtime, job_id) == "failed":
        _discard(Job.fetch(job_id, connection=runtime.redis, serializer=JSONSerializer))


def _discard(job: Job) -> None:
    """Delete a job that will never finish. rq's delete() reads the job's executions first,
    and raises ValueError for one whose record expired meanwhile (120-150 s after its worker
    was killed): those records are dropped first, then the job."""
    try:
        job.delete()
    except ValueError:
        job.connection.delete(job.execution_registry.key)
        job.delete()


# What _fate says of a job that will never finish, so that its work is offered again.
LOST = frozenset(("gone", "abandoned", "dropped", "unqueued"))


def _fate(runtime: Runtime, job_id: str) -> str:
    """"gone" (not in Redis), "abandoned" (its worker died), "dropped" (taken off its queue by a
    worker that died before starting it): lost, all three; "failed" (retries exhausted), or
    "running" (or waiting its turn)."""
    try:
        job = Job.fetch(job_id, connection=runtime.redis, serializer=JSONSerializer)
    except NoSuchJobError:
        # Gone, or a remnant: a work horse's heartbeat written just after the job was deleted
        # leaves a hash without the job, which would refuse every fresh job of that id.
        runtime.redis.delete(Job.key_for(job_id))
        return "gone"
    status = job.get_status()
    if status == JobStatus.FAILED and not job.retries_left:
        return "failed"
    if status == JobStatus.STARTED and job.worker_name and not _alive(runtime, job.worker_name):
        _discard(job)  # abandoned by a dead worker: a fresh job takes its id
        return "abandoned"
    queue_key = f"rq:queue:{job.origin}"
    if status == JobStatus.QUEUED and runtime.redis.lpos(queue_key, job.id) is None:
        # Taken off the queue by a worker: for a moment as a rule (it starts the job), for
        # ever if that worker died in between (rq's own clean-up waits minutes).
        taken = runtime.redis.lpos(f"{queue_key}:intermediate", job.id) is not None
        if taken and time.monotonic() - _TAKEN_SINCE.setdefault(job.id, time.monotonic()) < (
            TAKEN_TOO_LONG
        ):
            return "running"
        _TAKEN_SINCE.pop(job.id, None)
        _discard(job)
        return "dropped"
    return "running"


def _alive(runtime: Runtime, worker_name: str) -> bool:
    """Whether a worker still runs. Its key in Redis outlives a killed worker until the key's
    TTL, so on this host the process itself is asked, elsewhere its heartbeat."""
    worker = Worker.find_by_key(
        f"{Worker.redis_worker_namespace_prefix}{worker_name}", connection=runtime.redis
    )
    if worker is None:
        return False
    if worker.hostname == socket.gethostname() and worker.pid:
        try:
            os.kill(worker.pid, 0)
        except ProcessLookupError:
            return False
        return True
    beat = worker.last_heartbeat
    return beat is not None and dt.datetime.now(dt.UTC) - beat.replace(
        tzinfo=dt.UTC
    ) < HEARTBEAT_SILENCE


@dataclass(frozen=True)
class Undelivered:
    """A registration whose messages could not be built: for operators, never for the public."""

    outbox_id: int
    reference: str
    authority_key: str
    registered_at: dt.datetime
    given_up: bool  # every retry failed; only an operator's retry sends it again
    reason: str


def undelivered(session: Session, limit: int = 200) -> list[Undelivered]:
    """Registrations whose messages failed to build (still retrying, or given up), oldest first."""
    rows = session.execute(
        select(
            _OUTBOX.c.id, models.Registration.reference, models.Registration.authority_key,
            models.Registration.created_at, _OUTBOX.c.failed_at, _OUTBOX.c.failure,
        )
        .join(models.Registration, models.Registration.id == _OUTBOX.c.registration_id)
        .where(_OUTBOX.c.done_at.is_(None), STUCK)
        .order_by(_OUTBOX.c.id)
        .limit(limit)
    ).all()
    return [
        Undelivered(row.id, row.reference, row.authority_key, row.created_at,
                    row.failed_at is not None, row.failure or "gave up (no reason recorded)")
        for row in rows
    ]


def retry(runtime: Runtime, references: list[str] | None = None,
          meter: progress.Meter = progress.silent) -> int:
    """Send undelivered registrations (all, or these references) to be built again, after a
    fix; returns how many. Their status pages stop saying there is a delay meanwhile.

    Their rq jobs go first: a chunk's job id is fixed, and a job kept as failed (or waiting
    for its next retry) would refuse the fresh one the relay queues for the same chunk.
    """
    chosen = _OUTBOX.c.done_at.is_(None) & STUCK
    if references is not None:
        typed = [reference.strip().upper() for reference in references]  # as people type them
        chosen &= _OUTBOX.c.registration_id.in_(
            select(models.Registration.id).where(models.Registration.reference.in_(typed))
        )
    with runtime.db.read() as session:
        job_ids = set(session.scalars(select(_OUTBOX.c.job_id).where(chosen))) - {None}
    # Without Redis the rows are sent again all the same; a job kept there then refuses its
    # fresh one, and the reconciler clears the way (make_room) when it looks next.
    with contextlib.suppress(redis.RedisError):
        for job_id in progress.each(job_ids, "clearing their failed jobs", meter=meter):
            try:
                _discard(Job.fetch(job_id, connection=runtime.redis, serializer=JSONSerializer))
            except NoSuchJobError:
                runtime.redis.delete(Job.key_for(job_id))
    with runtime.db.transaction() as session:
        result = session.execute(
            update(_OUTBOX).where(chosen)
            .values(failed_at=None, failure=None, enqueued_at=None, job_id=None)
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# An outbox row whose build failed at least once and is not done.
STUCK = _OUTBOX.c.failure.is_not(None) | _OUTBOX.c.failed_at.is_not(None)
