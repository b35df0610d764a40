"""`make bench`'s documents part (issue #27): what photos of documents cost the service.

  - uploads: households with two ~3 MB phone photos a person, sent through the API at a fixed
    rate (open loop: a request's latency counts from the moment it was due, so a server that
    falls behind shows it), with the web processes' peak memory;
  - the pipeline with two stored pages a person and a proof a household: messages/s and MB/s
    of batch files, whatever the messages carry;
  - the summary PDF: milliseconds per household, in German alone and in two languages.

Run by bench/run.py (`make bench`), or alone: `python bench/run.py documents`
(`make bench-documents`). `python bench/documents.py summary` prints the PDF timings as JSON
(a process of its own: its first call pays for fonts and shaping as a fresh worker does).
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import queue
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from run import PYTHON, REPO, drain, free_port, intake, intake_env, machine_speed, wait_for

# Households a second: issue #27's rate, and one this 2-core machine keeps up with.
RATES = [float(rate) for rate in
         os.environ.get("INTAKE_BENCH_UPLOAD_RATES", "20,1").split(",") if rate]
SECONDS = int(os.environ.get("INTAKE_BENCH_SECONDS", "25"))  # of uploads at each rate
SENDERS = int(os.environ.get("INTAKE_BENCH_UPLOAD_CONNECTIONS", "64"))  # the client's sockets
PIPELINE_HOUSEHOLDS = int(os.environ.get("INTAKE_BENCH_DOCUMENT_HOUSEHOLDS", "500"))
PDF_RUNS = int(os.environ.get("INTAKE_BENCH_PDF_RUNS", "50"))
# Household sizes (persons: share). The repository has no measured mix; this one leans to
# the mothers with one or two children the pilot authorities see most.
SIZES = {1: 0.35, 2: 0.25, 3: 0.25, 4: 0.15}
MB = 1_000_000

UKRAINIANS = [("applicant", "Shevchenko", "Olena", "Шевченко", "Олена", "female", "1990-05-01"),
              ("spouse", "Shevchenko", "Taras", "Шевченко", "Тарас", "male", "1988-02"),
              ("child", "Shevchenko", "Andrii", "Шевченко", "Андрій", "male", "2015"),
              ("child", "Shevchenko", "Sofiia", "Шевченко", "Софія", "female", "2018-07-12")]
SYRIANS = [("applicant", "Al-Hassan", "Mohammed Ali", "الحسن", "محمد علي", "male", "1985-03-02"),
           ("spouse", "Al-Hassan", "Fatima", "الحسن", "فاطمة", "female", "1989"),
           ("child", "Al-Hassan", "Omar", "الحسن", "عمر", "male", "2012-10"),
           ("child", "Al-Hassan", "Lina", "الحسن", "لينا", "female", "2016")]


def household_json(persons: int, syrian: bool = False) -> dict[str, Any]:
    """A household of 1-4 persons as a partner sends it, with native names and eligibility."""
    people = SYRIANS if syrian else UKRAINIANS
    country = "SY" if syrian else "UA"
    return {
        "language": "ar" if syrian else "uk", "consent": {"data_processing": True},
        "postal_code": "14467", "entry_date": "2026-11-20",
        "address": {"street": "Friedrich-Ebert-Str.", "house_number": "79",
                    "postal_code": "14467", "city": "Potsdam"},
        "contact": {"email": "family@example.org", "phone": "+4915112345678"},
        "persons": [{
            "role": role, "family_name": family, "given_names": given,
            "family_name_native": family_native, "given_names_native": given_native,
            "sex": sex, "date_of_birth": born, "place_of_birth": "Aleppo" if syrian else "Kyiv",
            "country_of_birth": country, "nationalities": [country],
            "eligibility": {"lived_in_ukraine": True, "status_in_ukraine":
                            "international_protection" if syrian else None},
            **({"document": {"type": "passport", "number": f"FE12345{n}",
                             "issuing_country": country}} if role != "child" else {}),
        } for n, (role, family, given, family_native, given_native, sex, born)
            in enumerate(people[:persons])],
    }


def phone_photo(seed: int, sigma: float = 11, quality: int = 85) -> bytes:
    """A 12-megapixel JPEG (4032 x 3024, a phone's default) of paper-like content: a lit
    gradient, lines of "print" and sensor noise. The noise keeps it near 3 MB, as a phone's
    photo is; a flat test image would compress to almost nothing and cost nothing to decode."""
    from PIL import Image, ImageChops, ImageDraw

    rnd = random.Random(seed)
    width, height = 4032, 3024
    light = Image.linear_gradient("L").resize((width, height)).rotate(rnd.choice([0, 90, 180]))
    page = Image.merge("RGB", [light.point(lambda v, k=k: int(90 + v * 0.5 * k))
                               for k in (0.6, 0.8, 1.0)])
    draw = ImageDraw.Draw(page)
    for _ in range(300):
        x, y = rnd.randrange(width), rnd.randrange(height)
        draw.rectangle((x, y, x + rnd.randrange(40, 400), y + rnd.randrange(10, 40)),
                       fill=(rnd.randrange(60), rnd.randrange(60), rnd.randrange(90)))
    noise = Image.merge("RGB", [Image.effect_noise((width, height), sigma) for _ in range(3)])
    out = io.BytesIO()
    ImageChops.add(page, noise, offset=-128).save(out, "JPEG", quality=quality)
    return out.getvalue()


# --- uploads -------------------------------------------------------------------------------

def multipart(persons: int, photos: list[bytes], first: int) -> tuple[bytes, str]:
    """The body of a registration with two pages a person, distinct photos within it."""
    boundary = f"bench{random.getrandbits(64):016x}"
    parts = [(b'name="registration"', b"application/json",
              json.dumps(household_json(persons)).encode())]
    for person in range(persons):
        for page in range(2):
            photo = photos[(first + 2 * person + page) % len(photos)]
            parts.append((f'name="persons.{person}.document_pages"; '
                          f'filename="page{page + 1}.jpg"'.encode(), b"image/jpeg", photo))
    body = b"".join(b"--%s\r\nContent-Disposition: form-data; %s\r\nContent-Type: %s\r\n\r\n%s\r\n"
                    % (boundary.encode(), disposition, kind, data)
                    for disposition, kind, data in parts)
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def tree_rss(root: int) -> int:
    """Bytes resident in `root`'s web role (`intake.cli web`: granian and its workers)."""
    children: dict[int, list[int]] = {}
    web: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
            if b"intake.cli\0web" in Path(f"/proc/{entry}/cmdline").read_bytes():
                web.append(int(entry))
    inside, stack = set(), [root]
    while stack:
        pid = stack.pop()
        inside.add(pid)
        stack.extend(children.get(pid, []))
    total, stack = 0, [pid for pid in web if pid in inside]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        with contextlib.suppress(OSError, StopIteration):
            line = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                        if line.startswith("VmRSS:"))
            total += int(line.split()[1]) * 1024
    return total


