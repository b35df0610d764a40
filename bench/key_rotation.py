"""Key rotation at scale (issue #29): N registrations seeded straight into the store, a new
data key, then `intake keys rotate`'s work timed while `intake web` takes registrations.

`python bench/key_rotation.py [N ...]` (default 10000) prints a JSON line per database and
N: values/s and registrations/s of the rotation, and the registrations' latency before it
and during it (wrk, INTAKE_BENCH_CONNECTIONS connections, default 4). SQLite always,
PostgreSQL when INTAKE_BENCH_DATABASE_URL names a database the bench may empty. The
rotation is the one on PYTHONPATH: for A/B rounds, run it with PYTHONPATH=OTHER_CHECKOUT.
INTAKE_BENCH_PAGE sets rotate's `batch` (rows a page).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import run  # bench/run.py, beside this file
from sqlalchemy import event, insert

from intake.authorities.demo import seed as seed_authorities
from intake.config import Settings, new_data_key
from intake.dataset.schemas import HouseholdSchema
from intake.delivery import batches
from intake.registrations import routing
from intake.runtime import Runtime
from intake.security import rotation as rotating
from intake.store import household_rows, models

SECONDS = int(os.environ.get("INTAKE_BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("INTAKE_BENCH_CONNECTIONS", "4"))
SIZES = {1: 30, 2: 25, 3: 20, 4: 13, 5: 8, 6: 4}  # persons: households in 100 (mean 2.56)
DELIVERED = 0.3  # share of households whose messages' payloads are kept (retention)


def household(persons: int, email: bool) -> Any:
    roles = ["applicant", "spouse", *["child"] * 4][:persons]
    return HouseholdSchema().load({
        "consent": {"data_processing": True}, "postal_code": "14467", "language": "uk",
        "address": {"street": "Friedrich-Ebert-Str.", "house_number": "79",
                    "postal_code": "14467", "city": "Potsdam"},
        **({"contact": {"email": "olena@example.org"}} if email else {}),
        "persons": [{"role": role, "family_name": "Shevchenko", "given_names": f"Olena {n}",
                     "sex": "female", "date_of_birth": "2015" if role == "child" else "1990-05-01",
                     "place_of_birth": "Kyiv", "nationalities": ["UA"]}
                    for n, role in enumerate(roles)]})


def seed(runtime: Runtime, count: int, chunk: int = 1000) -> None:
    """`count` households of 1-6 persons, half with an e-mail (a mail row each), the
    messages of DELIVERED of them with a payload of about 2 KB as stored."""
    draw = random.Random(29)
    with runtime.db.transaction() as session:
        seed_authorities(session)
        authority = routing.route(session, "14467")
    shapes = {(n, mail): household(n, mail) for n in SIZES for mail in (False, True)}
    for start in range(0, count, chunk):
        sizes = draw.choices(list(SIZES), list(SIZES.values()), k=min(chunk, count - start))
        made = [household_rows.prepare(runtime.cipher, shapes[n, draw.random() < 0.5], authority)
                for n in sizes]
        messages, payloads = [], []
        for item in made:
            if draw.random() >= DELIVERED:
                continue
            for person in item.persons:
                message_id = models.new_id()
                xml = b"<nachricht>" + os.urandom(1200).hex().encode() + b"</nachricht>" * 40
                payload, in_file = batches.seal(runtime.cipher, message_id, xml)
                messages.append({
                    "id": message_id, "person_id": person["id"], "authority_key": authority.key,
                    "registration_id": item.registration["id"], "sha256": "0" * 64,
                    "message_uuid": str(models.new_uuid()), "file_name": f"{message_id}.xml",
                    "created_at": models.utcnow(), "stored_bytes": in_file})
                payloads.append({"message_id": message_id, "payload": payload})
        with runtime.db.transaction() as session:
            household_rows.write(session, made)
            if messages:
                session.execute(insert(models.Message), messages)
                session.execute(insert(models.MessagePayload), payloads)


def rotation(runtime: Runtime, registrations: int, **options: Any) -> dict[str, Any]:
    """Rotate everything to `runtime`'s newest key, timed; with the lengths of the
    rotation's transactions (a write one holds SQLite's one write slot)."""
    lengths: list[float] = []
    began: dict[int, float] = {}
    engine = runtime.db.engine
    event.listen(engine, "begin", lambda conn: began.__setitem__(id(conn), time.perf_counter()))
    for end in ("commit", "rollback"):
        event.listen(engine, end, lambda conn: lengths.append(
            time.perf_counter() - began.pop(id(conn), time.perf_counter())))
    started = time.perf_counter()
    values, files = rotating.rotate(runtime, **options)
    seconds = time.perf_counter() - started
    lengths.sort()
    return {"values": values, "files": files, "seconds": round(seconds, 1),
            "values_per_s": round(values / seconds), "registrations_per_s":
            round(registrations / seconds), "transactions": len(lengths),
            "transaction_p99_ms": round(lengths[int(len(lengths) * 0.99)] * 1000, 1),
            "transaction_max_ms": round(lengths[-1] * 1000, 1)}


def wrk(port: int, token: str, seconds: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s",
         "-s", str(run.REPO / "bench" / "load.lua"), f"http://127.0.0.1:{port}"],
        env={**os.environ, "TOKEN": token}, stdout=subprocess.PIPE, text=True)


def finished(load: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = load.communicate()
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["per_second"] = round(result["requests"] / result["seconds"])
    return result


@contextmanager
def checkpoints(runtime: Runtime) -> Iterator[None]:
    """Copy SQLite's log into the database every second, as the scheduler does."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(1.0):
            runtime.db.checkpoint()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def measure(database_url: str | None, count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-rotation-") as scratch:
        folder = Path(scratch)
        url = database_url or f"sqlite:///{folder / 'instance' / 'intake.db'}"
        if database_url:
            run.reset_postgresql(database_url)
        port, old, new = run.free_port(), new_data_key("k1"), new_data_key("k2")
        env = run.intake_env(folder, url, port, INTAKE_DATA_KEYS=old)
        run.intake(env, "db", "upgrade")
        seeding, started = Runtime(Settings.from_env(env)), time.perf_counter()
        seed(seeding, count)
        seeded = time.perf_counter() - started
        seeding.close()
        env["INTAKE_DATA_KEYS"] = f"{new},{old}"  # the new key first, service restarted
        token = run.intake(env, "token", "create", "bench", "--scope", "submit")
        runtime = Runtime(Settings.from_env(env))
        page = os.environ.get("INTAKE_BENCH_PAGE")
        options = {"batch": int(page)} if page else {}
        with run.processes([[run.PYTHON, "-m", "intake.cli", "web"]], env), checkpoints(runtime):
            run.wait_for(port)
            finished(wrk(port, token, 3))  # warm-up: connections opened, statements compiled
            quiet = finished(wrk(port, token, SECONDS))
            load = wrk(port, token, 36000)
            time.sleep(1)
            result = rotation(runtime, count, **options)
            load.send_signal(signal.SIGINT)  # wrk reports what it measured so far
            loaded = finished(load)
        runtime.close()
    return {"database": url.split(":", 1)[0], "registrations": count, **result,
            "seeded_s": round(seeded, 1), "without": quiet, "during": loaded}


def main() -> None:
    counts = [int(arg) for arg in sys.argv[1:]] or [10_000]
    only = os.environ.get("INTAKE_BENCH_ONLY")  # "sqlite" or "postgresql": that one alone
    databases = [None] if only != "postgresql" else []
    if os.environ.get("INTAKE_BENCH_DATABASE_URL") and only != "sqlite":
        databases.append(os.environ["INTAKE_BENCH_DATABASE_URL"])
    for database in databases:
        for count in counts:
            print(json.dumps(measure(database, count)), flush=True)

if __name__ == "__main__":
    main()
