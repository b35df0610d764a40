"""The scheduler role: periodic work that keeps the pipeline moving and the house clean."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from intake import progress
from intake.config import Settings
from intake.delivery import batch_files, jobs, mail, outbox
from intake.documents import store as documents
from intake.registrations import drafts, retention, schedule
from intake.runtime import Runtime
from intake.store import idempotency, models

log = logging.getLogger(__name__)


@dataclass
class Task:
    name: str
    every: float  # seconds
    run: Callable[[Runtime], int]
    # Upkeep whose round grows with the data (run beside the others, in a thread of its
    # own: see `run`).
    housekeeping: bool = False
    due: float = 0.0
    failures: int = 0  # unexpected errors in a row

    def delay_after_error(self) -> float:
        """Doubles with each error in a row, from the task's interval, up to MAX_BACKOFF."""
        return float(min(max(self.every, 1.0) * 2 ** (self.failures - 1), MAX_BACKOFF))


# The longest pause of a task that keeps failing: it is tried again at least this often.
MAX_BACKOFF = 300.0
# Redis hash of the count of unexpected errors per task, for /metrics (all processes).
ERRORS_KEY = "intake:scheduler:errors"


def _purge_drafts(runtime: Runtime) -> int:
    """Drafts, hand-overs and idempotency keys past their lifetime."""
    with runtime.db.transaction() as session:
        return drafts.purge_expired(session, runtime.blobs) + idempotency.purge_expired(session)


def _open_slots(runtime: Runtime) -> int:
    """Keep the booking window filled with slots as days pass: one authority a transaction,
    as each locks its authority's row (check-in takes that lock too)."""
    with runtime.db.read() as session:
        keys = session.scalars(
            select(models.OpeningHours.authority_key).distinct()
        ).all()
    now = dt.datetime.now(dt.UTC)
    created = 0
    for key in keys:
        with runtime.db.transaction() as session:
            created += schedule.reconcile(session, key, now).created
    return created


# A batch's job writes its file right after committing the batch; only a file still missing
# a minute later is a crash's to repair here. Without the wait, in a burst, this process
# wrote the files at full priority while the worker that was about to, at SCHED_IDLE, waited
# (3-5 % of a core taken from the web server).
FILE_GRACE = dt.timedelta(minutes=1)


def queue_batches(runtime: Runtime) -> int:
    """Queue batch assembly for every authority with waiting messages; write the files of
    unacknowledged batches that are missing or sealed to a key the authority replaced."""
    with runtime.db.read() as session:
        waiting = session.scalars(
            select(models.Message.authority_key)
            .where(models.message_waiting())
            .distinct()
        ).all()
    for authority_key in waiting:
        outbox.make_room(runtime, jobs.batches_job_id(authority_key))
        jobs.enqueue_batches(runtime.queue("batches"), authority_key)
    _write_owed_files(runtime, every=False)
    return len(waiting)


def write_lost_files(runtime: Runtime) -> int:
    """Write the file of every batch kept that has none, or an unacknowledged one's sealed
    to a key its authority replaced (hourly, and when the scheduler starts: after a restore
    of xml_out, or files an earlier release wrote)."""
    return _write_owed_files(runtime, every=True)


def _write_owed_files(runtime: Runtime, every: bool) -> int:
    committed_before = dt.datetime.now(dt.UTC) - FILE_GRACE
    with runtime.db.read() as session:
        owed = batch_files.to_write(session, runtime.settings.xml_out, committed_before, every)
    # One by one, each packed outside the write lock: all in one transaction, a restored
    # xml_out (or 12,000 files missing, as a seeded database had) held SQLite's one write
    # lock for minutes while registrations timed out.
    for batch_id in owed:
        batch_files.write_from_snapshot(runtime.db, runtime.cipher, runtime.blobs,
                                        runtime.settings.xml_out, batch_id)
    return len(owed)


def expire(runtime: Runtime, meter: progress.Meter = progress.silent,
           stopping: Callable[[], bool] = lambda: False) -> int:
    """Erase what is past its retention time (hourly; `intake retention run` at once)."""
    return retention.expire(runtime.db, runtime.cipher, runtime.settings.xml_out,
                            runtime.settings.retention, runtime.blobs, meter,
                            stopping=stopping)


