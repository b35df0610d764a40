"""Roles that never die, and fast recovery (issue #22, items 6 and 7).

Seen before: the reconciler died on rq's ValueError for an execution record that expired
120-150 s after its worker was killed; after `intake erase`, a batch file that had to be
written again raised "message ... was erased" on every round; any other error in a
scheduler task ended the scheduler; work held by a dead worker waited 120 s.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import subprocess
import threading
import time

from rq import Worker
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from rq.serializers import JSONSerializer
from sqlalchemy import select

from intake.delivery import batch_files, outbox, scheduler
from intake.registrations import retention
from intake.store import models
from tests.helpers.api import post
from tests.helpers.data import ADULT
from tests.helpers.pipeline import batch_file_names, delivered, process_queue


def dead_worker(runtime, name: str = "killed") -> Worker:  # type: ignore[no-untyped-def]
    """A worker registered in Redis whose process is gone (on this host)."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    worker = Worker([runtime.queue("payloads")], connection=runtime.redis, name=name)
    worker.register_birth()
    runtime.redis.hset(worker.key, mapping={"pid": gone.pid, "hostname": socket.gethostname()})
    return worker


def started_by(runtime, job_id: str, worker: str) -> Job:  # type: ignore[no-untyped-def]
    """The job as rq leaves it when its worker dies mid-job: started, in the registry."""
    job = Job.fetch(job_id, connection=runtime.redis, serializer=JSONSerializer)
    runtime.queue(job.origin).remove(job)
    job.set_status(JobStatus.STARTED)
    job.worker_name = worker
    job.save()
    registry = StartedJobRegistry(queue=runtime.queue(job.origin))
    runtime.redis.zadd(registry.key, {f"{job.id}:execution-1": time.time() + 600})
    return job


def the_job(runtime) -> str:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        [job_id] = session.scalars(select(models.Outbox.job_id)).all()
    return str(job_id)


def test_work_of_a_dead_worker_is_offered_again_within_seconds(client, submit_token, runtime):
    post(client, submit_token, ADULT)
    outbox.relay(runtime)
    started_by(runtime, the_job(runtime), dead_worker(runtime).name)

    assert outbox.rescue(runtime) == 1  # no waiting for STALE_AFTER

    process_queue(runtime)
    assert len(delivered(runtime.settings)) == 1


def test_an_expired_execution_record_does_not_stop_the_reconciler(client, submit_token, runtime):
    post(client, submit_token, ADULT)
    outbox.relay(runtime)
    job = started_by(runtime, the_job(runtime), dead_worker(runtime).name)
    # What rq leaves 120-150 s after the kill: the execution's id, without its record.
    runtime.redis.zadd(job.execution_registry.key, {"gone-execution": time.time() + 600})

    assert outbox.reconcile(runtime, stale_after=dt.timedelta(0)) == 1

    process_queue(runtime)
    assert len(delivered(runtime.settings)) == 1


def test_a_missing_batch_file_is_written_without_a_person_erased_since(
    client, submit_token, runtime
):
    kept = post(client, submit_token, ADULT).json
    erased = post(client, submit_token, ADULT).json
    process_queue(runtime)
    with runtime.db.transaction() as session:
        retention.erase(session, session.scalar(select(models.Registration).where(
            models.Registration.reference == erased["reference"])), runtime.cipher,
            runtime.settings.xml_out, runtime.blobs)
    [path] = batch_file_names(runtime.settings.xml_out)
    path.unlink()  # lost from disk

    with runtime.db.transaction() as session:
        [batch_id] = batch_files.to_write(session, runtime.settings.xml_out,
                                          dt.datetime.now(dt.UTC))
        batch_files.write(session, runtime.cipher, runtime.blobs, runtime.settings.xml_out,
                          session.get(models.Batch, batch_id))

    assert list(delivered(runtime.settings)) == [f"{kept['applications'][0]['application_id']}.xml"]