def uploads(rate: float) -> dict[str, Any]:
    """Households at `rate` a second for SECONDS, each request due at its own moment."""
    photos = [phone_photo(seed) for seed in range(6)]
    rnd = random.Random(27)
    sizes = rnd.choices(list(SIZES), weights=list(SIZES.values()), k=int(rate * SECONDS))
    bodies = {(size, first): multipart(size, photos, first) for size in SIZES
              for first in range(len(photos))}
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        folder = Path(scratch)
        port = free_port()
        env = intake_env(folder, f"sqlite:///{folder / 'instance' / 'intake.db'}", port)
        intake(env, "db", "upgrade")
        intake(env, "demo-seed")
        token = intake(env, "token", "create", "bench", "--scope", "submit")
        serve = subprocess.Popen([PYTHON, "-m", "intake.cli", "serve"], env=env, cwd=REPO,
                                 start_new_session=True, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            wait_for(port)
            time.sleep(1)  # granian's workers load the app after the port opens
            return {**_load(rate, sizes, bodies, port, token, serve.pid),
                    "photo_mb": statistics.mean(map(len, photos)) / MB}
        finally:
            os.killpg(serve.pid, signal.SIGTERM)
            serve.wait(30)


def _load(rate: float, sizes: list[int], bodies: dict[tuple[int, int], tuple[bytes, str]],
          port: int, token: str, root: int) -> dict[str, Any]:
    due: queue.Queue[tuple[float, int, int] | None] = queue.Queue()
    done: list[tuple[float, int, int, int]] = []  # latency, status, photos, bytes
    stop_sampling = threading.Event()
    peak = [0, tree_rss(root)]  # peak, idle

    def sample() -> None:
        while not stop_sampling.wait(0.1):
            peak[0] = max(peak[0], tree_rss(root))

    threads = [threading.Thread(target=_send, args=(due, done, bodies, port, token))
               for _ in range(SENDERS)]
    threads.append(threading.Thread(target=sample))
    for thread in threads:
        thread.start()
    started = time.monotonic()
    for n, size in enumerate(sizes):
        moment = started + n / rate
        time.sleep(max(0.0, moment - time.monotonic()))
        due.put((moment, size, n % 6))
    sent_until = time.monotonic()
    # Requests the senders have not begun when the schedule ends were due and not served:
    # they count as not kept up with, and are not sent (draining could take minutes).
    behind = 0
    with contextlib.suppress(queue.Empty):
        while True:
            due.get_nowait()
            behind += 1
    for _ in range(SENDERS):
        due.put(None)
    for thread in threads[:-1]:
        thread.join()
    elapsed = time.monotonic() - started
    stop_sampling.set()
    threads[-1].join()
    latencies = sorted(latency for latency, *_ in done)
    ok = [row for row in done if row[1] == 201]
    return {
        "rate": rate, "scheduled": len(sizes), "completed": len(ok), "behind": behind,
        "errors": len(done) - len(ok), "statuses": dict(Counter(row[1] for row in done)),
        "seconds": elapsed, "schedule_seconds": sent_until - started,
        "households_per_second": len(ok) / elapsed,
        "photos_per_second": sum(row[2] for row in ok) / elapsed,
        "mb_per_second": sum(row[3] for row in ok) / elapsed / MB,
        "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99), "peak_rss_mb": peak[0] / MB,
        "idle_rss_mb": peak[1] / MB,
    }


def _send(due: queue.Queue[tuple[float, int, int] | None],
          done: list[tuple[float, int, int, int]],
          bodies: dict[tuple[int, int], tuple[bytes, str]], port: int, token: str) -> None:
    """One connection's requests, each as soon as it is due and the connection is free."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    while (item := due.get()) is not None:
        moment, size, first = item
        body, kind = bodies[(size, first)]
        try:
            connection.request("POST", "/api/v1/registrations", body, {
                "Authorization": f"Bearer {token}", "Content-Type": kind})
            answer = connection.getresponse()
            answer.read()
            status = answer.status
        except (OSError, http.client.HTTPException):
            connection.close()
            status = 0
        done.append((time.monotonic() - moment, status, 2 * size, len(body)))


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return 1000 * values[min(len(values) - 1, int(len(values) * p / 100))]


# --- the pipeline with documents -------------------------------------------------------------

def pipeline(households: int) -> dict[str, Any]:
    """Messages and MB per second from outbox to batch file, for households of 1-2 persons
    with two stored pages a person (phone photos as files.accept keeps them) and a proof."""
    from sqlalchemy import func, select

    from intake.authorities.demo import seed
    from intake.dataset.schemas import HouseholdSchema
    from intake.documents import files
    from intake.documents import store as documents
    from intake.registrations import routing
    from intake.runtime import Runtime
    from intake.store import household_rows, models

    kept = [files.accept(phone_photo(seed_, sigma=8), f"page{seed_}.jpg") for seed_ in range(3)]
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        folder = Path(scratch)
        env = intake_env(folder, f"sqlite:///{folder / 'instance' / 'intake.db'}", free_port())
        intake(env, "db", "upgrade")
        from intake.config import Settings

        runtime = Runtime(Settings.from_env(env))
        shapes = [HouseholdSchema().load(household_json(size)) for size in (1, 2)]
        persons = 0
        with runtime.db.transaction() as session:
            seed(session)
            # Straight into the store, in one transaction: a seed, not a load to measure.
            authority = routing.route(session, shapes[0].postal_code)
            submissions = [household_rows.prepare(runtime.cipher, shapes[n % 2], authority)
                           for n in range(households)]
            household_rows.write(session, submissions)
            for submission in submissions:
                owner = submission.registration["id"]
                for person in range(len(submission.persons)):
                    for page in kept[:2]:
                        documents.save(session, runtime.cipher, runtime.blobs, page,
                                       kind=documents.DOCUMENT_PAGE, registration_id=owner,
                                       person=person)
                documents.save(session, runtime.cipher, runtime.blobs, kept[2],
                               kind=documents.PROOF, registration_id=owner,
                               description="Ankunftsnachweis")
                persons += len(submission.persons)
        with runtime.db.read() as session:
            stored = documents.totals(session)
        xml_out = runtime.settings.xml_out
        done, elapsed = drain(runtime, env, persons)
        runtime = Runtime(Settings.from_env(env))
        with runtime.db.read() as session:
            message_bytes = session.scalar(
                select(func.sum(func.length(models.MessagePayload.payload)))) or 0
        runtime.close()
        batch_bytes = sum(path.stat().st_size for path in Path(xml_out).rglob("*")
                          if path.is_file())
    return {"households": households, "messages": done, "expected": persons,
            "seconds": elapsed, "per_second": done / elapsed,
            "batch_mb_per_second": batch_bytes / elapsed / MB, "batch_mb": batch_bytes / MB,
            "message_mb": message_bytes / MB, "documents": stored["count"],
            "document_mb": stored["bytes"] / MB, "page_kb": kept[0].size / 1000}


# --- the summary PDF ------------------------------------------------------------------------

def summary_timings() -> dict[str, Any]:
    """Milliseconds per summary (first call, median, p95 over PDF_RUNS) and its size."""
    import datetime as dt

    from intake import create_app
    from intake.config import Settings
    from intake.dataset import domain
    from intake.dataset.schemas import HouseholdSchema

    # An app only for its catalogs, as the tests' (no secret of it is ever used).
    app = create_app(Settings(env="test", secret_key="x", data_keys=(("k", b"k" * 32),),  # noqa: S106
                              index_key=b"i" * 32))
    authority = domain.Authority(
        key="potsdam", name="Landeshauptstadt Potsdam, Ausländerbehörde",
        address=domain.Address("Friedrich-Ebert-Str.", "79", "14469", "Potsdam"))
    registered = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.UTC)
    cases = [(f"{persons} {'person' if persons == 1 else 'persons'}, "
              f"{'Arabic' if syrian else 'Cyrillic'} names, {'German' if german else 'ar' if syrian else 'uk'}"
              f"{'' if german else ' + German'}", persons, syrian, german)
             for persons in (1, 4) for syrian in (False, True) for german in (True, False)]
    results = []
    with app.app_context():
        from intake.documents.summary import summary_pdf

        for label, persons, syrian, german in cases:
            household = HouseholdSchema().load(household_json(persons, syrian))
            language = "de" if german else household.language

            def make(household: Any = household, language: str = language,
                     german: bool = german) -> bytes:
                return summary_pdf(
                    household, reference="K7M4Q-9XPD2", language=language,
                    registered=registered, authority=authority,
                    appointment=registered + dt.timedelta(days=10),
                    documents=["Reisepass, Seite mit Lichtbild", "Ankunftsnachweis"],
                    status_link=None if german else "https://intake.example.org/s/Qm9yc2h0c2No",
                    qr=not german)

            started = time.perf_counter()
            pdf = make()
            first = time.perf_counter() - started
            for _ in range(3):
                make()
            runs = []
            for _ in range(PDF_RUNS):
                started = time.perf_counter()
                make()
                runs.append(time.perf_counter() - started)
            runs.sort()
            results.append({"label": label, "first_ms": 1000 * first,
                            "median_ms": 1000 * statistics.median(runs),
                            "p95_ms": percentile(runs, 95), "kb": len(pdf) / 1000})
    return {"runs": PDF_RUNS, "cases": results}


def summary() -> dict[str, Any]:
    """summary_timings in a process of its own (its first call is a fresh worker's)."""
    out = subprocess.run([PYTHON, str(Path(__file__)), "summary"], cwd=REPO, check=True,
                         capture_output=True, text=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


# --- all of it, as a section of the report -------------------------------------------------

def measure() -> dict[str, Any]:
    import datetime as dt

    started, speed = dt.datetime.now(dt.UTC), machine_speed()
    return {"uploads": [uploads(rate) for rate in RATES],
            "pipeline": pipeline(PIPELINE_HOUSEHOLDS), "summary": summary(),
            "started": f"{started:%Y-%m-%d %H:%M}", "speed": (speed, machine_speed())}


def section(figures: dict[str, Any]) -> list[str]:
    """The report's documents section (markdown lines)."""
    up = figures["uploads"]
    lines = [
        DOCUMENTS_MARKER, "",
        f"Documents (issue #27), run {figures['started']} UTC on {os.cpu_count()} cores; the "
        f"fixed Python loop took {figures['speed'][0]:.2f} s before and "
        f"{figures['speed'][1]:.2f} s after. Uploads: `POST /api/v1/registrations` "
        f"as multipart/form-data from {SENDERS} connections in the bench's own process (it "
        "shares the cores), open loop at a fixed rate for "
        f"{SECONDS} s; households of 1-4 persons "
        f"({', '.join(f'{share:.0%} of {size}' for size, share in SIZES.items())}), two "
        f"12-megapixel JPEGs of {up[0]['photo_mb']:.1f} MB a person. Latency counts from the "
        "moment a request was due; a request not begun when the schedule ends is *behind* "
        "(not sent). Peak RSS: granian's processes together (sampled every 100 ms; pages "
        "shared after the fork count in each).", "",
        "| uploads, households/s asked | households/s served | photos/s | MB/s received | "
        "p50 ms | p95 ms | p99 ms | errors | behind | web RSS idle -> peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in up:
        lines.append(
            f"| {row['rate']:g} ({row['scheduled']} in {row['schedule_seconds']:.0f} s) | "
            f"{row['households_per_second']:.1f} | {row['photos_per_second']:.1f} | "
            f"{row['mb_per_second']:.1f} | {row['p50_ms']:,.0f} | {row['p95_ms']:,.0f} | "
            f"{row['p99_ms']:,.0f} | {row['errors']} | {row['behind']} | "
            f"{row['idle_rss_mb']:,.0f} -> {row['peak_rss_mb']:,.0f} |")
    pipe = figures["pipeline"]
    lines += [
        "", f"Pipeline with documents: {pipe['households']} households of 1 and 2 persons, "
        f"two pages a person ({pipe['page_kb']:.0f} KB each as kept) and a proof: "
        f"{pipe['documents']:,} documents, {pipe['document_mb']:,.0f} MB stored; "
        f"{pipe['messages']:,} of {pipe['expected']:,} messages in batches in "
        f"{pipe['seconds']:.1f} s.", "",
        "| pipeline with documents | messages/s | MB/s of batch files | batch files MB | "
        "message payloads MB (sealed) |", "|---|---|---|---|---|",
        f"| outbox to batch file | {pipe['per_second']:,.0f} | "
        f"{pipe['batch_mb_per_second']:.2f} | {pipe['batch_mb']:.1f} | {pipe['message_mb']:.1f} |",
        "", "The pipeline's figure includes the scheduler's batch interval (1 s here): with "
        "messages that carry no documents it is bounded by it, not by the work.", "",
        f"Summary PDF, {figures['summary']['runs']} runs a case after 3 unmeasured, in a process "
        "of its own; the first row's first call is the process's first (fonts and shaping "
        "loaded), the others' the first of their case:", "",
        "| summary PDF | first call ms | median ms | p95 ms | KB |", "|---|---|---|---|---|",
    ]
    for row in figures["summary"]["cases"]:
        lines.append(f"| {row['label']} | {row['first_ms']:,.0f} | {row['median_ms']:.1f} | "
                     f"{row['p95_ms']:.1f} | {row['kb']:.0f} |")
    return [*lines, ""]


# bench/README.md: the documents section within the results, which a documents-only run
# replaces by itself.
DOCUMENTS_MARKER = "<!-- Documents: written by bench/run.py (or its `documents` run alone). -->"


def write_alone(readme: Path, results_marker: str, lines: list[str]) -> None:
    """Put the section into bench/README.md, keeping the rest of the latest results."""
    text = readme.read_text()
    if DOCUMENTS_MARKER in text:
        text = text.split(DOCUMENTS_MARKER, 1)[0].rstrip("\n") + "\n\n"
    elif results_marker not in text:
        text = f"{text.rstrip()}\n\n{results_marker}\n\n"
    else:
        text = text.rstrip("\n") + "\n\n"
    readme.write_text(text + "\n".join(lines))


if __name__ == "__main__" and sys.argv[1:] == ["summary"]:
    print(json.dumps(summary_timings()))
