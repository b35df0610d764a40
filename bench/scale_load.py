"""bench/scale.py's service under load: `intake serve` driven by wrk, peak memory sampled.

  - registrations: bench/load.lua as `make bench` runs it (run.wrk: 32 connections);
  - mixed: several wrk processes at once, each with its own connections and script, so that
    each kind has its own p99 under the combined load: status pages and slots listings of
    seeded registrations (scale_get.lua, paths from the seeding's status tokens), the desk's
    name search (a signed-in volunteer's session, names and dates of birth that exist) and
    registrations (load.lua);
  - key rotation: `intake keys rotate` in a process of its own while wrk posts registrations
    from 4 connections until it is done, or stopped after a time (wrk stops on SIGINT and
    reports).
Peak memory: the web role (granian's processes together, documents.tree_rss) and the rq
worker (its process and the work horses it forks), sampled every 200 ms.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests
from documents import tree_rss
from run import PYTHON, REPO, processes, wait_for, wrk

LUA = REPO / "bench" / "scale_get.lua"
LOAD = REPO / "bench" / "load.lua"
SECONDS = int(os.environ.get("INTAKE_BENCH_SECONDS", "10"))
WARM_UP = int(os.environ.get("INTAKE_BENCH_WARM_UP", "2"))
MB = 1_000_000
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _worker_rss() -> int:
    """Bytes resident in the rq worker (`intake.cli worker`) and the work horses it forks."""
    total = 0
    workers = set()
    parents: dict[int, int] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            parents[int(entry)] = int(Path(f"/proc/{entry}/stat").read_text()
                                      .rsplit(")", 1)[1].split()[1])
            if b"intake.cli\0worker" in Path(f"/proc/{entry}/cmdline").read_bytes():
                workers.add(int(entry))
    for pid, parent in parents.items():
        if pid in workers or parent in workers:
            with contextlib.suppress(OSError, IndexError):  # IndexError: a zombie
                status = Path(f"/proc/{pid}/status").read_text()
                total += int(status.split("VmRSS:", 1)[1].split()[0]) * 1024
    return total


class Peaks:
    """The highest resident memory of web and worker seen while the service ran."""

    def __init__(self) -> None:
        self.web = self.worker = 0

    @contextlib.contextmanager
    def sampling(self) -> Iterator[None]:
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.2):
                self.web = max(self.web, tree_rss(os.getpid()))
                self.worker = max(self.worker, _worker_rss())

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


@contextlib.contextmanager
def serving(env: dict[str, str], peaks: Peaks) -> Iterator[int]:
    """`intake serve` with every role, its port; memory sampled meanwhile."""
    port = int(env["INTAKE_BIND"].rsplit(":", 1)[1])
    with processes([[PYTHON, "-m", "intake.cli", "serve"]], env), peaks.sampling():
        for attempt in range(4):  # 30 s each: a loaded machine starts it slowly
            try:
                wait_for(port)
                break
            except RuntimeError:
                if attempt == 3:
                    raise
        time.sleep(1)  # granian's workers load the app after the port opens
        yield port


def _wrk_command(port: int, script: Path, connections: int, seconds: int) -> list[str]:
    return ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
            "-s", str(script), f"http://127.0.0.1:{port}"]


def _together(port: int, loads: dict[str, tuple[Path, int, dict[str, str]]],
              seconds: int) -> dict[str, dict[str, Any]]:
    started = {name: subprocess.Popen(_wrk_command(port, script, connections, seconds),
                                      env={**os.environ, **extra}, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
               for name, (script, connections, extra) in loads.items()}
    results = {}
    for name, process in started.items():
        out, err = process.communicate()
        if process.returncode:
            raise RuntimeError(f"wrk ({name}) failed: {err}")
        result = json.loads(out.strip().splitlines()[-1])
        result["per_second"] = result["requests"] / result["seconds"]
        results[name] = result
    return results


def registrations(port: int, token: str) -> dict[str, Any]:
    """Registrations accepted per second as `make bench` measures them."""
    return wrk(port, {"TOKEN": token})


def desk_session(port: int, email: str, password: str, code: Any) -> tuple[str, str]:
    """Sign in as a volunteer (password, then the app's code); the cookie and a CSRF token."""
    base = f"http://127.0.0.1:{port}"
    client = requests.Session()

    def csrf(path: str) -> str:
        found = _CSRF.search(client.get(base + path, timeout=30).text)
        assert found, path
        return found.group(1)

    answer = client.post(base + "/desk/login", data={
        "csrf_token": csrf("/desk/login"), "email": email, "password": password},
        allow_redirects=False, timeout=30)
    location = answer.headers["Location"]
    assert answer.status_code == 303 and "/desk/code" in location, answer.status_code
    path = urllib.parse.urlsplit(location).path
    answer = client.post(base + path, data={"csrf_token": csrf(path), "code": code()},
                         allow_redirects=False, timeout=30)
    assert answer.status_code == 303, answer.status_code
    token = csrf("/desk/")
    cookie = "; ".join(f"{c.name}={c.value}" for c in client.cookies)
    return cookie, token


def mixed(port: int, folder: Path, token: str, samples: list[dict[str, Any]],
          desk: tuple[str, str], works_for: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Status pages, slots listings, desk searches and registrations at once; the desk
    searches people of the authorities the volunteer works for."""
    statuses, slots, searches = folder / "status-paths", folder / "slot-paths", folder / "searches"
    statuses.write_text("".join(f"/s/{s['token']}\n" for s in samples))
    slots.write_text("".join(f"/s/{s['token']}/slots\n" for s in samples))
    cookie, csrf = desk
    searches.write_text("".join(urllib.parse.urlencode({
        "csrf_token": csrf, "name": s["name"], "date_of_birth": _typed(s["born"])}) + "\n"
        for s in ([s for s in samples if s["authority"] in works_for] or samples)))
    loads = {
        "status page": (LUA, 8, {"LINES": str(statuses)}),
        "slots listing": (LUA, 8, {"LINES": str(slots)}),
        "desk search": (LUA, 4, {"LINES": str(searches), "FORM": "/desk/search",
                                 "COOKIE": cookie}),
        "registrations (mixed)": (LOAD, 8, {"TOKEN": token}),
    }
    _together(port, loads, WARM_UP)
    return _together(port, loads, SECONDS)


def _typed(born: str) -> str:
    """1990-05-01 as a volunteer types it: 01.05.1990."""
    year, month, day = born.split("-")
    return f"{day}.{month}.{year}"


VALUES, DOCUMENTS, FILES = ("re-encrypting values", "re-encrypting documents",
                           "writing batch files again")


def _phases(out: str) -> dict[str, tuple[int, int, float | None]]:
    """How far `intake keys rotate` got in each phase: done, of how many, in how many
    seconds (None: it was stopped in it), from its last progress line of each."""
    found = {}
    for label, done, total, seconds in re.findall(
            rf"({VALUES}|{DOCUMENTS}|{FILES}): (\d+)/(\d+) \(\d+%\)(?: in ([\d.]+) s)?", out):
        found[label] = (int(done), int(total), float(seconds) if seconds else None)
    return found


def phase_rates(figures: dict[str, Any]) -> dict[str, float]:
    """Items a second of each phase a rotation finished (documents, files)."""
    return {label: phase["done"] / phase["seconds"]
            for label, phase in figures.get("phases", {}).items()
            if phase["seconds"] and label != VALUES}


def rotation(port: int, env: dict[str, str], token: str, left: Callable[[], int],
             seconds: float, later: Callable[[], dict[str, float]] = dict) -> dict[str, Any]:
    """`intake keys rotate` while wrk posts registrations from 4 connections; interrupted
    after `seconds` (`capped`), when its last progress line tells how far it came (or, if it
    had not begun, `left()`: the values not under the newest key); `later()` tells the
    seconds its later phases would have taken (documents, batch files), once it stopped."""
    load = subprocess.Popen(_wrk_command(port, LOAD, 4, 36_000), env={**os.environ,
                            "TOKEN": token}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(WARM_UP)
    started = time.monotonic()
    rotate = subprocess.Popen([PYTHON, "-m", "intake.cli", "keys", "rotate"], env=env,
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = rotate.communicate(timeout=seconds)
        capped = False
    except subprocess.TimeoutExpired:
        stopped = time.monotonic()
        rotate.send_signal(signal.SIGINT)  # it says how far it got before it stops
        try:
            out, err = rotate.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            # At 1,000,000 on SQLite it did not stop within 2 minutes (2026-12-07; at
            # 100,000 it stops in 0.3 s). Its progress lines so far still tell (click
            # flushes each), and the run's hour is not spent waiting.
            rotate.kill()
            out, err = rotate.communicate()
        capped = True
    took = (stopped if capped else time.monotonic()) - started
    load.send_signal(signal.SIGINT)
    served_out, _err = load.communicate(timeout=60)
    if rotate.returncode and not capped:
        raise RuntimeError(f"intake keys rotate failed: {err[-2000:]}")
    served = json.loads(served_out.strip().splitlines()[-1])
    phases = _phases(out)
    # "re-encrypting values: 16000/479859 (3%) in 41.2 s, 388/s": its counting came first.
    if VALUES in phases:
        done, total, working = phases[VALUES]
        counting = took - sum(seconds or 0.0 for _d, _t, seconds in phases.values()) \
            if working else 0.0
    else:
        done, total, counting = 0, left(), took
    rate = done / max((working or took - counting) if VALUES in phases else took, 1e-9)
    # The whole database: the time taken, if it finished; else the counting, the values at
    # this rate, and what the later phases would have taken.
    rest = later() if capped else {}
    return {"seconds": took, "values": done, "values_in_database": total, "capped": capped,
            "counting_seconds": counting, "values_per_second": rate,
            "phases": {label: {"done": d, "total": t, "seconds": s}
                       for label, (d, t, s) in phases.items()},
            "later_seconds": rest,
            "whole_seconds": took if not capped else (
                counting + total / max(rate, 1e-9) + sum(rest.values())),
            "p99_ms": served["p99_ms"], "p50_ms": served["p50_ms"],
            "registrations_per_second": served["requests"] / served["seconds"],
            "errors": served["errors"], "at": dt.datetime.now(dt.UTC).isoformat()}
