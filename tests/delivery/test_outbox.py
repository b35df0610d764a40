"""Nothing is lost: the reconciler restores vanished and abandoned jobs, and reports failed ones."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from sqlalchemy import select

from intake.delivery import jobs, outbox
from intake.runtime import bind
from intake.store import models
from tests.helpers.api import post
from tests.helpers.data import ADULT
from tests.helpers.pipeline import delivered, process_queue


def test_work_lost_in_a_flushed_redis_is_restored(client, submit_token, runtime):
    for _ in range(3):
        post(client, submit_token, ADULT)
    outbox.relay(runtime)
    runtime.redis.flushdb()  # Redis restarted empty, in the middle of the run

    restored = outbox.reconcile(runtime, stale_after=dt.timedelta(0))
    process_queue(runtime)

    assert restored == 3
    assert len(delivered(runtime.settings)) == 3


def test_a_job_abandoned_by_a_dead_worker_is_offered_again(client, submit_token, runtime):
    post(client, submit_token, ADULT)
    outbox.relay(runtime)
    with runtime.db.read() as session:
        [job_id] = session.scalars(select(models.Outbox.job_id)).all()
    job = Job.fetch(job_id, connection=runtime.redis, serializer=JSONSerializer)
    runtime.queue("payloads").remove(job)  # a worker took it, then died
    job.set_status(JobStatus.STARTED)
    job.worker_name = "died-long-ago"
    job.save()

    assert outbox.reconcile(runtime, stale_after=dt.timedelta(0)) == 1
    process_queue(runtime)
    assert len(delivered(runtime.settings)) == 1


def test_a_job_that_failed_every_retry_is_reported_and_holds_nothing_back(
    app, client, submit_token, runtime
):
    from intake.cli import main

    post(client, submit_token, ADULT)
    outbox.relay(runtime)  # one job for the first registration...
    post(client, submit_token, ADULT)
    with runtime.db.read() as session:
        first, job_id = session.execute(
            select(models.Outbox.id, models.Outbox.job_id).where(models.Outbox.job_id.is_not(None))
        ).one()
    job = Job.fetch(job_id, connection=runtime.redis, serializer=JSONSerializer)
    runtime.queue("payloads").remove(job)  # as a worker does when the job fails
    job.set_status(JobStatus.FAILED)
    job.retries_left = 0
    job.save()

    outbox.reconcile(runtime, stale_after=dt.timedelta(0))
    process_queue(runtime)  # ...and one for the second

    assert len(delivered(runtime.settings)) == 1  # the other registration went through
    result = app.test_cli_runner().invoke(main, ["status", "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    report = json.loads(result.output)
    assert report["failed_outbox_rows"] == [first]
    assert set(report["queues"]) == {"payloads", "mail", "batches"}


def test_a_worker_killed_on_this_host_is_seen_dead_at_once(runtime):
    import socket
    import subprocess

    from rq import Worker

    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that no longer runs
    worker = Worker([runtime.queue("payloads")], connection=runtime.redis, name="killed")
    worker.register_birth()
    runtime.redis.hset(worker.key, mapping={"pid": gone.pid, "hostname": socket.gethostname()})

    assert not outbox._alive(runtime, "killed")
    runtime.redis.hset(worker.key, mapping={"pid": __import__("os").getpid()})
    assert outbox._alive(runtime, "killed")


def test_a_job_taken_off_the_queue_by_a_worker_that_died_at_once_is_offered_again(
    client, submit_token, runtime
):
    post(client, submit_token, ADULT)
    outbox.relay(runtime)
    with runtime.db.read() as session:
        [job_id] = session.scalars(select(models.Outbox.job_id)).all()
    job = Job.fetch(job_id, connection=runtime.redis, serializer=JSONSerializer)
    runtime.queue("payloads").remove(job)  # moved aside by the worker, still "queued"
    assert job.get_status() == JobStatus.QUEUED

    assert outbox.reconcile(runtime, stale_after=dt.timedelta(0)) == 1
    process_queue(runtime)
    assert len(delivered(runtime.settings)) == 1


def test_a_remnant_of_a_deleted_job_does_not_block_its_rows_for_ever(client, submit_token, runtime):
    post(client, submit_token, ADULT)
    outbox.relay(runtime)
    with runtime.db.read() as session:
        [job_id] = session.scalars(select(models.Outbox.job_id)).all()
    Job.fetch(job_id, connection=runtime.redis, serializer=JSONSerializer).delete()
    # A horse's late heartbeat: status fields of a job that no longer exists.
    runtime.redis.hset(Job.key_for(job_id), mapping={"status": "started", "worker_name": "w"})

    assert outbox.reconcile(runtime, stale_after=dt.timedelta(0)) == 1
    process_queue(runtime)
    assert len(delivered(runtime.settings)) == 1


def test_a_batch_job_abandoned_by_a_dead_worker_does_not_hold_back_the_batches(
    client, submit_token, runtime
):
    import socket
    import subprocess

    from rq import Worker

    from intake.delivery import jobs

    post(client, submit_token, ADULT)
    outbox.relay(runtime)
    bind(runtime)
    runtime.worker(in_process=True).work(burst=True)  # built, not batched yet
    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = Worker([runtime.queue("batches")], connection=runtime.redis, name="killed")
    dead.register_birth()
    runtime.redis.hset(dead.key, mapping={"pid": gone.pid, "hostname": socket.gethostname()})
    jobs.enqueue_batches(runtime.queue("batches"), "073400")
    job = Job.fetch(jobs.batches_job_id("073400"), connection=runtime.redis,
                    serializer=JSONSerializer)
    runtime.queue("batches").remove(job)  # taken by the worker that then died mid-job
    job.set_status(JobStatus.STARTED)
    job.worker_name = "killed"
    job.save()

    process_queue(runtime)

    assert len(delivered(runtime.settings)) == 1


def test_relay_and_reconciler_read_only_unfinished_work(client, submit_token, runtime):
    """In a burst the workers fall behind; the relay (twice a second, holding SQLite's write
    lock) and the reconciler must find their rows through the index of unfinished work, not
    by reading every row of the backlog or of the finished past."""
    from sqlalchemy import event, text

    post(client, submit_token, ADULT)
    statements: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "FROM outbox" in statement:
            statements.append((statement, parameters))

    event.listen(runtime.db.engine, "before_cursor_execute", record)
    try:
        outbox.relay(runtime)
        outbox.reconcile(runtime, stale_after=dt.timedelta(0))
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", record)

    assert len(statements) == 2
    explain = "EXPLAIN QUERY PLAN " if runtime.db.url.startswith("sqlite") else "EXPLAIN "
    with runtime.db.read() as session:
        if not runtime.db.url.startswith("sqlite"):
            session.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table: seq wins
        for statement, parameters in statements:
            cursor = session.connection().connection.cursor()
            cursor.execute(explain + statement, parameters)
            plan = " ".join(str(row) for row in cursor.fetchall())
            assert "outbox_pending" in plan, plan


def test_the_relay_does_not_hold_the_write_lock_while_it_asks_redis(
    client, submit_token, runtime, monkeypatch
):
    """A registration is written meanwhile; a chunk queued but not marked goes again once."""
    post(client, submit_token, ADULT)
    written_meanwhile = []

    def enqueue(queue, chunk):  # type: ignore[no-untyped-def]
        writer = threading.Thread(target=lambda: written_meanwhile.append(
            post(client, submit_token, ADULT).status_code))
        writer.start()
        writer.join(5)  # on SQLite it would wait for the lock as long as the relay held it
        assert not writer.is_alive()
        return queue_for_real(queue, chunk)

    queue_for_real = jobs.enqueue_payloads
    monkeypatch.setattr(outbox, "enqueue_payloads", enqueue)
    assert outbox.relay(runtime) == 1
    assert written_meanwhile == [201]
    monkeypatch.undo()

    def database_gone():  # type: ignore[no-untyped-def]
        raise OSError("database gone")

    monkeypatch.setattr(runtime.db, "transaction", database_gone)  # queued, then not marked
    with pytest.raises(OSError):
        outbox.relay(runtime)
    monkeypatch.undo()
    assert runtime.queue("payloads").count == 2

    assert outbox.relay(runtime) == 1  # the same chunk: its job is not queued twice
    assert runtime.queue("payloads").count == 2
    process_queue(runtime)
    assert len(delivered(runtime.settings)) == 2
