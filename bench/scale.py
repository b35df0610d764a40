"""`make bench-scale` (issue #29, part 1): is the service as fast with a million registrations?

Grows one database per engine (SQLite always; PostgreSQL when INTAKE_BENCH_DATABASE_URL names a
database the bench may empty) through the sizes of INTAKE_SCALE_SIZES (default
10000,100000,1000000, capped by INTAKE_SCALE_MAX), seeding through the store layer
(bench/scale_seed.py), and at each size measures:
  - with `intake serve` under load (bench/scale_load.py): registrations accepted per second
    and their p99; status page, slots listing, desk search and registrations p99 under a
    mixed load; key rotation over the whole database while registrations come in;
  - in this process, the service stopped (bench/scale_measures.py): the duplicate check per
    registration, assembling and writing a batch of 5,000 messages, a retention sweep over
    up to 100,000 acknowledged registrations; database size per registration (with and
    without documents).
Writes bench/scale/results.json, then bench/SCALE.md and its plots (bench/scale_report.py).
`python bench/scale.py report` writes the report again from results.json.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import scale_load
import scale_measures
import scale_report
import scale_seed
from documents import phone_photo
from run import REPO, free_port, intake, intake_env, machine_speed, reset_postgresql
from scale_load import Peaks, desk_session, mixed, registrations, serving
from sqlalchemy import create_engine, func, select, text

from intake.config import Settings, new_data_key
from intake.delivery.redis_connection import EmbeddedRedis
from intake.documents import files, store
from intake.runtime import Runtime
from intake.security import rotation
from intake.store import models

if str(REPO) not in sys.path:  # tests.helpers: the national directory, a staff account
    sys.path.insert(1, str(REPO))

MAX = int(os.environ.get("INTAKE_SCALE_MAX", "1000000"))
SIZES = [n for n in (int(size) for size in os.environ.get(
    "INTAKE_SCALE_SIZES", "10000,100000,1000000").split(",") if size) if n <= MAX]
RESULTS = REPO / "bench" / "scale" / "results.json"
# Key rotation is stopped after this long; the values it re-encrypted tell its rate.
ROTATION_SECONDS = float(os.environ.get("INTAKE_SCALE_ROTATION_SECONDS", "60"))


class Database:
    """One engine's growing database, its folder and its service's environment."""

    def __init__(self, label: str, url: str | None, scratch: Path) -> None:
        self.label, self.folder = label, scratch / label
        self.folder.mkdir()
        self.url = url or f"sqlite:///{self.folder / 'instance' / 'intake.db'}"
        if url:
            reset_postgresql(url)
        self.env = intake_env(self.folder, self.url, free_port())
        intake(self.env, "db", "upgrade")
        intake(self.env, "demo-seed")
        from tests.helpers import national

        intake(self.env, *national.generate(self.folder / "national").import_arguments())
        self.runtime = Runtime(Settings.from_env(self.env))
        with self.runtime.db.read() as session:
            self.authorities = list(session.scalars(select(models.Authority.key)))
        hours = self.folder / "hours.csv"
        hours.write_text("authority,slot_minutes,seats_per_slot,priority_seats,mon,tue,wed,"
                         "thu,fri,sat,sun\n" + "".join(
                             f"{key},30,10,1,08:00-12:00,08:00-12:00,08:00-16:00,08:00-12:00,"
                             "08:00-12:00,,\n" for key in self.authorities))
        intake(self.env, "authorities", "hours", "import", str(hours))
        self.token = intake(self.env, "token", "create", "scale", "--scope", "submit")
        self.volunteer: Any = None  # a desk account, made when the seeding tells the big ones
        self.keys = 1
        self.bench_batches: list[str] = []  # batch_assembly's: their people are the samples'
        self.last_rotation: dict[str, Any] = {}  # the last size's: its phases' rates
        self.files_sample: dict[str, float] = {}  # the last stopped rotation's files, sampled

    def rekey(self) -> None:
        """A new data key, newest first, as an operator adds one before `intake keys rotate`."""
        self.keys += 1
        path = self.folder / "instance" / "data_keys"
        path.write_text(f"{new_data_key(f'k{self.keys}')},{path.read_text().strip()}")
        self.runtime.close()
        self.runtime = Runtime(Settings.from_env(self.env))

    def not_rotated(self) -> int:
        """Values not under the newest data key (what `intake keys rotate` re-encrypts)."""
        prefix = f"{self.runtime.cipher.current_key_id}."
        with self.runtime.db.read() as session:
            return sum(int(session.scalar(
                select(func.count()).select_from(model).where(
                    getattr(model, column).is_not(None),
                    ~getattr(model, column).startswith(prefix, autoescape=True))) or 0)
                for model, column, _context in rotation.ENCRYPTED)

    def rotation_rest(self) -> dict[str, float]:
        """Seconds a stopped rotation's later phases would take: the documents under an
        older key at the last size's rate, and the batch files at a sample's, taken now.

        The last size's files tell nothing: there the sweep had erased the delivered
        batches, and what was left were two bench batches of 100 MB, at one a second
        (98,035 s extrapolated for 98,000 files, at 1,000,000 on 2026-12-07)."""
        runtime = self.runtime
        with runtime.db.read() as session:
            documents = session.scalar(select(func.count()).select_from(models.Document).where(
                models.Document.key_id != runtime.cipher.current_key_id)) or 0
        rate = scale_load.phase_rates(self.last_rotation).get(scale_load.DOCUMENTS, 0.0)
        files = self.files_sample = scale_measures.batch_files_sample(runtime)
        return {scale_load.DOCUMENTS: documents / max(rate, 1e-9),
                scale_load.FILES: files["listing_seconds"] + files["seconds_left"]}

    def analyze(self) -> None:
        """On PostgreSQL, statistics for the seeded data, as autovacuum keeps them on a
        server that runs it (the default; this machine's has it off): without any, plans
        were guessed, and a sweep took 1,067 registrations/s where it takes ~2,900."""
        if self.url.startswith("sqlite"):
            return
        started = time.monotonic()
        with self.runtime.db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        print(f"{self.label}: analyzed in {time.monotonic() - started:.0f} s", flush=True)

    def count(self) -> int:
        with self.runtime.db.read() as session:
            return int(session.scalar(select(func.count()).select_from(models.Registration)) or 0)

    def sizes(self) -> dict[str, float]:
        """Bytes of the database, of its documents (rows, content, indexes), of the
        messages' stored payloads, and of the authority's summaries (kept as documents)."""
        blob = models.table(models.DocumentBlob)
        with self.runtime.db.read() as session:
            payloads = session.scalar(select(func.sum(func.length(
                models.MessagePayload.payload)))) or 0
            summaries = session.scalar(select(func.sum(func.length(blob.c.content))).where(
                blob.c.document_id.in_(select(models.Document.id).where(
                    models.Document.kind == store.SUMMARY)))) or 0
            if not self.url.startswith("sqlite"):
                database = session.scalar(text("SELECT pg_database_size(current_database())"))
                documents = session.scalar(text(
                    "SELECT pg_total_relation_size('document') "
                    "+ pg_total_relation_size('document_blob')"))
        if self.url.startswith("sqlite"):
            path = self.folder / "instance" / "intake.db"
            with contextlib.closing(sqlite3.connect(path)) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                documents = connection.execute(
                    "SELECT SUM(pgsize) FROM dbstat WHERE name IN (SELECT name FROM "
                    "sqlite_master WHERE tbl_name IN ('document', 'document_blob'))").fetchone()[0]
            database = sum(path.stat().st_size for path in path.parent.glob("intake.db*"))
        return {"database": float(database or 0), "documents": float(documents or 0),
                "payloads": float(payloads), "summaries": float(summaries)}

    def close(self) -> None:
        self.runtime.close()
        with contextlib.suppress(Exception):
            EmbeddedRedis(self.runtime.settings.instance_dir).stop()


def _said(db: Database, what: str, since: float) -> None:
    print(f"{db.label}: {what} ({time.monotonic() - since:.0f} s)", flush=True)


def _settled() -> None:
    """The disk's write-back done before the next measurement: seeding left 1.7-1.9 GB of
    dirty pages (/proc/meminfo), under this machine's background threshold (10 % of 23 GB),
    which the kernel writes back up to 30 s later, beside the next measurement's fsyncs:
    a suspected cause of registrations' p99 swinging between full runs (SQLite at 10,000:
    91.6 ms on 2026-12-07 15:23, 162.7 ms at 18:19)."""
    os.sync()


def measure(db: Database, seeder: scale_seed.Seeder) -> dict[str, Any]:
    _settled()
    started = time.monotonic()
    figures: dict[str, Any] = {"registrations_seeded": seeder.count}
    figures["size"] = {**db.sizes(), "registrations": db.count(),
                       "document_count": seeder.documents}
    _said(db, "sizes", started)
    _settled()
    figures["duplicate_check"] = scale_measures.duplicate_check(db, seeder)
    _said(db, "duplicate check", started)
    _settled()
    figures["batch"] = scale_measures.batch_assembly(db, seeder)
    _said(db, "batch", started)
    _settled()
    figures["retention"] = scale_measures.retention_sweep(db)
    _said(db, "retention sweep", started)
    _settled()
    if db.volunteer is None:  # a volunteer working for the ten authorities with most people
        from tests.helpers.staff import create_staff

        db.volunteer = create_staff(db.runtime, "scale@example.org", "volunteer",
                                    authorities=seeder.biggest_authorities(10))
    peaks = Peaks()
    with serving(db.env, peaks) as port:
        desk = desk_session(port, db.volunteer.email, db.volunteer.password, db.volunteer.code)
        figures["mixed"] = mixed(port, db.folder, db.token, seeder.samples, desk,
                                 seeder.biggest_authorities(10))
        figures["registrations"] = registrations(port, db.token)
    _said(db, "under load", started)
    _settled()
    db.rekey()
    with serving(db.env, peaks) as port:
        figures["rotation"] = scale_load.rotation(
            port, db.env, db.token, db.not_rotated, ROTATION_SECONDS, db.rotation_rest)
        figures["rotation"]["files_sample"], db.files_sample = db.files_sample, {}
        db.last_rotation = figures["rotation"]
    _said(db, "key rotation", started)
    seeder.rekey(db.runtime)
    figures["rss_mb"] = {"web": peaks.web / 1e6, "worker": peaks.worker / 1e6}
    figures["registrations_after"] = db.count()
    return figures


def engine(label: str, url: str | None, scratch: Path, page: files.Document,
           results: dict[str, Any]) -> None:
    started = time.monotonic()
    db = Database(label, url, scratch)
    seeder = scale_seed.Seeder(db.runtime, page)
    runs = results["engines"].setdefault(label, {})
    try:
        for size in SIZES:
            seeded = seeder.count
            seconds = seeder.grow(size)
            print(f"{label}: {seeder.count:,} seeded in {seconds:.0f} s", flush=True)
            db.analyze()
            measured = time.monotonic()
            figures = measure(db, seeder)
            figures["seed"] = {"households": seeder.count - seeded, "seconds": seconds}
            figures["measure_seconds"] = time.monotonic() - measured
            runs[str(size)] = figures
            print(json.dumps({label: {size: figures}}), flush=True)
            _save(results)
    finally:
        seeder.close()
        db.close()
        if url:
            reset_postgresql(url)
        shutil.rmtree(db.folder, ignore_errors=True)
    results["engine_seconds"][label] = time.monotonic() - started


def server_settings(url: str) -> dict[str, str]:
    """The PostgreSQL server's settings the figures depend on, as the report names them."""
    engine = create_engine(url)
    with engine.connect() as connection:
        found = {name: str(connection.execute(text(f"SHOW {name}")).scalar())
                 for name in ("server_version", "shared_buffers", "autovacuum",
                              "max_wal_size", "synchronous_commit")}
    engine.dispose()
    return found


