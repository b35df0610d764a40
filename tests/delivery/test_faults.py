"""Fault tests with real processes: workers killed outright, Redis emptied mid-run.

Every registration must end in exactly one batch, with every manifest checksum right.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from intake.config import Settings
from intake.dataset.schemas import HouseholdSchema
from intake.registrations import register
from intake.runtime import Runtime
from intake.store import models
from tests.helpers.data import ADULT
from tests.helpers.pipeline import delivered
from tests.helpers.processes import children

pytestmark = pytest.mark.slow
# Each household's payload job makes its summary PDF (~0.1 s of CPU): 300 keep one worker
# busy for half a minute, time for three kills while a work horse is busy.
REGISTRATIONS = 300
DEADLINE = int(os.environ.get("INTAKE_FAULT_DEADLINE", "240"))  # seconds for the whole run
# On PostgreSQL with a Redis server the runs take a minute more of `make test`'s 15: .ci/run
# runs them in its long stage, after `make test` (INTAKE_TEST_LONG=1).
ON_SERVERS = os.environ.get("INTAKE_TEST_LONG") == "1"


def start(role: str, settings: Settings) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings.to_env()}
    return subprocess.Popen(  # its own group: the work horse is killed separately below
        [sys.executable, "-m", "intake.cli", role], env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def horses(worker_pid: int) -> list[int]:
    """The worker's work horses: children in a process group of their own (rq's scheduler,
    also a child, stays in the worker's group)."""
    return [pid for pid, group in children(worker_pid) if group == pid]


def kill_worker(worker: subprocess.Popen[bytes], busy: list[int]) -> int:
    """SIGKILL the worker's process group (the worker and rq's scheduler), then the work
    horses seen busy a moment ago; returns how many of those were still there to kill."""
    os.killpg(worker.pid, signal.SIGKILL)  # first: it would see its horse die and retry
    killed = 0
    for pid in busy:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            killed += 1
    worker.wait()
    return killed


def progress(runtime: Runtime) -> tuple[int, int]:
    with runtime.db.read() as session:
        batched = session.scalar(select(func.count()).select_from(models.Message)
                                 .where(models.Message.batch_id.is_not(None)))
        owed = session.scalar(select(func.count()).select_from(models.Outbox)
                              .where(models.Outbox.done_at.is_(None)))
    return batched or 0, owed or 0


@pytest.fixture
def loaded(runtime: Runtime):  # type: ignore[no-untyped-def]
    if runtime.settings.database_url.startswith("postgresql") and not ON_SERVERS:
        pytest.skip("on PostgreSQL and a Redis server in .ci/run's long stage")
    household = HouseholdSchema().load(ADULT)
    for _ in range(REGISTRATIONS):
        register.register(runtime, household)
    # Jobs of 10 rows, thirty of them, where the default 500 made one: work for a worker to
    # be killed in three times, each job long enough (~1 s) to be found busy.
    fast = Runtime(dataclasses.replace(runtime.settings, batch_interval=1.0, reconcile_after=3.0,
                                       relay_interval=0.2, relay_chunk=10))
    yield fast
    fast.close()


def run_until_done(runtime: Runtime, fault) -> None:  # type: ignore[no-untyped-def]
    scheduler = start("scheduler", runtime.settings)
    worker = start("worker", runtime.settings)
    started = time.monotonic()
    try:
        worker = fault(worker)
        # Done when every message is in a batch file: a batch job killed after its commit
        # leaves the file to the scheduler's pass for missing files.
        while progress(runtime) != (REGISTRATIONS, 0) or (
            len(delivered(runtime.settings)) < REGISTRATIONS
        ):
            assert time.monotonic() - started < DEADLINE, (
                f"stuck at {progress(runtime)}, {len(delivered(runtime.settings))} in files: "
                + diagnose(runtime))
            if worker.poll() is not None:  # e.g. a worker that lost its Redis: start again
                worker = start("worker", runtime.settings)
            time.sleep(0.5)
    finally:
        for process in (scheduler, worker):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(30)


def diagnose(runtime: Runtime) -> str:
    from rq.job import Job

    with runtime.db.read() as session:
        rows = session.execute(
            select(models.Outbox.id, models.Outbox.job_id, models.Outbox.enqueued_at,
                   models.Outbox.failed_at).where(models.Outbox.done_at.is_(None)).limit(5)
        ).all()
    jobs = {row[1]: Job.fetch(row[1], connection=runtime.redis).get_status()
            for row in rows if row[1] and Job.exists(row[1], connection=runtime.redis)}
    return f"rows {rows}, jobs {jobs}"


def check_exactly_once(runtime: Runtime) -> None:
    messages = delivered(runtime.settings)  # checksums verified, no name in two batches
    assert len(messages) == REGISTRATIONS
    with runtime.db.read() as session:
        assert session.scalar(select(func.count()).select_from(models.Message)) == REGISTRATIONS
        sequences = session.scalars(select(models.Batch.sequence)
                                    .order_by(models.Batch.sequence)).all()
        assert sequences == list(range(1, len(sequences) + 1))


def test_workers_killed_at_three_random_moments_lose_and_double_nothing(loaded: Runtime):
    horses_killed = []

    def kill_three_times(worker: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
        for _ in range(3):
            time.sleep(random.uniform(0.2, 1.5))
            deadline = time.monotonic() + 30  # past a killed job's restart (reconciler)
            while not (busy := horses(worker.pid)) and time.monotonic() < deadline:
                time.sleep(0.01)  # strike while a work horse is busy with a job
            horses_killed.append(kill_worker(worker, busy))
            worker = start("worker", loaded.settings)
        return worker

    run_until_done(loaded, kill_three_times)
    check_exactly_once(loaded)
    assert horses_killed == [1, 1, 1]


def test_redis_emptied_mid_run_loses_nothing(loaded: Runtime):
    def flush(worker: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
        time.sleep(2.0)
        loaded.redis.flushdb()
        return worker

    run_until_done(loaded, flush)
    check_exactly_once(loaded)
