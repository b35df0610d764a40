"""What a process needs to do its work, built once from Settings: database, cipher, queue."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import redis
import rq
from flask import Flask
from lxml import etree
from rq import Queue
from rq.serializers import JSONSerializer
from rq.worker import BaseWorker

from intake import xaus
from intake.config import Settings
from intake.delivery.redis_connection import connect
from intake.documents.blobs import Blobs
from intake.security.crypto import FieldCipher
from intake.store import household_rows
from intake.store.database import Database
from intake.store.group_commit import CommitGroup
from intake.store.household_rows import Submission

# One queue per kind of work. A worker takes from the first queue that has a job: batches
# come first, so a full batch is delivered while messages are still being built (at most
# one batch job per authority waits, so they never starve the payloads). Mails come before
# the payloads: a confirmation a minute after sending, not after a burst's messages.
QUEUE_NAMES = ("batches", "mail", "payloads")


class Runtime:
    """Lazily opened resources of one process; nothing connects until it is first used."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def db(self) -> Database:
        return Database(self.settings.database_url)

    @cached_property
    def cipher(self) -> FieldCipher:
        return FieldCipher(self.settings.data_keys, self.settings.index_key)

    @cached_property
    def blobs(self) -> Blobs:
        """Where documents' encrypted content is kept (INTAKE_BLOB_URL)."""
        return Blobs(self.settings.blob_url)

    @cached_property
    def registrations(self) -> CommitGroup[Submission]:
        """This process's group commit of new registrations (made after a fork, when used)."""
        return CommitGroup(self.db, household_rows.write)

    @cached_property
    def redis(self) -> redis.Redis:
        return connect(self.settings)

    def queue(self, name: str) -> Queue:
        return Queue(name, connection=self.redis, serializer=JSONSerializer)

    def worker(self, *, in_process: bool = False) -> BaseWorker:
        """An rq worker on every queue: forking a work horse per job, or running jobs in this
        process (`in_process`, for tools and tests)."""
        kind = InProcessWorker if in_process else Worker
        queues = [self.queue(name) for name in QUEUE_NAMES]
        # A busy worker reports every 5 s (rq: 30), so that one that died is known dead, and
        # its job offered again, within 30 s (outbox.rescue).
        return kind(queues, connection=self.redis, serializer=JSONSerializer,
                    job_monitoring_interval=5)

    @cached_property
    def schema(self) -> etree.XMLSchema | None:
        """The official XAusländer schema set, when INTAKE_XSD_DIR names one."""
        if self.settings.xsd_dir is None:
            return None
        return xaus.load_schema(self.settings.xsd_dir)

    @property
    def validation(self) -> str:
        """Which checks every message passes before it is written, in words for operators."""
        if self.settings.xsd_dir is None:
            return "own checks only (no official schema set; see `make schemas`)"
        return f"official schema set at {self.settings.xsd_dir}, and the own checks"

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.dispose()
        if "redis" in self.__dict__:
            self.redis.close()


class _PromptTeardown:
    """rq's teardown sends UNSUBSCRIBE, then stops its listener thread and waits for it. The
    reply wakes the thread; when it gets there before the stop, it loops and waits up to 60 s
    for a new subscription, and redis-py 8's stop() waits that long with it (the suite's
    stalls of exactly 60 and 120 s). Clearing the thread's flag first lets the reply end it.
    """

    pubsub: Any
    pubsub_thread: Any

    def unsubscribe(self) -> None:
        if self.pubsub_thread:
            self.pubsub_thread.stop(timeout=0)  # clears the flag; waits for nothing
            self.pubsub.unsubscribe()
            self.pubsub_thread.join(timeout=1)
            self.pubsub.close()


class Worker(_PromptTeardown, rq.Worker):
    """rq's worker (a work horse forked per job) with a prompt teardown."""


class InProcessWorker(_PromptTeardown, rq.SimpleWorker):
    """rq's in-process worker with a prompt teardown."""


def of(app: Flask) -> Runtime:
    """The runtime `create_app` built for `app` from its Settings."""
    app_runtime: Runtime = app.extensions["intake"]
    return app_runtime


# A worker's jobs are called by rq with their arguments only: the process entry (`intake
# worker`, `serve`, `scheduler.drain`) binds the runtime it built, and the jobs take that.
_process_runtime: Runtime | None = None


def bind(runtime: Runtime) -> None:
    """Make the jobs this process runs use `runtime`."""
    global _process_runtime
    _process_runtime = runtime


def bound() -> Runtime:
    """The runtime this process's entry bound; never one guessed from the environment."""
    if _process_runtime is None:
        raise RuntimeError("no runtime bound in this process: run jobs with `intake worker`")
    return _process_runtime
