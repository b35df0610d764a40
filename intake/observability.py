"""Metrics (Prometheus) and structured logs: counts, latencies and ids, never personal data.

Counts of registrations, messages, batches and failures come from the database at scrape
time, so every web process reports the same truth; request latency is per process (set
PROMETHEUS_MULTIPROC_DIR for the web server's several processes, as prometheus_client documents).
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import queue
import time
import uuid
from collections.abc import Iterator
from logging.handlers import QueueHandler, QueueListener
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from pythonjsonlogger.json import JsonFormatter
from rq import worker_registration
from sqlalchemy import Select, func, select

from intake.delivery import outbox, overview
from intake.delivery.scheduler import ERRORS_KEY
from intake.registrations.booking import aware
from intake.runtime import QUEUE_NAMES, Runtime
from intake.store import models

REQUEST_SECONDS = Histogram(
    "intake_request_seconds", "Time to answer a request", ["endpoint", "method", "status"]
)
log = logging.getLogger("intake.request")


class StateCollector:
    """Registrations, messages, batches, failures, what each authority owes an
    acknowledgement for, queue depths and live workers, read when scraped.

    Two statements a scrape, however many authorities: one of global counts, one of the
    authorities (delivery.overview.owed).
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        now = dt.datetime.now(dt.UTC)
        with self.runtime.db.read() as session:
            counts = session.execute(select(*(
                query.scalar_subquery().label(name) for name, query in _COUNTS.items()
            ))).one()._asdict()
            authorities = overview.owed(session)
        oldest_pending = counts.pop("oldest_pending")
        for name, value in counts.items():
            described = _HELP.get(name) or f"Number of {name.replace('_', ' ')}"
            yield GaugeMetricFamily(f"intake_{name}", described, value=value or 0)
        yield GaugeMetricFamily(
            "intake_outbox_oldest_pending_age_seconds",
            "Age of the oldest registration whose messages are not built yet (0: none)",
            value=(now - aware(oldest_pending)).total_seconds() if oldest_pending else 0,
        )
        yield from _per_authority(authorities, now)
        errors = CounterMetricFamily(
            "intake_scheduler_task_errors", "Unexpected errors of a scheduler task", labels=["task"]
        )
        for task, count in self.runtime.redis.hgetall(ERRORS_KEY).items():
            errors.add_metric([task.decode() if isinstance(task, bytes) else task], int(count))
        yield errors
        depth = GaugeMetricFamily("intake_queue_depth", "Jobs waiting in a queue", labels=["queue"])
        for name in QUEUE_NAMES:
            depth.add_metric([name], self.runtime.queue(name).count)
        yield depth
        yield GaugeMetricFamily("intake_workers", "Workers alive (registered, with a heartbeat)",
                                value=_live_workers(self.runtime))


_OUTBOX_PENDING = models.Outbox.pending()
# The global counts, each a subquery of the scrape's one statement.
_COUNTS: dict[str, Select[Any]] = {
    "registrations": select(func.count(models.Registration.id)),
    "messages": select(func.count(models.Message.id)),
    "batches": select(func.count(models.Batch.id)),
    "failed_outbox_rows": select(func.count(models.Outbox.id))
    .where(models.Outbox.failed_at.is_not(None)),
    # Failed at least once and not done: retrying, or given up (intake status).
    "undelivered_registrations": select(func.count(models.Outbox.id))
    .where(models.Outbox.done_at.is_(None), outbox.STUCK),
    "messages_waiting": select(func.count(models.Message.id)).where(models.message_waiting()),
    # Registrations whose messages are owed: a backlog, when it grows or grows old.
    "outbox_pending": select(func.count(models.Outbox.id)).where(_OUTBOX_PENDING),
    "oldest_pending": select(func.min(models.Outbox.created_at)).where(_OUTBOX_PENDING),
}
_HELP = {
    "outbox_pending": "Registrations whose messages are not built yet (owed work, not given up)",
}


