"""`make bench`: the whole path under load on this machine, with baselines; writes its table
into bench/README.md (below the results marker).

Starts the production web server (granian) with a worker and the scheduler, drives it with
wrk over loopback from a separate process, and measures:
  - registrations: accepted/s and latency percentiles, on SQLite and on PostgreSQL (when
    INTAKE_BENCH_DATABASE_URL names a server database the bench may empty);
  - mixed traffic: form pages in three languages, status pages, QR images, submissions;
    the status pages of 2,000 people (each new to a web process draws its QR code), and,
    for comparison with earlier rounds, of 40 people seen again and again;
  - pipeline: messages/s from outbox to batch file, and the naive baseline (one forking job
    per registration);
  - ceilings: a Flask app that only answers, and a loop that only builds and validates messages;
  - documents (bench/documents.py): photo uploads, the pipeline with documents, the summary PDF.
`python bench/run.py documents` runs the last part alone; `python bench/run.py mixed` runs the
two mixed-traffic rows and prints them (for interleaved A/B rounds), writing nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from intake.config import Settings

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
SECONDS = int(os.environ.get("INTAKE_BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("INTAKE_BENCH_CONNECTIONS", "32"))
WARM_UP = int(os.environ.get("INTAKE_BENCH_WARM_UP", "2"))  # seconds of load before measuring
TARGETS = {"registrations": 500, "p99_ms": 250, "mixed": 1000, "pipeline": 2000}
WEB_WORKERS = os.environ.get("INTAKE_WEB_WORKERS", str(Settings.web_workers))
WEB_THREADS = os.environ.get("INTAKE_WEB_THREADS", str(Settings.web_threads))
# rq workers in the pipeline runs: as many as compose.yaml runs (one per core here).
PIPELINE_WORKERS = int(os.environ.get("INTAKE_BENCH_WORKERS", "2"))
# Distinct registrations whose status pages and QR images the mixed traffic asks for.
STATUS_PAGES = int(os.environ.get("INTAKE_BENCH_STATUS_PAGES", "2000"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def wrk(port: int, env: dict[str, str]) -> dict[str, float]:
    """The load for SECONDS, measured after the same load for WARM_UP seconds, unmeasured."""
    def run(seconds: int) -> str:
        return subprocess.run(
            ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s",
             "-s", str(REPO / "bench" / "load.lua"), f"http://127.0.0.1:{port}"],
            env={**os.environ, **env}, capture_output=True, text=True, check=True,
        ).stdout

    # A fresh server's first requests open database connections and compile templates and
    # statements: seen in p99 (PostgreSQL: 280-320 ms cold, 110 ms warm), not in a running
    # service's day, so they are not measured.
    run(WARM_UP)
    out = run(SECONDS)
    result = json.loads(out.strip().splitlines()[-1])
    result["per_second"] = result["requests"] / result["seconds"]
    return result


@contextlib.contextmanager
def processes(commands: list[list[str]], env: dict[str, str]) -> Iterator[None]:
    started = [subprocess.Popen(command, env=env, cwd=REPO, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for command in commands]
    try:
        yield
    finally:
        for process in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            process.wait(30)


def intake_env(folder: Path, database_url: str, port: int, **extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")},
        "INTAKE_ENV": "development",
        "INTAKE_INSTANCE_DIR": str(folder / "instance"),
        "INTAKE_XML_OUT": str(folder / "xml_out"),
        "INTAKE_DATABASE_URL": database_url,
        "INTAKE_BIND": f"127.0.0.1:{port}",
        "INTAKE_WEB_WORKERS": WEB_WORKERS,
        "INTAKE_WEB_THREADS": WEB_THREADS,
        "INTAKE_BATCH_INTERVAL": "1",
        **({"INTAKE_REDIS_URL": os.environ["INTAKE_BENCH_REDIS_URL"]}
           if os.environ.get("INTAKE_BENCH_REDIS_URL") else {}),
        **extra,
    }


def intake(env: dict[str, str], *args: str) -> str:
    return subprocess.run([PYTHON, "-m", "intake.cli", *args], env=env, cwd=REPO, check=True,
                          capture_output=True, text=True).stdout.strip()


def reset_postgresql(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def registrations(label: str, database_url: str | None) -> dict[str, float]:
    """Submissions through the API while a worker and the scheduler run."""
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        folder = Path(scratch)
        url = database_url or f"sqlite:///{folder / 'instance' / 'intake.db'}"
        if database_url:
            reset_postgresql(database_url)
        port = free_port()
        env = intake_env(folder, url, port)
        intake(env, "db", "upgrade")
        intake(env, "demo-seed")
        token = intake(env, "token", "create", "bench", "--scope", "submit")
        serve = [[PYTHON, "-m", "intake.cli", "serve"]]
        with processes(serve, env):
            wait_for(port)
            result = wrk(port, {"TOKEN": token})
        result["label"] = label
        return result


def mixed(database_url: str | None, status_pages: int) -> dict[str, float]:
    """Form pages in three languages, status pages and QR images of `status_pages` people,
    and submissions."""
    import urllib.request

    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        folder = Path(scratch)
        url = database_url or f"sqlite:///{folder / 'instance' / 'intake.db'}"
        port = free_port()
        env = intake_env(folder, url, port)
        intake(env, "db", "upgrade")
        intake(env, "demo-seed")
        token = intake(env, "token", "create", "bench", "--scope", "submit")
        with processes([[PYTHON, "-m", "intake.cli", "serve"]], env):
            wait_for(port)
            body = json.dumps({
                "consent": {"data_processing": True}, "postal_code": "14467",
                "persons": [{"role": "applicant", "family_name": "Bench", "given_names": "Olena",
                             "sex": "female", "date_of_birth": "1990", "place_of_birth": None,
                             "nationalities": ["UA"]}]}).encode()

            def register(_n: int) -> str:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/v1/registrations", data=body,
                    headers={"Authorization": f"Bearer {token}",
                             "Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                    return str(json.load(answer)["status_url"].split(str(port), 1)[1])

            # As many people as look at their status pages during a run: far more than the
            # codes a web process keeps drawn, so most pages draw their QR code anew.
            with ThreadPoolExecutor(16) as pool:
                paths = list(pool.map(register, range(status_pages)))
            status_file = folder / "status-paths"
            status_file.write_text("\n".join(paths) + "\n")
            result = wrk(port, {"TOKEN": token, "MIX": "1", "STATUS_FILE": str(status_file)})
        result["label"] = f"mixed traffic, status pages of {status_pages:,} people"
        return result


def pipeline(chunk: int, count: int) -> dict[str, float]:
    """Messages per second from outbox to batch file, with real forking workers.

    The clock starts when the relay queues the first outbox row, with the workers listening
    already: a running service does not start its processes for a burst, and their start-up
    (imports, the schema set) is not pipeline work.
    """
    sys.path.insert(0, str(REPO))
    from intake.authorities.demo import seed
    from intake.dataset.schemas import HouseholdSchema
    from intake.registrations import routing
    from intake.runtime import Runtime
    from intake.store import household_rows

    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        folder = Path(scratch)
        env = intake_env(folder, f"sqlite:///{folder / 'instance' / 'intake.db'}", free_port(),
                         INTAKE_RELAY_CHUNK=str(chunk))
        intake(env, "db", "upgrade")
        runtime = Runtime(Settings.from_env(env))
        household = HouseholdSchema().load({
            "consent": {"data_processing": True}, "postal_code": "14467",
            "persons": [{"role": "applicant", "family_name": "Bench", "given_names": "Olena",
                         "sex": "female", "date_of_birth": "1990-05-01", "place_of_birth": "Kyiv",
                         "nationalities": ["UA"]}]})
        with runtime.db.transaction() as session:
            seed(session)
            # Straight into the store, in one transaction: a seed, not a load to measure.
            authority = routing.route(session, household.postal_code)
            household_rows.write(session, [
                household_rows.prepare(runtime.cipher, household, authority)
                for _ in range(count)
            ])
        done, elapsed = drain(runtime, env, count)
    return {"messages": done, "seconds": elapsed, "per_second": done / elapsed,
            "chunk": chunk}


def drain(runtime, env: dict[str, str], count: int) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    """Run the workers and the scheduler until `count` messages are in batches (or 300 s
    passed); the messages batched and the seconds since the first outbox row was queued.
    Stops the embedded Redis afterwards, and closes `runtime`."""
    from rq import Worker

    from intake.delivery.redis_connection import EmbeddedRedis
    from intake.store import models

    workers = [[PYTHON, "-m", "intake.cli", "worker"]] * PIPELINE_WORKERS
    with processes(workers, env):
        deadline = time.monotonic() + 60
        while Worker.count(connection=runtime.redis) < PIPELINE_WORKERS:
            if time.monotonic() > deadline:
                raise RuntimeError("the workers did not start")
            time.sleep(0.05)
        with processes([[PYTHON, "-m", "intake.cli", "scheduler"]], env):
            deadline = time.monotonic() + 300
            while True:
                with runtime.db.read() as session:  # the small batch table, not messages
                    done = session.scalar(select(func.sum(models.Batch.count))) or 0
                if done == count or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            finished = time.time()
        with runtime.db.read() as session:
            first = session.scalar(select(func.min(models.Outbox.enqueued_at)))
        assert first is not None
        elapsed = finished - first.replace(tzinfo=first.tzinfo or dt.UTC).timestamp()
    runtime.close()
    if not runtime.settings.redis_url:  # connecting started it; nothing else stops it
        EmbeddedRedis(runtime.settings.instance_dir).stop()
    return int(done), elapsed


def ceiling() -> dict[str, float]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # Served as intake serves (intake/server.py): the same server, workers and threads.
    command = [PYTHON, "-m", "granian", "--interface", "wsgi",
               "--workers", WEB_WORKERS, "--blocking-threads", WEB_THREADS,
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "error",
               "bench.ceiling:app"]
    with processes([command], env):
        wait_for(port)
        result = wrk(port, {"TOKEN": "x"})
    result["label"] = "answer only"
    return result


def build_loop() -> str:
    return subprocess.run([PYTHON, str(REPO / "bench" / "xaus_build.py"),
                           os.environ.get("INTAKE_XSD_DIR", str(REPO.parent / "shared" / "xoev")),
                           "5"], capture_output=True, text=True, check=True).stdout.strip()


def main() -> None:
    import documents  # bench/documents.py, beside this file

    if sys.argv[1:] == ["documents"]:  # that part alone (`make bench-documents`)
        lines = documents.section(documents.measure())
        documents.write_alone(REPO / "bench" / "README.md", RESULTS_MARKER, lines)
        print("\n".join(lines))
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)")
    if sys.argv[1:] == ["mixed"]:  # the mixed traffic alone, printed, for A/B rounds
        for people in (STATUS_PAGES, 40):
            print(json.dumps(mixed(None, people)), flush=True)
        return
    started = time.monotonic()
    speed = [machine_speed()]
    rows = [registrations("registrations, SQLite", None)]
    if os.environ.get("INTAKE_BENCH_DATABASE_URL"):
        rows.append(registrations("registrations, PostgreSQL",
                                  os.environ["INTAKE_BENCH_DATABASE_URL"]))
    mix = mixed(None, STATUS_PAGES)
    # With 40 people, as earlier rounds measured it: every web process soon keeps each QR code
    # drawn. For comparison only: the target is the first mix's.
    mix_cached = mixed(None, 40)
    mix_cached["label"] += " (QR codes kept drawn; for comparison)"
    top = ceiling()
    fast = pipeline(chunk=Settings.relay_chunk, count=10_000)
    naive = pipeline(chunk=1, count=300)
    loop = build_loop()
    attached = documents.section(documents.measure())
    speed.append(machine_speed())
    report(rows, mix, mix_cached, top, fast, naive, loop, time.monotonic() - started, speed)
    readme = REPO / "bench" / "README.md"
    documents.write_alone(readme, RESULTS_MARKER, attached)
    print("\n".join(attached))


def machine_speed() -> float:
    """CPU seconds of a fixed pure-Python loop: how fast this (virtual) machine is right now.

    A shared VM's speed drifts by up to a factor of two within an hour; the figures of two
    runs compare only together with this one.
    """
    started = time.process_time()
    sum(range(30_000_000))
    return time.process_time() - started


def verdict(ok: bool) -> str:
    return "meets" if ok else "misses"


def report(rows, mix, mix_cached, top, fast, naive, loop, total, speed) -> None:  # type: ignore[no-untyped-def]
    lines = [
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC in {total:.0f} s on {platform.node()}: "
        f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python "
        f"{platform.python_version()}; wrk with {CONNECTIONS} connections on the same machine, "
        f"{SECONDS} s per run after {WARM_UP} s of warm-up; granian {WEB_WORKERS} workers x "
        f"{WEB_THREADS} threads, one rq "
        f"worker and the scheduler beside it (`intake serve`); pipeline runs with "
        f"{PIPELINE_WORKERS} rq workers, as compose.yaml runs them. Machine speed: a fixed "
        f"Python loop took {speed[0]:.2f} s of CPU before the run and {speed[1]:.2f} s after "
        "(lower is faster).", "",
        "| what | per second | p50 ms | p95 ms | p99 ms | errors | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ok = row["per_second"] >= TARGETS["registrations"] and row["p99_ms"] < TARGETS["p99_ms"] \
            and not row["errors"]
        lines.append(f"| {row['label']} | {row['per_second']:,.0f} | {row['p50_ms']} | "
                     f"{row['p95_ms']} | {row['p99_ms']} | {row['errors']} | >= 500/s, p99 < 250 ms: "
                     f"{verdict(ok)} |")
    lines.append(f"| {mix['label']} | {mix['per_second']:,.0f} | {mix['p50_ms']} | "
                 f"{mix['p95_ms']} | {mix['p99_ms']} | {mix['errors']} | >= 1,000/s: "
                 f"{verdict(mix['per_second'] >= TARGETS['mixed'])} |")
    lines.append(f"| {mix_cached['label']} | {mix_cached['per_second']:,.0f} | "
                 f"{mix_cached['p50_ms']} | {mix_cached['p95_ms']} | {mix_cached['p99_ms']} | "
                 f"{mix_cached['errors']} | |")
    lines.append(f"| ceiling: Flask that only answers | {top['per_second']:,.0f} | {top['p50_ms']} | "
                 f"{top['p95_ms']} | {top['p99_ms']} | {top['errors']} | |")
    ratio = rows[0]["per_second"] / top["per_second"]
    mix_ratio = mix["per_second"] / top["per_second"]
    cached_ratio = mix_cached["per_second"] / top["per_second"]
    lines += [
        "", "| pipeline | messages/s | |", "|---|---|---|",
        f"| outbox to batch file ({fast['chunk']} rows a job, {fast['messages']:,} registrations) "
        f"| {fast['per_second']:,.0f} | "
        f">= 2,000/s: {verdict(fast['per_second'] >= TARGETS['pipeline'])} |",
        f"| naive: one forking job per registration (300) | {naive['per_second']:,.0f} | |",
        f"| ratio | {fast['per_second'] / naive['per_second']:.1f}x | >= 10x: "
        f"{verdict(fast['per_second'] >= 10 * naive['per_second'])} |",
        "", f"Intake throughput is {ratio:.0%} of the answer-only ceiling for registrations "
        f"(target >= 50%: {verdict(ratio >= 0.5)}), {mix_ratio:.0%} for mixed traffic "
        f"({cached_ratio:.0%} with 40 people).", "",
        f"Build-and-validate loop: {loop}", "",
    ]
    text_out = "\n".join(lines)
    readme = REPO / "bench" / "README.md"
    head = readme.read_text().split(RESULTS_MARKER, 1)[0]
    readme.write_text(f"{head}{RESULTS_MARKER}\n\n{text_out}")
    print(text_out)


# bench/README.md keeps the latest results only, below this line; their history is git's.
RESULTS_MARKER = "<!-- The latest results: written by bench/run.py, do not edit below. -->"


if __name__ == "__main__":
    main()
