"""Registrations erased per second by a retention sweep (issue #29: >= 5,000/s at 100,000).

    python bench/retention_sweep.py [COUNT ...] [--database-url URL]

Seeds COUNT registrations as the pipeline leaves them delivered (households of 1-4 people,
messages with payloads in batches of up to 5,000 acknowledged 40 days ago, their files; every
4th household a mail, every 10th an Idempotency-Key, every 20th a document), then times one
sweep (`scheduler.expire`, as the hourly task runs it). A fresh SQLite file by default; a
PostgreSQL URL names a database the bench may empty. A JSON line per COUNT. `sweep` seeds
into a runtime's database, whatever it holds already, for benchmarks at scale.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import secrets
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text, update

from intake.authorities.demo import seed as seed_authorities
from intake.config import Settings, new_data_key, parse_data_keys
from intake.dataset.schemas import HouseholdSchema
from intake.delivery import batch_files, batches, scheduler
from intake.delivery.files import private_folder
from intake.documents import store as documents
from intake.registrations import routing
from intake.runtime import Runtime
from intake.store import household_rows, idempotency, models

BATCH = batches.MAX_MESSAGES
SEED_GROUP = 2000  # households prepared and written per transaction


def _household(n: int) -> dict[str, object]:
    persons = [{"role": "applicant" if p == 0 else "child", "family_name": "Bench",
                "given_names": f"Olena {n}", "sex": "female", "date_of_birth": "1990-05-01",
                "place_of_birth": "Kyiv", "nationalities": ["UA"],
                "document": {"type": "passport", "number": f"FE{n:07d}"}}
               for p in range(1 + n % 4)]
    contact = {"contact": {"email": f"olena{n}@example.org"}} if n % 4 == 0 else {}
    return {"consent": {"data_processing": True}, "postal_code": "14467", "persons": persons,
            **contact}


def seed(runtime: Runtime, count: int, acknowledged_days_ago: float = 40) -> None:
    """`count` delivered registrations, in batches acknowledged that many days ago."""
    cipher, now = runtime.cipher, dt.datetime.now(dt.UTC)
    acknowledged = now - dt.timedelta(days=acknowledged_days_ago)
    schema = HouseholdSchema()
    # One sealed payload for every message: the sweep deletes payloads, it never opens one.
    payload, _in_file = batches.seal(
        cipher, "bench", b"<nachricht>" + b"x" * 6000 + b"</nachricht>")
    content = b"%PDF" + b"\0" * 16_000
    batch: dict[str, object] | None = None
    for start in range(0, count, SEED_GROUP):
        with runtime.db.transaction() as session:
            authority = routing.route(session, "14467")
            assert authority is not None
            made = []
            for n in range(start, min(count, start + SEED_GROUP)):
                item = household_rows.prepare(cipher, schema.load(_household(n)), authority)
                if n % 10 == 0:
                    item.idempotency = idempotency.claim(cipher, f"{n:064x}", "0" * 64)
                made.append(item)
            household_rows.write(session, made)
            ids = [item.registration["id"] for item in made]
            session.execute(update(models.Outbox).where(models.Outbox.registration_id.in_(ids))
                            .values(done_at=now))
            messages, payloads = [], []
            for item in made:
                for person in item.persons:
                    if batch is None or batch["count"] == BATCH:
                        batch = _new_batch(session, authority.key, acknowledged)
                    batch["count"] = int(str(batch["count"])) + 1
                    message_id = models.new_id()
                    messages.append({
                        "id": message_id, "person_id": person["id"],
                        "registration_id": item.registration["id"],
                        "authority_key": authority.key, "message_uuid": str(models.new_uuid()),
                        "file_name": f"{person['application_id']}.xml", "sha256": "0" * 64,
                        "created_at": acknowledged, "batch_id": batch["id"],
                        "stored_bytes": len(payload)})
                    payloads.append({"message_id": message_id, "payload": payload})
            session.execute(insert(models.Message), messages)
            session.execute(insert(models.MessagePayload), payloads)
            _documents(session, cipher, ids[::20], content)
            session.execute(update(models.Batch).where(models.Batch.id == batch["id"])
                            .values(count=batch["count"]))
            # Half the mails went out; the others are still owed when the data goes.
            session.execute(update(models.Mail).where(models.Mail.registration_id.in_(ids[::8]))
                            .values(sent_at=now, data=None))
    if runtime.db.engine.dialect.name == "postgresql":  # statistics, as autovacuum keeps
        with runtime.db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    private_folder(runtime.settings.xml_out)
    with runtime.db.read() as session:  # the files the authority fetched, still held
        for held in session.scalars(select(models.Batch).where(models.Batch.erased_at.is_(None))):
            private_folder(batch_files.path(runtime.settings.xml_out, held).parent)
            batch_files.path(runtime.settings.xml_out, held).write_bytes(b"sealed")


def _new_batch(session, authority_key: str, acknowledged: dt.datetime) -> dict[str, object]:  # type: ignore[no-untyped-def]
    last = session.scalar(select(func.max(models.Batch.sequence))
                          .where(models.Batch.authority_key == authority_key))
    row = {"id": models.new_id(), "authority_key": authority_key, "sequence": (last or 0) + 1,
           "created_at": acknowledged, "count": 0, "acknowledged_at": acknowledged}
    session.execute(insert(models.Batch), [row])
    return row


def _documents(session, cipher, owners: list[str], content: bytes) -> None:  # type: ignore[no-untyped-def]
    """A page of an identity document each, kept in the database (documents.save's rows)."""
    rows, blobs = [], []
    for owner in owners:
        document_id = models.new_id()
        content_key, sealed = documents.seal_content(cipher, document_id, content)
        rows.append({"id": document_id, "registration_id": owner, "person_position": 0,
                     "kind": documents.DOCUMENT_PAGE, "media_type": "application/pdf",
                     "size": len(content), "digest": hashlib.sha256(owner.encode()).hexdigest(),
                     "key_id": cipher.current_key_id, "content_key": content_key,
                     "location": "database", "created_at": models.utcnow()})
        blobs.append({"document_id": document_id, "content": sealed})
    if rows:
        session.execute(insert(models.Document), rows)
        session.execute(insert(models.table(models.DocumentBlob)), blobs)


def sweep(runtime: Runtime, count: int) -> dict[str, object]:
    """Seed `count` delivered registrations into the runtime's database and time a sweep."""
    started = time.perf_counter()
    seed(runtime, count)
    seeded = time.perf_counter() - started
    with runtime.db.read() as session:
        before = session.scalar(select(func.count()).select_from(models.Registration)) or 0
    started = time.perf_counter()
    batches_erased = scheduler.expire(runtime)
    seconds = time.perf_counter() - started
    with runtime.db.read() as session:
        left = session.scalar(select(func.count()).select_from(models.Registration)
                              .where(models.Registration.erased_at.is_(None))) or 0
    return {"database": runtime.db.engine.dialect.name, "registrations": count,
            "in_database": before, "erased": before - left, "batches": batches_erased,
            "seconds": round(seconds, 3), "per_second": round(count / seconds),
            "seed_seconds": round(seeded, 1)}


def _runtime(folder: Path, database_url: str | None) -> Runtime:
    if database_url:  # emptied, as bench/run.py empties its PostgreSQL database
        engine = create_engine(database_url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    runtime = Runtime(Settings(
        env="development", instance_dir=folder, secret_key=secrets.token_hex(16),
        database_url=database_url or f"sqlite:///{folder / 'intake.db'}",
        data_keys=parse_data_keys(new_data_key("b1")), index_key=b"i" * 32,
        xml_out=folder / "xml_out"))
    runtime.db.upgrade()
    with runtime.db.transaction() as session:
        seed_authorities(session)
    return runtime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("counts", nargs="*", type=int, default=[10_000])
    parser.add_argument("--database-url")
    args = parser.parse_args()
    for count in args.counts:
        with tempfile.TemporaryDirectory(prefix="bench-retention-") as scratch:
            runtime = _runtime(Path(scratch), args.database_url)
            print(json.dumps(sweep(runtime, count)), flush=True)
            runtime.db.dispose()


if __name__ == "__main__":
    main()
