"""Metrics and logs: the numbers operators need, and nothing personal."""

from __future__ import annotations

import json
import logging
import re

from intake import observability
from intake.security import tokens
from tests.helpers.api import post
from tests.helpers.data import ADULT
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
