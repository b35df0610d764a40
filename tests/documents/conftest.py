"""S3-compatible servers on loopback for the object store's tests.

MinIO when a `minio` binary is on the PATH (it is neither on PyPI nor among Debian's
packages, and the project fetches nothing else from outside); moto's S3 server, a real
HTTP server in this process, always. Every object-store test runs against each.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator

import pytest

from intake.runtime import Runtime
from tests.helpers.documents import s3_client

ACCESS_KEY, SECRET_KEY = "intake-test", "intake-test-secret"
MINIO_MISSING = ("no `minio` binary on the PATH (MinIO is not on PyPI or in Debian's "
                 "packages): the object store is tested against moto's S3 server only")


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def minio_endpoint() -> Iterator[str]:
    binary = shutil.which("minio")
    if binary is None:
        pytest.skip(MINIO_MISSING)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="intake-minio-") as folder:
        env = {**os.environ, "MINIO_ROOT_USER": ACCESS_KEY, "MINIO_ROOT_PASSWORD": SECRET_KEY}
        process = subprocess.Popen(
            [binary, "server", folder, "--address", f"127.0.0.1:{port}", "--quiet"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        endpoint = f"http://127.0.0.1:{port}"
        _wait_for(f"{endpoint}/minio/health/live", process)
        yield endpoint
        process.terminate()
        process.wait(timeout=10)


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback only
                return
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("MinIO did not start")


@pytest.fixture(params=["moto", pytest.param("minio", marks=pytest.mark.slow)])
def s3_runtime(
    request: pytest.FixtureRequest, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    """The test's runtime with INTAKE_BLOB_URL on a new bucket of a server on loopback
    (credentials in AWS_* variables, as in production)."""
    endpoint = request.getfixturevalue(f"{request.param}_endpoint")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(variable, raising=False)
    bucket = f"intake-{secrets.token_hex(6)}"
    url = f"s3://{bucket}/documents?endpoint={endpoint}&region=us-east-1"
    s3 = Runtime(dataclasses.replace(runtime.settings, blob_url=url))
    s3_client(s3).create_bucket(Bucket=bucket)
    yield s3
    s3.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """One summary line for MinIO's absence, not one per test (as for the schema set)."""
    report = yield
    if report.skipped and isinstance(report.longrepr, tuple) and report.longrepr[2].endswith(
            MINIO_MISSING):
        report.longrepr = (__file__, 0, report.longrepr[2])
    return report