def tasks(settings: Settings, stop: threading.Event | None = None) -> list[Task]:
    """What the scheduler runs; a sweep ends after its chunk once `stop` is set."""
    stale = dt.timedelta(seconds=settings.reconcile_after)
    stopping = (stop or threading.Event()).is_set
    return [
        Task("relay", settings.relay_interval, outbox.relay),
        Task("rescue", 5.0, outbox.rescue),
        Task("reconcile", max(1.0, settings.reconcile_after / 2),
             lambda runtime: outbox.reconcile(runtime, stale_after=stale)),
        Task("mail", settings.relay_interval, mail.relay),
        Task("reconcile mail", max(1.0, settings.reconcile_after / 2),
             lambda runtime: mail.reconcile(runtime, stale)),
        Task("purge drafts", 600, _purge_drafts, housekeeping=True),
        Task("open slots", 3600, _open_slots, housekeeping=True),
        Task("batches", settings.batch_interval, queue_batches),
        Task("lost batch files", 3600, write_lost_files, housekeeping=True),
        Task("retention", 3600, lambda runtime: expire(runtime, stopping=stopping),
             housekeeping=True),
        # Objects of uploads whose transaction failed (an object store only; a no-op else).
        Task("sweep documents", 3600, lambda runtime: documents.sweep(runtime.db, runtime.blobs),
             housekeeping=True),
        Task("checkpoint", 1.0, lambda runtime: runtime.db.checkpoint()),
    ]


def run(runtime: Runtime, interval: float, stop_after: float | None = None) -> None:
    """Run every task when due until stopped; an unreachable Redis or database only delays.

    Two rounds, each in a thread: the housekeeping, and the tasks that keep the pipeline
    moving and SQLite's log checkpointed. In one, the relays and the checkpoint waited for
    every sweep: the first on a database of 1,000,000 with its acknowledged backlog erases
    for minutes (2,000-2,600 registrations/s, bench/SCALE.md), and the log grew meanwhile
    until registrations' commits copied it themselves.
    """
    deadline = None if stop_after is None else time.monotonic() + stop_after
    stop = threading.Event()
    schedule = tasks(runtime.settings, stop)
    # Made here, not by both threads' first tasks at once: from Python 3.12 a cached_property
    # takes no lock, and each would make an engine of its own.
    _ = runtime.db, runtime.cipher, runtime.blobs, runtime.redis
    housekeeping = threading.Thread(
        target=_round, name="scheduler housekeeping", daemon=True,
        args=(runtime, [task for task in schedule if task.housekeeping], interval, deadline,
              stop))
    housekeeping.start()
    try:
        _round(runtime, [task for task in schedule if not task.housekeeping], interval,
               deadline, stop)
    finally:
        # The deadline, or Ctrl-C in this thread: the housekeeping ends what it is doing (a
        # sweep, the chunk it is in: its files are gone and its transaction commits) and
        # stops. SIGTERM ends the process at once, as it always did.
        stop.set()
        housekeeping.join()


def _round(runtime: Runtime, schedule: list[Task], interval: float,
           deadline: float | None, stop: threading.Event) -> None:
    while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
        busy = False
        for task in schedule:
            if time.monotonic() < task.due:
                continue
            try:
                done = task.run(runtime)
                # A relay that found a backlog (a full round) looks again at once, not after
                # its interval: the backlog drains at full speed. Otherwise the interval lets
                # new rows gather into chunks.
                again = task.name == "relay" and done >= outbox.RELAY_ROUND
                busy = busy or again
                task.due = time.monotonic() + (0.0 if again else task.every)
                task.failures = 0
            except (redis.RedisError, OperationalError) as error:
                # A server away: expected, and retried at the loop's pace. The class name
                # only: driver messages can quote SQL parameters.
                log.warning("%s delayed, will retry: %s", task.name, type(error).__name__)
                task.due = time.monotonic() + interval
            except Exception:
                # Anything else is a fault to fix, but never the end of the scheduler: the
                # other tasks go on, this one is tried again after a growing pause. The
                # traceback is logged: database errors quote no parameters (db.py).
                task.failures += 1
                delay = task.delay_after_error()
                log.exception("%s failed (%d in a row); trying again in %.0f s",
                              task.name, task.failures, delay)
                _count_error(runtime, task.name)
                task.due = time.monotonic() + delay
        if not busy:
            stop.wait(interval)


def _count_error(runtime: Runtime, task: str) -> None:
    with contextlib.suppress(redis.RedisError):  # counting is a courtesy; the log has it
        runtime.redis.hincrby(ERRORS_KEY, task, 1)


def drain(runtime: Runtime) -> None:
    """Do all owed work now, in this process, with a real rq worker (tests, drills, tools)."""
    from intake.runtime import bind

    bind(runtime)
    outbox.relay(runtime)
    mail.relay(runtime)
    runtime.worker(in_process=True).work(burst=True)
    queue_batches(runtime)
    runtime.worker(in_process=True).work(burst=True)
