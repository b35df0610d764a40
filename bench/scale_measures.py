"""What bench/scale.py measures in its own process: with the service stopped, the duplicate
check, a batch of 5,000 messages and the retention sweep; with it running idle, the batch
files of a stopped key rotation."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import statistics
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import scale_households
import scale_seed
from sqlalchemy import distinct, func, select, update

from intake.delivery import batch_files, batches, scheduler
from intake.runtime import Runtime
from intake.security import rotation
from intake.store import blind_index, models, stored_form

if TYPE_CHECKING:
    from scale import Database

SWEEP = 100_000  # acknowledged registrations a retention sweep erases, at most
PILOT = 1000  # the sweep's first part, which tells its rate
SWEEP_SECONDS = float(os.environ.get("INTAKE_SCALE_SWEEP_SECONDS", "30"))
# A stopped rotation's batch files left: a sample written again this long tells their rate.
FILES_SAMPLE_SECONDS = 10.0
BATCH = 5000
CHECKS = 200  # duplicate checks: half of seeded people (found again), half new


def duplicate_check(db: Database, seeder: scale_seed.Seeder) -> dict[str, float]:
    """blind_index.duplicates as the review step calls it, for an authority's volunteer."""
    found = seeder.samples[:CHECKS // 2]
    made = scale_households.Households(random.Random(len(found)), scale_households.templates(),
                                       seeder.routes, seeder.weights)
    fresh = []
    for _ in range(CHECKS - len(found)):
        household, authority, _group = made.make()
        fresh.append({"authority": authority.key, "persons": [
            stored_form.person_document(person) for person in household.persons]})
    times, matches = [], 0
    with db.runtime.db.read() as session:
        for case in found + fresh:
            started = time.perf_counter()
            matches += len(blind_index.duplicates(session, db.runtime.cipher, case["persons"],
                                                  (case["authority"],)))
            times.append(time.perf_counter() - started)
    times.sort()
    return {"median_ms": statistics.median(times) * 1000,
            "p99_ms": times[int(len(times) * 0.99) - 1] * 1000, "matches": matches,
            "checks": len(times)}


def batch_assembly(db: Database, seeder: scale_seed.Seeder) -> dict[str, float]:
    """5,000 messages waiting for one authority: assembled, then the file written."""
    runtime, key = db.runtime, seeder.biggest_authorities(1)[0]
    people, seeder.pending = seeder.pending[:BATCH], seeder.pending[BATCH:]
    now = dt.datetime.now(dt.UTC)
    messages, payloads = [], []
    for person_id, registration_id in people:
        message_id = models.new_id()
        payload, in_file, sha256 = seeder.sealed(message_id)
        messages.append({"id": message_id, "person_id": person_id,
                         "registration_id": registration_id, "authority_key": key,
                         "message_uuid": str(models.new_uuid()), "file_name": f"{message_id}.xml",
                         "sha256": sha256, "created_at": now, "stored_bytes": in_file})
        payloads.append({"message_id": message_id, "payload": payload})
    with runtime.db.transaction() as session:
        session.execute(models.table(models.Message).insert(), messages)
        session.execute(models.table(models.MessagePayload).insert(), payloads)
        seeder.keep_summaries(session, {registration_id for _person, registration_id in people})
    started = time.perf_counter()
    with runtime.db.transaction() as session:
        batch = batches.assemble(session, key, now, limit=BATCH)
    assembled = time.perf_counter()
    assert batch is not None
    with runtime.db.transaction() as session:
        path = batch_files.write(session, runtime.cipher, runtime.blobs, runtime.settings.xml_out,
                                    batch)
        written = time.perf_counter()
        session.execute(update(models.Batch).where(models.Batch.id == batch.id)
                        .values(acknowledged_at=now))
    db.bench_batches.append(batch.id)
    # The file stays, as a delivered batch's does: deleted (until 2026-12-07), it was written
    # again by the scheduler's repair of missing files (5,000 messages, 100 MB) while the
    # mixed load was measured, and the status page's p99 rose to 2.6 s at 100,000.
    size = path.stat().st_size
    return {"messages": batch.count, "assemble_s": assembled - started,
            "write_s": written - assembled, "seconds": written - started, "mb": size / 1e6}


class _Sampled(Exception):
    """The sample of batch files has taken its time."""


def batch_files_sample(runtime: Runtime, seconds: float = FILES_SAMPLE_SECONDS) -> dict[str, float]:
    """Rotation's last phase (writing batch files under an older data key again) for
    `seconds`, the service running but idle (its load ended): how long it lists the files
    (it reads each one's head), how many it then writes a second, and how long those left
    would take."""
    started = time.monotonic()
    listed = 0.0
    done, total = 0, 0

    @contextlib.contextmanager
    def meter(_label: str, count: int) -> Iterator[Callable[[int], None]]:
        nonlocal listed, total
        listed, total = time.monotonic(), count

        def advance(steps: int) -> None:
            nonlocal done
            done += steps
            if time.monotonic() - listed >= seconds:
                raise _Sampled

        yield advance

    with contextlib.suppress(_Sampled):
        rotation._rewrite_batch_files(runtime, meter)
    if not listed:  # none to write: the meter was never opened
        listed = time.monotonic()
    writing = time.monotonic() - listed
    rate = done / writing if done else 0.0
    return {"files": total, "done": done, "listing_seconds": listed - started,
            "files_per_second": rate,
            "seconds_left": (total - done) / rate if rate else 0.0}


def _age(db: Database, most: int) -> int:
    """Make batches carrying up to `most` acknowledged registrations older than the
    retention time; how many registrations they carry."""
    message, batch = models.Message, models.Batch
    with db.runtime.db.transaction() as session:
        carried = session.execute(
            select(message.batch_id, func.count(distinct(message.registration_id)))
            .join(batch, batch.id == message.batch_id)
            .where(batch.acknowledged_at.is_not(None), batch.erased_at.is_(None),
                   batch.id.not_in(db.bench_batches or [""]))
            .group_by(message.batch_id).order_by(message.batch_id)).all()
        chosen, total = [], 0
        for batch_id, count in carried:
            if total >= most:
                break
            chosen.append(batch_id)
            total += count
        past = dt.datetime.now(dt.UTC) - db.runtime.settings.retention - dt.timedelta(days=1)
        for start in range(0, len(chosen), 5000):
            session.execute(update(batch).where(batch.id.in_(chosen[start:start + 5000]))
                            .values(acknowledged_at=past))
    return total


def retention_sweep(db: Database) -> dict[str, Any]:
    """The scheduler's sweep (scheduler.expire) over up to SWEEP acknowledged registrations,
    their batches made older than the retention time, in rounds: the first of PILOT tells
    the rate, and sweeping stops after SWEEP_SECONDS (`capped`: a slow sweep would take the
    run's hour)."""
    def erased() -> int:
        with db.runtime.db.read() as session:
            return int(session.scalar(select(func.count()).select_from(models.Registration)
                                      .where(models.Registration.erased_at.is_not(None))) or 0)

    done, seconds, batches_swept, capped = 0, 0.0, 0, False
    while done < SWEEP:
        if seconds >= SWEEP_SECONDS:
            capped = True
            break
        # Rounds of half the time left at the rate so far: a slowing sweep overshoots little.
        most = min(SWEEP - done, PILOT if not done else max(
            PILOT, int(done / seconds * (SWEEP_SECONDS - seconds) / 2)))
        if not _age(db, most):
            break  # nothing acknowledged is left
        before = erased()
        started = time.perf_counter()
        batches_swept += scheduler.expire(db.runtime)
        seconds += time.perf_counter() - started
        done += erased() - before
    return {"batches": batches_swept, "registrations": done, "seconds": seconds,
            "per_second": done / seconds if seconds else 0.0, "capped": capped}
