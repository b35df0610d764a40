"""Processes: the production web server, and `serve`, which runs every role in one command."""

from __future__ import annotations

import gc
import logging
import multiprocessing.util
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from flask import Flask
from granian import Granian
from granian.constants import Interfaces

from intake import create_app, observability, runtime
from intake.config import ConfigError, Settings
from intake.delivery.redis_connection import EmbeddedRedis
from intake.web import display

log = logging.getLogger(__name__)

ROLES = ("web", "worker", "scheduler")


def run_web(settings: Settings) -> None:
    """The production web server: granian, its HTTP handling in Rust, the app in Python.

    Chosen over gunicorn's threads by interleaved A/B (docs/design.md). The app is loaded in
    each worker.
    """
    host, port, socket_path = listen_address(settings.bind)
    if socket_path is not None:
        remove_stale_socket(socket_path)
    Granian(
        "intake.server:web_app",
        factory=True,
        interface=Interfaces.WSGI,
        address=host,
        port=port,
        uds=socket_path,
        uds_permissions=0o660,  # the proxy in front runs as another user of the same group
        workers=settings.web_workers,
        blocking_threads=settings.web_threads,
        # Status URLs carry tokens: no access log. Granian's own lines go to our JSON log.
        log_access=False,
        log_dictconfig=_GRANIAN_LOGGING,
        respawn_failed_workers=True,  # a worker that dies is replaced, as gunicorn's were
        workers_kill_timeout=10,  # `serve` waits 15 s before it kills the whole server
    ).serve()


# Granian's records propagate to the root logger (JSON lines, see observability).
_GRANIAN_LOGGING: dict[str, Any] = {
    "handlers": {},
    "loggers": {
        "_granian": {"handlers": [], "propagate": True},
        "granian.access": {"handlers": [], "propagate": False},
    },
}


def listen_address(bind: str) -> tuple[str, int, Path | None]:
    """INTAKE_BIND as (address, port, unix socket): `host:port` (a name is looked up, as
    granian takes addresses only), `[v6 address]:port` or `unix:/path`."""
    if bind.startswith("unix:"):
        return "127.0.0.1", 0, Path(bind.removeprefix("unix:"))
    host, sep, port = bind.rpartition(":")
    if not host or not sep or not port.isdigit():
        raise ConfigError(f"INTAKE_BIND must be host:port or unix:/path, not {bind!r}")
    try:
        found = socket.getaddrinfo(host.strip("[]"), int(port), type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise ConfigError(f"INTAKE_BIND: no address for {host!r} ({error})") from None
    # IPv4 first: many hosts list localhost as ::1 before 127.0.0.1, and clients try 127.0.0.1.
    found.sort(key=lambda entry: entry[0] != socket.AF_INET)
    return str(found[0][4][0]), int(port), None


def remove_stale_socket(path: Path) -> None:
    """Remove a unix socket a killed server left behind (it would keep this one from starting);
    refuse to touch anything else there, or a socket another server still answers on."""
    if not path.exists():
        return
    if not stat.S_ISSOCK(path.stat().st_mode):
        raise ConfigError(f"INTAKE_BIND: {path} exists and is not a socket")
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(path))
        except ConnectionRefusedError:
            path.unlink()
            return
    raise ConfigError(f"INTAKE_BIND: another server answers on {path}")


def web_app() -> Flask:
    """The app as each web worker loads it (granian's factory), after the fork."""
    observability.configure_logging(in_background=True)
    # A worker process ends with os._exit, past atexit: write what is queued before that.
    multiprocessing.util.Finalize(None, observability.stop_logging, exitpriority=10)
    app = create_app()
    app_runtime = app.extensions["intake"]
    # Code outside a request in this process uses this app's runtime, never one built anew
    # from the environment, which the next step empties of settings.
    runtime.bind(app_runtime)
    # Granian copies os.environ into every request's WSGI environ, where a debugging aid or
    # error reporter could show it: the settings are read, so the keys and the database URL
    # leave os.environ before the first request.
    for key in os.environ.keys() - _inherited_environment().keys():
        del os.environ[key]
    # Connections are opened in the worker: never shared across a fork.
    app_runtime.db.fill_pool()
    display.warm(app)
    # Everything loaded so far lives as long as the worker: keep it out of every garbage
    # collection, so the collections a busy worker runs stay short (tail latency).
    gc.freeze()
    return app


def serve(settings: Settings) -> int:
    """Run web, worker and scheduler (and the embedded Redis if none is configured).

    Supervises them: a role that exits is started again, after a pause that doubles while it
    keeps failing (from 1 s, up to a minute); the others go on meanwhile, so the web keeps
    serving. Only SIGINT/SIGTERM stop them all; returns an exit code.
    """
    embedded = None if settings.redis_url else EmbeddedRedis(settings.instance_dir)
    started_redis = embedded.start() if embedded else False
    env = {**_inherited_environment(), **settings.to_env()}
    roles = {role: _Role(role, env) for role in ROLES}
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("serving on http://%s", settings.bind)
    try:
        while not stopping:
            for role in roles.values():
                role.look_after()
            time.sleep(0.2)
    finally:
        for role in roles.values():
            role.terminate()
        for role in roles.values():
            role.wait()
        if embedded and started_redis:
            embedded.stop()
    return 0


# A role that ran this long before it exited is started again at once (backoff reset).
_STEADY = 60.0
_MAX_PAUSE = 60.0


class _Role:
    """One role's process under `serve`: started, watched, started again when it exits."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.env = env
        self.restarts = 0  # exits in a row, each after less than _STEADY seconds
        self.start_at = 0.0
        self.process: subprocess.Popen[Any] | None = None
        self.started = 0.0

    def look_after(self) -> None:
        now = time.monotonic()
        if self.process is None:
            if now >= self.start_at:
                self.process = subprocess.Popen(  # noqa: S603
                    [sys.executable, "-m", "intake.cli", self.name], env=self.env
                )
                self.started = now
            return
        code = self.process.poll()
        if code is None:
            return
        self.restarts = 0 if now - self.started >= _STEADY else self.restarts + 1
        pause = min(2.0 ** self.restarts / 2, _MAX_PAUSE) if self.restarts else 0.0
        log.error("%s exited with code %s; starting it again in %.1f s", self.name, code, pause)
        self.process = None
        self.start_at = now + pause

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def wait(self) -> None:
        if self.process is not None:
            _wait(self.process)


def _wait(child: subprocess.Popen[Any], timeout: float = 15) -> None:
    try:
        child.wait(timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _inherited_environment() -> dict[str, str]:
    """This process's environment without intake's own settings (INTAKE_*)."""
    return {key: value for key, value in os.environ.items() if not key.startswith("INTAKE_")}
