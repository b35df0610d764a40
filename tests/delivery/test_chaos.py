"""The chaos run (issue #22, item 10): registrations through the API while a fault schedule
kills the worker, its work horse, the scheduler and a web process, and stops Redis, under
`intake serve` with the default reconcile settings. At the end every acknowledged person is
in exactly one batch, no role has given up, and `intake serve` still serves.

The client is a careful partner: it sends each registration with an Idempotency-Key and
sends it again, with the same key, when the connection fails or the answer is 5xx.
"""

from __future__ import annotations

import copy
import io
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from intake.config import Settings
from intake.delivery.batch_files import read_files
from intake.delivery.redis_connection import EmbeddedRedis
from tests.helpers.data import ADULT
from tests.helpers.pipeline import batch_file_names, cipher_of, unsealed_zip
from tests.helpers.processes import (
    children,
    free_port,
    intake,
    roles_of,
    wait_for_port,
    without_settings,
)

pytestmark = pytest.mark.slow
LOAD_SECONDS = float(os.environ.get("INTAKE_CHAOS_SECONDS", "36"))
CLIENTS = 4


@dataclass
class Run:
    base: str
    token: str
    acknowledged: dict[str, str] = field(default_factory=dict)  # application id -> key
    retries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def register(self) -> None:
        """One household, sent again with its key until it is acknowledged."""
        body = copy.deepcopy(ADULT)
        body["persons"][0]["given_names"] = random.choice(["Olena", "Iryna", "Mariia"])
        key = str(uuid.uuid4())
        request = urllib.request.Request(  # noqa: S310 - loopback, http
            f"{self.base}/api/v1/registrations", data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                     "Idempotency-Key": key},
        )
        for _attempt in range(300):
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                    created = json.load(answer)
                with self.lock:
                    for application in created["applications"]:
                        self.acknowledged[application["application_id"]] = key
                return
            except urllib.error.HTTPError as error:
                error.close()
                assert error.code >= 500, error.code  # only the server's trouble is retried
            except OSError:
                pass  # refused or reset: a web process was killed
            with self.lock:
                self.retries += 1
            time.sleep(0.2)
        raise AssertionError("a registration was never acknowledged")

    def load(self) -> None:
        # About 6 households a second from the four clients: a rate the one worker keeps up
        # with while each household's summary PDF costs ~0.1 s of CPU (at 10 a second the
        # backlog took a minute after the load). The run is about faults, not throughput
        # (make bench measures that).
        while not self.stop.is_set():
            self.register()
            time.sleep(0.6)


def delivered_count(settings: Settings) -> int:
    total = 0
    for path in batch_file_names(settings.xml_out):
        try:
            with zipfile.ZipFile(io.BytesIO(unsealed_zip(settings, path))) as archive:
                total += json.loads(archive.read("manifest.json"))["count"]
        except (OSError, zipfile.BadZipFile, KeyError):
            continue
    return total


def kill(pid: int | None) -> None:
    if pid:
        os.kill(pid, signal.SIGKILL)


def horse_of(worker: int) -> int | None:
    """A busy work horse of the worker (a child in a process group of its own)."""
    return next((pid for pid, group in children(worker) if group == pid), None)


def test_chaos_loses_nothing_and_duplicates_nothing(tmp_path: Path):
    redis = EmbeddedRedis(tmp_path / "redis")  # its own, so that the test can stop it
    redis.start()
    port = free_port()
    env = {
        **without_settings(),
        "INTAKE_INSTANCE_DIR": str(tmp_path / "instance"),
        "INTAKE_XML_OUT": str(tmp_path / "xml_out"),
        "INTAKE_REDIS_URL": f"unix://{redis.socket}",
        "INTAKE_BIND": f"127.0.0.1:{port}",
        "INTAKE_BATCH_INTERVAL": "2",  # batches soon; the reconcile settings stay the defaults
    }
    intake(env, "db", "upgrade")
    settings = Settings.from_env(env)  # the data keys it generated open the batch files
    intake(env, "demo-seed")
    token = intake(env, "token", "create", "partner", "--scope", "submit").strip()
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "intake.cli", "serve"], env=env,
        stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
    )
    run = Run(f"http://127.0.0.1:{port}", token)
    timeline: list[tuple[float, int]] = []
    faults: list[tuple[str, float]] = []
    started = time.monotonic()
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            timeline.append((time.monotonic() - started, delivered_count(settings)))
            time.sleep(0.25)

    def at(moment: float, name: str, action) -> None:  # type: ignore[no-untyped-def]
        time.sleep(max(0.0, started + moment - time.monotonic()))
        action()
        faults.append((name, time.monotonic() - started))

    try:
        wait_for_port(port, timeout=30)
        threading.Thread(target=sample, daemon=True).start()
        clients = [threading.Thread(target=run.load) for _ in range(CLIENTS)]
        for client in clients:
            client.start()
        def roles() -> dict[str, int]:
            """The roles' processes, once all three run (one may be starting again)."""
            deadline = time.monotonic() + 15
            while len(found := roles_of(serve.pid)) < 3 and time.monotonic() < deadline:
                time.sleep(0.1)
            return found

        at(4, "worker", lambda: kill(roles()["worker"]))
        at(10, "work horse", lambda: kill(horse_of(roles()["worker"]) or roles()["worker"]))
        at(14, "scheduler", lambda: kill(roles()["scheduler"]))
        at(18, "web process", lambda: kill(children(roles()["web"])[0][0]))
        at(22, "Redis", redis.stop)
        at(27, "Redis back", redis.start)
        at(30, "worker again", lambda: kill(roles()["worker"]))
        time.sleep(max(0.0, started + LOAD_SECONDS - time.monotonic()))
        run.stop.set()
        for client in clients:
            client.join(timeout=60)
        wanted = len(run.acknowledged)
        deadline = time.monotonic() + 150
        while delivered_count(settings) < wanted and time.monotonic() < deadline:
            time.sleep(0.5)
        sampling.set()
        delivered = read_files(settings.xml_out, cipher_of(settings))  # raises for twins

        assert serve.poll() is None, "intake serve gave up"
        assert set(roles_of(serve.pid)) == {"web", "worker", "scheduler"}
        with urllib.request.urlopen(f"{run.base}/en/", timeout=5) as page:  # noqa: S310
            assert page.status == 200
    finally:
        sampling.set()
        run.stop.set()
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
        log.close()
        redis.stop()

    acknowledged = {f"{application}.xml" for application in run.acknowledged}
    lost = acknowledged - set(delivered)
    duplicated = set(delivered) - acknowledged  # a registration made twice by a retry
    recoveries = {name: recovery(timeline, moment) for name, moment in faults}
    print(f"\nchaos: acknowledged {len(acknowledged)}, delivered {len(delivered)}, "
          f"lost {len(lost)}, duplicated {len(duplicated)}, client retries {run.retries}, "
          f"recovery after each fault (s): {recoveries}")
    assert not lost and not duplicated
    assert len(acknowledged) > 100


def recovery(timeline: list[tuple[float, int]], moment: float) -> float | None:
    """Seconds from a fault until delivered messages grew again."""
    before = max((count for at, count in timeline if at <= moment), default=0)
    after = next((at for at, count in timeline if at > moment and count > before), None)
    return None if after is None else round(after - moment, 1)
