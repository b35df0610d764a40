"""Metrics and logs: the numbers operators need, and nothing personal."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event, insert, update

from intake import observability
from intake.security import tokens
from intake.store import models
from tests.helpers.api import post
from tests.helpers.data import ADULT
from tests.helpers.deliveries import FETCHING, NOT_FETCHING, one_authority_not_fetching
from tests.helpers.pipeline import process_queue


def test_metrics_count_the_pipeline_for_a_metrics_token_only(client, submit_token, runtime):
    post(client, submit_token, ADULT)
    process_queue(runtime)
    with runtime.db.transaction() as session:
        scraper = tokens.create(session, "prometheus", "metrics")

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {submit_token}"}
                      ).status_code == 401
    text = client.get("/metrics", headers={"Authorization": f"Bearer {scraper}"}).text

    assert "intake_registrations 1.0" in text and "intake_messages 1.0" in text
    assert "intake_batches 1.0" in text and "intake_failed_outbox_rows 0.0" in text
    assert 'intake_queue_depth{queue="payloads"}' in text
    assert 'intake_request_seconds_count{endpoint="/api/v1/registrations"' in text
    assert "Shevchenko" not in text
    assert not re.search(r"/s/(?!<token>)", text)  # route patterns, never paths with tokens


def test_logs_are_json_lines_with_request_ids_and_no_personal_data(client, submit_token, capfd):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    observability.configure_logging(in_background=True)  # as the web server logs
    try:
        response = post(client, submit_token, ADULT)
        status = client.get(response.json["status_url"].removeprefix("http://localhost"))
    finally:
        observability.stop_logging()  # writes what is queued
        root.handlers[:], level = saved
        root.setLevel(level)
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines()
             if line.startswith("{")]
    requests = [line for line in lines if line.get("message") == "request"]
    assert {line["route"] for line in requests} >= {"/api/v1/registrations", "/s/<token>"}
    assert all(len(line["request_id"]) == 32 for line in requests)
    assert status.headers["X-Request-ID"] in {line["request_id"] for line in requests}
    everything = json.dumps(lines)
    token = response.json["status_url"].rsplit("/", 1)[1]
    for secret in ("Shevchenko", "FE123456", token, response.json["reference"]):
        assert secret not in everything


def _scrape(client, runtime) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:  # type: ignore[no-untyped-def]
    """/metrics as Prometheus reads it: each sample's value by metric and labels."""
    with runtime.db.transaction() as session:
        scraper = tokens.create(session, "prometheus", "metrics")
    text = client.get("/metrics", headers={"Authorization": f"Bearer {scraper}"}).text
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def test_metrics_show_each_authority_that_stopped_fetching(client, submit_token, runtime):
    one_authority_not_fetching(client, submit_token, runtime, days=3)
    post(client, submit_token, ADULT)  # owed work, not built yet
    with runtime.db.transaction() as session:
        session.execute(update(models.Outbox).where(models.Outbox.done_at.is_(None))
                        .values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20)))

    samples = _scrape(client, runtime)

    def by_authority(name: str) -> dict[str, float]:
        return {dict(labels)["authority"]: value for labels, value in samples[name].items()}

    age = by_authority("intake_authority_oldest_unacknowledged_batch_age_seconds")
    assert age[NOT_FETCHING] == pytest.approx(3 * 86400, abs=120)
    assert age[FETCHING] == age["075600"] == 0  # acknowledged; never sent anything
    assert by_authority("intake_authority_messages_owed") == {
        NOT_FETCHING: 3, FETCHING: 0, "075600": 0}  # a batch of two, one waiting
    assert by_authority("intake_authority_unacknowledged_batches") == {
        NOT_FETCHING: 1, FETCHING: 0, "075600": 0}
    assert samples["intake_outbox_pending"][()] == 1
    assert samples["intake_outbox_oldest_pending_age_seconds"][()] == pytest.approx(1200, abs=120)
    assert samples["intake_workers"][()] == 0


def test_workers_count_while_their_heartbeat_lives(client, runtime):
    worker = runtime.worker()
    worker.register_birth()
    assert _scrape(client, runtime)["intake_workers"][()] == 1

    runtime.redis.delete(worker.key)  # its key expired: killed, no heartbeat since

    assert _scrape(client, runtime)["intake_workers"][()] == 0
    worker.register_death()


def test_metrics_read_two_statements_and_stay_fast_with_650_authorities(client, runtime):
    with runtime.db.transaction() as session:
        scraper = tokens.create(session, "prometheus", "metrics")
    headers = {"Authorization": f"Bearer {scraper}"}
    statements: list[str] = []

    def executed(_connection, _cursor, sql: str, *_: object) -> None:  # type: ignore[no-untyped-def]
        statements.append(sql)

    client.get("/metrics", headers=headers)  # the token checked, and kept for 30 s
    event.listen(runtime.db.engine, "before_cursor_execute", executed)
    client.get("/metrics", headers=headers)  # 3 authorities
    few = [sql for sql in statements if sql.startswith("SELECT")]
    _authorities_with_batches(runtime, 650)
    statements.clear()

    started = time.perf_counter()
    text = client.get("/metrics", headers=headers).text
    elapsed = time.perf_counter() - started

    event.remove(runtime.db.engine, "before_cursor_execute", executed)
    many = [sql for sql in statements if sql.startswith("SELECT")]
    assert len(few) == len(many) == 2  # global counts, authorities: not one per authority
    assert sum(1 for line in text.splitlines()
               if line.startswith("intake_authority_messages_owed{")) == 653
    assert 'intake_authority_messages_owed{authority="900000"} 30.0' in text
    assert elapsed < 1.0, elapsed  # measured: 0.04 s on SQLite


def _authorities_with_batches(runtime, count: int) -> None:  # type: ignore[no-untyped-def]
    """`count` more authorities, each with two batches unacknowledged and ten acknowledged."""
    now = dt.datetime.now(dt.UTC)
    keys = [f"9{number:05d}" for number in range(count)]
    with runtime.db.transaction() as session:
        session.execute(insert(models.Authority), [
            {"key": key, "name": f"Ausländerbehörde {key}"} for key in keys])
        session.execute(insert(models.Batch), [
            {"authority_key": key, "sequence": sequence, "count": 15,
             "created_at": now - dt.timedelta(hours=sequence),
             "acknowledged_at": None if sequence < 2 else now}
            for key in keys for sequence in range(12)])
