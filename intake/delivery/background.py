"""Background work beside the web server on one host: its computing yields, its locks do not.

A worker process once ran wholly at Linux's `SCHED_IDLE`, so that a waking web thread took
the CPU from a job at once. But a thread at `SCHED_IDLE` gets no CPU while the web is busy,
even while it holds what the web waits for: SQLite's one write slot (under mixed traffic,
the worker's store transactions held it 61-140 ms for 4-14 ms of CPU), or a read snapshot
that keeps SQLite's log from starting over.
So on SQLite only a job's heavy computing (building messages, packing batches) runs at
`SCHED_IDLE`, in a thread of its own; its database work keeps the normal priority.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_yielding = False


def yield_to_web(takes_locks_the_web_waits_for: bool) -> None:
    """Make this worker process yield the CPU to a web server on the same host.

    Where the process itself takes locks the web waits for (SQLite's one write slot), only
    its jobs' heavy computing runs at the lowest priority; elsewhere (PostgreSQL, where the
    web waits for no lock a job holds: jobs lock outbox rows and authorities' batch
    numbering, which only jobs and the relay take) the whole process and the work horses it
    forks do, which leaves the web more CPU (the split costs registrations on SQLite some
    throughput; docs/design.md). Tests and tools that drain the queues in their own process
    keep the priority they have.
    """
    global _yielding
    if takes_locks_the_web_waits_for:
        _yielding = True
    else:
        _lowest_priority()


def compute(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """work(*args, **kwargs), in a thread at the lowest priority when this process yields to
    the web; its exceptions are raised here. `work` must not touch the database."""
    if not _yielding:
        return work(*args, **kwargs)
    # A new thread each time: threads do not survive the fork that makes each work horse,
    # and a thread can lower its priority but, unprivileged, never raise it again.
    pool = ThreadPoolExecutor(1, "idle", initializer=_lowest_priority)
    try:
        return pool.submit(work, *args, **kwargs).result()
    finally:
        # Without waiting: an exception raised here while waiting (rq's job timeout) ends
        # the job now, not when the computing is done.
        pool.shutdown(wait=False)


def _lowest_priority() -> None:
    """Put the calling thread at SCHED_IDLE (Linux; a sandbox that refuses it: nice 19, which
    on Linux is the thread's own too). Elsewhere nothing changes: a niced thread there would
    be a niced process.

    SCHED_IDLE rather than nice: a waking web thread preempts it at once, where a niced job
    keeps the CPU to the end of its slice.
    """
    if not hasattr(os, "SCHED_IDLE"):
        return
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except OSError:
        os.nice(19)