def test_a_task_that_keeps_failing_backs_off_and_the_others_go_on(runtime, monkeypatch, caplog):
    runs = {"boom": [], "tick": []}

    def boom(_runtime):  # type: ignore[no-untyped-def]
        runs["boom"].append(time.monotonic())
        raise KeyError("a fault in the code")

    def tick(_runtime):  # type: ignore[no-untyped-def]
        runs["tick"].append(time.monotonic())
        return 0

    monkeypatch.setattr(scheduler, "tasks", lambda *_: [
        scheduler.Task("boom", 0.1, boom), scheduler.Task("tick", 0.1, tick),
    ])
    with caplog.at_level(logging.ERROR, logger="intake.delivery.scheduler"):
        scheduler.run(runtime, interval=0.02, stop_after=3.5)

    gaps = [later - earlier for earlier, later in zip(runs["boom"], runs["boom"][1:], strict=False)]
    assert len(runs["tick"]) >= 25  # about every 0.1 s for 3.5 s
    assert len(runs["boom"]) == 3 and 0.9 < gaps[0] < 1.5 and 1.9 < gaps[1] < 2.5  # 1 s, 2 s
    assert "boom failed (1 in a row)" in caplog.text and "KeyError" in caplog.text
    assert int(runtime.redis.hget(scheduler.ERRORS_KEY, "boom")) == len(runs["boom"])


def test_errors_of_scheduler_tasks_are_in_the_metrics(client, runtime):
    from intake.security import tokens

    runtime.redis.hincrby(scheduler.ERRORS_KEY, "retention", 3)
    with runtime.db.transaction() as session:
        token = tokens.create(session, "prometheus", "metrics")

    text = client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).text

    assert 'intake_scheduler_task_errors_total{task="retention"} 3.0' in text


def test_a_registration_is_relayed_while_a_long_sweep_runs(client, submit_token, runtime,
                                                           monkeypatch):
    """The first sweep of a database of a million with its backlog erases for minutes: the
    relay, the mails and the log's checkpoint went on only after it."""
    seen, told = [], []

    def long_sweep(runtime, stopping):  # type: ignore[no-untyped-def]
        told.append(stopping)
        post(client, submit_token, ADULT)  # sent while the sweep runs
        waited = time.monotonic() + 3.0
        while time.monotonic() < waited and not seen:
            with runtime.db.read() as session:
                seen.extend(session.scalars(select(models.Outbox.id).where(
                    models.Outbox.enqueued_at.is_not(None))))
            time.sleep(0.05)
        return 0

    monkeypatch.setattr(scheduler, "expire", long_sweep)
    scheduler.run(runtime, interval=0.02, stop_after=1.0)

    assert seen  # queued before the sweep ended
    assert [stopping() for stopping in told] == [True]  # a sweep's chunks end with the scheduler


def test_the_scheduler_survives_a_database_fault_and_an_unknown_one(runtime, monkeypatch):
    calls = []

    def flaky(_runtime):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("unexpected")
        return 0

    monkeypatch.setattr(scheduler, "tasks", lambda *_: [scheduler.Task("flaky", 0.05, flaky)])
    stopper = threading.Timer(3.0, lambda: None)
    stopper.start()
    scheduler.run(runtime, interval=0.02, stop_after=2.5)
    stopper.cancel()

    assert len(calls) >= 10  # back to its own pace after the one error (a pause of 1 s)
    assert os.getpid()  # and this process, the scheduler, is still here


def test_a_job_taken_off_the_queue_by_a_worker_that_died_is_offered_again_soon(
    client, submit_token, runtime, monkeypatch
):
    post(client, submit_token, ADULT)
    outbox.relay(runtime)
    queue = runtime.queue("payloads")
    runtime.redis.lmove(queue.key, queue.intermediate_queue_key)  # as a worker takes a job

    assert outbox.rescue(runtime) == 0  # a worker may be about to start it
    monkeypatch.setattr(outbox, "TAKEN_TOO_LONG", 0.0)
    assert outbox.rescue(runtime) == 1  # still not started: its worker is gone

    process_queue(runtime)
    assert len(delivered(runtime.settings)) == 1
    assert runtime.redis.llen(queue.intermediate_queue_key) == 0