def _per_authority(
    authorities: list[overview.Owed], now: dt.datetime
) -> Iterator[GaugeMetricFamily]:
    """Each authority's figures, 0 where it owes nothing: every series exists from the
    start (an alert on one that appears late misses its first minutes)."""
    age = GaugeMetricFamily(
        "intake_authority_oldest_unacknowledged_batch_age_seconds",
        "Age of the authority's oldest batch not acknowledged (0: none)", labels=["authority"])
    messages = GaugeMetricFamily(
        "intake_authority_messages_owed",
        "Messages built for the authority and not acknowledged (waiting or in a batch)",
        labels=["authority"])
    batches = GaugeMetricFamily(
        "intake_authority_unacknowledged_batches", "Batches the authority has not acknowledged",
        labels=["authority"])
    for item in authorities:
        age.add_metric([item.key], item.age(now))
        messages.add_metric([item.key], item.messages)
        batches.add_metric([item.key], item.batches)
    yield from (age, messages, batches)


def _live_workers(runtime: Runtime) -> int:
    """rq's registered workers whose own key still lives: a worker killed without a goodbye
    stays registered, but its key expires once its heartbeats stop (rq's worker_ttl)."""
    keys = worker_registration.get_keys(connection=runtime.redis)
    return int(runtime.redis.exists(*keys)) if keys else 0


def metrics_response(runtime: Runtime) -> Response:
    registry = CollectorRegistry()
    registry.register(StateCollector(runtime))
    body = generate_latest(registry) + generate_latest()  # state, then this process's latency
    return Response(body, mimetype="text/plain; version=0.0.4")


class RequestIdFilter(logging.Filter):
    """Adds the request id to every record logged while a request is served."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def configure_logging(level: int = logging.INFO, *, in_background: bool = False) -> None:
    """JSON lines on standard error, each with time, level, logger, message and request id.

    `in_background` (the web server): records are formatted and written by a thread of
    their own, so a request only hands its record over and never waits for the log's lock
    or stream; under load, threads queued there longer than they took to answer. Not for
    rq's work horses, which end with os._exit and would lose what is still queued.
    """
    global _listener
    stop_logging()
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
        rename_fields={"levelname": "level", "asctime": "time", "name": "logger"},
    ))
    front: logging.Handler = handler
    if in_background:
        records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        front = QueueHandler(records)
        _listener = QueueListener(records, handler)
        _listener.start()
        _install_process_hooks()
    front.addFilter(RequestIdFilter())  # in the request's thread: the id lives there
    root = logging.getLogger()
    root.handlers[:] = [front]
    root.setLevel(level)
    # Alembic names each of its plugins on every command; the migrations it runs stay logged.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # pypdf warns about what it repairs in an uploaded PDF and quotes the objects it found
    # (form fields' values, titles): personal data, never logged (documents.pdfs).
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    # fontTools logs 33 lines at INFO for every font it subsets ("glyf pruned"): that is,
    # for every application summary the payload job makes, once per household.
    logging.getLogger("fontTools").setLevel(logging.WARNING)


def stop_logging() -> None:
    """Write what is queued and stop the writing thread (at exit, and before reconfiguring)."""
    global _listener
    if _listener is not None:
        _listener.stop()
        _listener = None


def _restart_after_fork() -> None:
    # A forked process (web workers, rq's work horses) has no writing thread.
    global _listener
    if _listener is not None:
        _listener = QueueListener(_listener.queue, *_listener.handlers)
        _listener.start()


_listener: QueueListener | None = None
_hooks_installed = False


def _install_process_hooks() -> None:
    """Once per process, when the writing thread first starts: restart it in forked children,
    and write what is queued at exit."""
    global _hooks_installed
    if not _hooks_installed:
        os.register_at_fork(after_in_child=_restart_after_fork)
        atexit.register(stop_logging)
        _hooks_installed = True


def init_app(app: Flask) -> None:
    @app.before_request
    def start() -> None:
        g.request_id = uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def finish(response: Response) -> Response:
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        # The route pattern, never the path: paths carry tokens and references.
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        status = f"{response.status_code // 100}xx"
        REQUEST_SECONDS.labels(endpoint, request.method, status).observe(elapsed)
        response.headers["X-Request-ID"] = g.get("request_id", "")
        log.info("request", extra=_request_fields(endpoint, response, elapsed))
        return response


def _request_fields(endpoint: str, response: Response, elapsed: float) -> dict[str, Any]:
    return {"method": request.method, "route": endpoint, "status": response.status_code,
            "ms": round(elapsed * 1000, 1)}
