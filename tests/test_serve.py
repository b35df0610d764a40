"""`intake serve` as `make run` starts it: real processes, embedded Redis, SQLite, a real port."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from intake import xaus
from intake.config import Settings
from tests.helpers import official
from tests.helpers.data import ADULT
from tests.helpers.pipeline import unsealed_zip
from tests.helpers.processes import (
    children,
    free_port,
    intake,
    listening,
    roles_of,
    wait_for_port,
    without_settings,
)

pytestmark = pytest.mark.slow


def stop(serve: subprocess.Popen[bytes]) -> str:
    """Stop `intake serve` as a supervisor does (SIGTERM); what it wrote to stderr."""
    serve.send_signal(signal.SIGTERM)
    try:
        serve.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(serve.pid, signal.SIGKILL)
        raise
    stderr = serve.stderr.read().decode() if serve.stderr else ""
    if serve.stderr:
        serve.stderr.close()
    return stderr


def serve_env(tmp_path: Path, port: int) -> dict[str, str]:
    """Settings for an `intake serve` of its own under tmp_path, on the embedded defaults."""
    return {
        **without_settings(),
        "INTAKE_INSTANCE_DIR": str(tmp_path / "instance"),
        "INTAKE_XML_OUT": str(tmp_path / "xml_out"),
        "INTAKE_BIND": f"127.0.0.1:{port}",
    }


def workers_of(pid: int) -> list[int]:
    return sorted(child for child, _group in children(pid))


def test_serve_turns_a_submission_into_a_message_file_within_5_seconds(tmp_path: Path):
    port = free_port()
    env = {**serve_env(tmp_path, port), "INTAKE_BATCH_INTERVAL": "1"}
    if official.folder():  # else the service's own checks alone, as in a fresh clone
        env["INTAKE_XSD_DIR"] = str(official.folder())
    intake(env, "db", "upgrade")
    intake(env, "demo-seed")
    token = intake(env, "token", "create", "partner", "--scope", "submit").strip()
    serve = subprocess.Popen(
        [sys.executable, "-m", "intake.cli", "serve"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        wait_for_port(port, timeout=30)
        home = urllib.request.urlopen(f"http://127.0.0.1:{port}/en/", timeout=5)
        assert home.status == 200
        started = time.monotonic()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/registrations",
            data=json.dumps(ADULT).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            assert response.status == 201
            body = json.load(response)
        application_id = body["applications"][0]["application_id"]
        folder = tmp_path / "xml_out" / "073400"
        while not list(folder.glob("*.zip.enc")) and time.monotonic() - started < 5:
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        [batch] = list(folder.glob("*.zip.enc")) or [None]
        assert batch is not None, f"no batch after {elapsed:.1f} s"
        zipped = unsealed_zip(Settings.from_env(env), batch)
        with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
            xml = archive.read(f"{application_id}.xml")
        xaus.validate(xml, official.schema())
        assert (tmp_path / "instance" / "redis.sock").exists()  # the embedded Redis served
    finally:
        stderr = stop(serve)
    assert serve.returncode == 0, stderr
    assert not (tmp_path / "instance" / "redis.sock").exists()  # and was stopped with serve
    for secret in ("Shevchenko", "FE123456"):
        assert secret not in stderr  # logs carry no personal data
    lines, not_json = [], []
    for line in stderr.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            not_json.append(line)
    assert not not_json, "log lines that are not JSON: " + "\n".join(not_json[:5])
    assert any(line["logger"] == "_granian" for line in lines)  # the web server's own too
    said = [line["message"] for line in lines if "validated by" in line["message"]]
    active = ("the official schema set and the own checks" if official.folder()
              else "the own checks only (no official schema set)")
    assert said == [f"messages are validated by: {active}"]  # the worker says it once, at start
    assert str(official.folder()) not in stderr  # no path in the logs


def test_a_web_worker_opens_its_database_connections_before_the_first_request(tmp_path):
    from intake.store.database import Database

    database = Database(f"sqlite:///{tmp_path / 'intake.db'}")
    database.fill_pool()

    assert database.engine.pool.checkedin() == database.engine.pool.size() > 0
    database.dispose()


def test_an_unreachable_database_does_not_stop_a_web_worker_from_starting(caplog):
    from intake.store.database import Database

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    database = Database(f"postgresql+psycopg://nobody@127.0.0.1:{port}/none?connect_timeout=1")

    database.fill_pool()  # does not raise

    assert "could not open the database connections" in caplog.text
    database.dispose()


@pytest.mark.parametrize(
    ("bind", "expected"),
    [
        ("127.0.0.1:8000", ("127.0.0.1", 8000, None)),
        ("0.0.0.0:80", ("0.0.0.0", 80, None)),  # noqa: S104
        ("[::]:8000", ("::", 8000, None)),
        ("localhost:8000", ("127.0.0.1", 8000, None)),
        ("unix:/run/intake/web.sock", ("127.0.0.1", 0, Path("/run/intake/web.sock"))),
    ],
)
def test_the_web_server_listens_where_intake_bind_says(bind, expected):
    from intake.server import listen_address

    assert listen_address(bind) == expected


@pytest.mark.parametrize(
    "bind", ["8000", "localhost", ":8000", "host:port", "no-such-host.invalid:80"]
)
def test_a_bind_address_without_host_and_port_names_the_setting(bind):
    from intake.config import ConfigError
    from intake.server import listen_address

    with pytest.raises(ConfigError, match="INTAKE_BIND"):
        listen_address(bind)


def test_a_web_process_that_dies_is_replaced_and_the_site_keeps_answering(tmp_path: Path):
    port = free_port()
    env = {
        **without_settings(),
        "INTAKE_INSTANCE_DIR": str(tmp_path / "instance"),
        "INTAKE_BIND": f"127.0.0.1:{port}",
        "INTAKE_REDIS_URL": "redis://127.0.0.1:1/0",  # pages need no Redis
    }
    intake(env, "db", "upgrade")
    web = subprocess.Popen(
        [sys.executable, "-m", "intake.cli", "web"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        wait_for_port(port, timeout=30)
        workers = workers_of(web.pid)
        assert len(workers) == 2  # INTAKE_WEB_WORKERS' default
        # Both serving before one dies: a worker listens once it has loaded and warmed the
        # app (display.warm), and killing the only one listening would leave none for a
        # second, which is the start of a server, not what this test is about.
        deadline = time.monotonic() + 30
        while listening(workers, port) != set(workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert listening(workers, port) == set(workers)
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 10
        now = workers_of(web.pid)
        while (workers[0] in now or len(now) < 2) and time.monotonic() < deadline:
            time.sleep(0.1)
            now = workers_of(web.pid)
        assert workers[0] not in now and len(now) == 2
        for _ in range(20):  # whichever process takes the connection
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/en/", timeout=5) as page:
                assert page.status == 200
    finally:
        web.send_signal(signal.SIGTERM)  # the server stops its workers itself
        try:
            web.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(web.pid, signal.SIGKILL)
            raise
    assert web.returncode == 0


def test_no_request_sees_the_settings_secrets_in_its_environ(tmp_path, monkeypatch):
    """Granian builds each request's environ from the process's environment."""
    import gc

    from granian import wsgi

    from intake import observability, runtime, server

    for key in os.environ.keys() - without_settings().keys():
        monkeypatch.delenv(key)  # back after the test
    monkeypatch.setenv("INTAKE_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("INTAKE_SECRET_KEY", "a-secret-never-in-a-request")
    monkeypatch.setattr(observability, "configure_logging", lambda **_kwargs: None)
    monkeypatch.setattr(gc, "freeze", lambda: None)
    monkeypatch.setattr(runtime, "_process_runtime", None)  # web_app binds its own
    seen = {}

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        seen.update(environ)
        start_response("200 OK", [])
        return [b""]

    class Connection:  # what granian's Rust side hands the wrapper
        def response_bytes(self, *_args: object) -> None: ...

    loaded = server.web_app()
    try:
        serve_request = wsgi._callback_wrapper(app, {})  # as granian wraps an app it loaded
        serve_request(Connection(), {"PATH_INFO": "/", "QUERY_STRING": ""})
    finally:
        loaded.extensions["intake"].close()

    assert loaded.config["SECRET_KEY"] == "a-secret-never-in-a-request"
    assert "a-secret-never-in-a-request" not in repr(seen)
    assert not [key for key in seen if key.startswith("INTAKE_")]
    assert runtime.bound() is loaded.extensions["intake"]  # not one built from os.environ


def test_a_new_web_worker_has_its_pages_ready_before_its_first_request(tmp_path, monkeypatch):
    """A worker started under load had each of its threads compile the templates and sort
    the countries at once, for seconds: it does so once before serving."""
    import gc

    from intake import observability, runtime, server
    from intake.dataset import territories
    from intake.dataset.languages import LANGUAGES

    monkeypatch.setenv("INTAKE_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setattr(observability, "configure_logging", lambda **_kwargs: None)
    monkeypatch.setattr(gc, "freeze", lambda: None)
    monkeypatch.setattr(runtime, "_process_runtime", None)
    for key in os.environ.keys() - without_settings().keys() - {"INTAKE_INSTANCE_DIR"}:
        monkeypatch.delenv(key)
    territories.choices.cache_clear()  # as in a new process
    loaded = server.web_app()
    try:
        def unprepared(*_args: object) -> None:
            raise AssertionError("done in a request")

        # Whatever the first pages need that is not ready yet fails them.
        monkeypatch.setattr(loaded.jinja_env.loader, "get_source", unprepared)
        monkeypatch.setattr(territories, "_collator", unprepared)
        client = loaded.test_client()
        for lang in LANGUAGES:
            assert client.get(f"/{lang}/").status_code == 200
            assert client.get(f"/{lang}/lost-link").status_code == 200
    finally:
        loaded.extensions["intake"].close()


def test_a_stale_unix_socket_is_replaced_but_nothing_else_is_touched(tmp_path):
    import socket as sockets

    from intake.config import ConfigError
    from intake.server import remove_stale_socket

    stale = tmp_path / "stale.sock"
    with sockets.socket(sockets.AF_UNIX) as left_behind:
        left_behind.bind(str(stale))  # bound, never listening: as a killed server leaves it
    remove_stale_socket(stale)
    assert not stale.exists()

    database = tmp_path / "intake.db"
    database.write_bytes(b"SQLite format 3")
    with pytest.raises(ConfigError, match="not a socket"):
        remove_stale_socket(database)
    assert database.exists()

    live = tmp_path / "live.sock"
    with sockets.socket(sockets.AF_UNIX) as server:
        server.bind(str(live))
        server.listen()
        with pytest.raises(ConfigError, match="another server"):
            remove_stale_socket(live)
    assert live.exists()


def wait_for_role(serve_pid: int, role: str, other_than: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = roles_of(serve_pid).get(role)
        if found and found != other_than:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no new {role} after {timeout} s")


def test_serve_starts_a_role_again_when_it_dies_and_the_web_keeps_serving(tmp_path: Path):
    """Before, `intake serve` stopped every role when one exited, so `make run` ended."""
    port = free_port()
    env = serve_env(tmp_path, port)
    intake(env, "db", "upgrade")
    serve = subprocess.Popen(
        [sys.executable, "-m", "intake.cli", "serve"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        wait_for_port(port, timeout=30)
        for role in ("worker", "scheduler", "worker"):  # the second kill: a pause of 1 s
            before = roles_of(serve.pid)[role]
            os.kill(before, signal.SIGKILL)
            wait_for_role(serve.pid, role, other_than=before, timeout=15)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/en/", timeout=5) as page:
                assert page.status == 200
        assert serve.poll() is None
    finally:
        stderr = stop(serve)
    assert serve.returncode == 0
    assert "worker exited with code -9; starting it again" in stderr
    assert "scheduler exited with code -9; starting it again" in stderr