def _save(results: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")


def main() -> None:
    if sys.argv[1:] == ["report"]:
        scale_report.write(json.loads(RESULTS.read_text()))
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)")
    started = time.monotonic()
    results: dict[str, Any] = {
        "started": dt.datetime.now(dt.UTC).isoformat(), "sizes": SIZES, "max": MAX,
        "speed": [machine_speed()], "load": [os.getloadavg()[0]], "engines": {}, "engine_seconds": {}, "cores": os.cpu_count(),
        "document_share": scale_seed.DOCUMENT_SHARE, "chunk": scale_seed.CHUNK}
    page = files.accept(phone_photo(29), "page.jpg")
    results["page_bytes"] = page.size
    engines = [("SQLite", None)]
    if os.environ.get("INTAKE_BENCH_DATABASE_URL"):
        engines.append(("PostgreSQL", os.environ["INTAKE_BENCH_DATABASE_URL"]))
        results["postgresql"] = server_settings(os.environ["INTAKE_BENCH_DATABASE_URL"])
    scratch = Path(tempfile.mkdtemp(prefix="scale-", dir=os.environ.get("INTAKE_SCALE_DIR")))
    try:
        for label, url in engines:
            engine(label, url, scratch, page, results)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    results["speed"].append(machine_speed())
    results["load"].append(os.getloadavg()[0])
    results["seconds"] = time.monotonic() - started
    _save(results)
    scale_report.write(results)


if __name__ == "__main__":
    main()
