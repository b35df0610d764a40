"""Processes: the production web server, and `serve`, which runs every role in one command."""

from __future__ import annotations

import gc
import logging
import os
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from intake.config import Settings
from intake.redis_server import EmbeddedRedis

log = logging.getLogger(__name__)

ROLES = ("web", "worker", "scheduler")


class WebServer(BaseApplication):  # type: ignore[misc]
    """gunicorn serving one app, configured from Settings rather than a config file."""

    def __init__(self, app: Flask, settings: Settings) -> None:
        self.application = app
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        self.cfg.set("bind", [self.settings.bind])
        self.cfg.set("workers", self.settings.web_workers)
        self.cfg.set("threads", self.settings.web_threads)
        self.cfg.set("worker_class", "gthread")
        # One listening socket per worker: with a shared one, the worker that wakes first
        # accepts every new connection, and clients that keep theirs alive (phones, proxies,
        # load generators) then load one process while the others idle (measured: one of two
        # busy, the other without a request). The kernel spreads connections over the sockets.
        self.cfg.set("reuse_port", True)
        self.cfg.set("preload_app", True)  # import once, then fork: nothing connects at import
        self.cfg.set("accesslog", None)  # status URLs carry tokens: no access log by default
        self.cfg.set("post_worker_init", _fill_pool)

    def load(self) -> Flask:
        # Everything loaded so far lives as long as the server: keep it out of every garbage
        # collection, so the collections a busy worker runs stay short (tail latency).
        gc.freeze()
        return self.application


def _fill_pool(worker: Any) -> None:
    # In each web worker after the fork: connections are never shared across a fork.
    worker.app.application.extensions["intake"].db.fill_pool()


def serve(settings: Settings) -> int:
    """Run web, worker and scheduler (and the embedded Redis if none is configured).

    Stops every role when one of them ends or on SIGINT/SIGTERM; returns an exit code.
    """
    embedded = None if settings.redis_url else EmbeddedRedis(settings.instance_dir)
    started_redis = embedded.start() if embedded else False
    env = {**_inherited_environment(), **settings.to_env()}
    children = {
        role: subprocess.Popen([sys.executable, "-m", "intake.cli", role], env=env)  # noqa: S603
        for role in ROLES
    }
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("serving on http://%s", settings.bind)
    code = 0
    try:
        while not stopping:
            ended = [role for role, child in children.items() if child.poll() is not None]
            if ended:
                log.error("%s stopped; stopping the others", ", ".join(ended))
                code = 1
                break
            time.sleep(0.2)
    finally:
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for child in children.values():
            _wait(child)
        if embedded and started_redis:
            embedded.stop()
    return code


def _wait(child: subprocess.Popen[Any], timeout: float = 15) -> None:
    try:
        child.wait(timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _inherited_environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("INTAKE_")}
