"""`intake status`, `intake batch` and `intake outbox retry` as an operator uses them."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select, update

from intake import progress
from intake.cli import main
from intake.delivery import outbox
from intake.store import models
from tests.helpers.api import post
from tests.helpers.data import ADULT
from tests.helpers.deliveries import (
    FETCHING,
    NOT_FETCHING,
    build_messages,
    one_authority_not_fetching,
)


@pytest.fixture
def every_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain progress line at every step, not every 10 s."""
    monkeypatch.setattr(progress, "PLAIN_EVERY", 0.0)


def test_status_shows_an_authority_that_stopped_fetching(app, client, submit_token, runtime):
    one_authority_not_fetching(client, submit_token, runtime, days=3)

    result = app.test_cli_runner().invoke(main, ["status"])

    assert result.exit_code == 0, result.output
    table = _table(result.stdout, "AUTHORITY")
    # The longest without acknowledging first; not the authority that never got a message.
    assert [row["AUTHORITY"] for row in table] == [NOT_FETCHING, FETCHING]
    assert table[0] | {"LAST BATCH": "", "OLDEST WAITING": ""} == {
        "AUTHORITY": NOT_FETCHING, "NAME": "KRV Teltow-Fläming", "OWED": "3", "WAITING": "1",
        "BATCHES": "1", "NOT ACKNOWLEDGED FOR": "3 d 0 h", "LAST BATCH": "",
        "OLDEST WAITING": ""}
    assert table[1] | {"LAST BATCH": ""} == {
        "AUTHORITY": FETCHING, "NAME": "STV Potsdam", "OWED": "0", "WAITING": "0",
        "BATCHES": "0", "NOT ACKNOWLEDGED FOR": "-", "LAST BATCH": "", "OLDEST WAITING": "-"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", table[0]["LAST BATCH"])
    assert "Undelivered: none" in result.stdout
    assert result.stdout.startswith("validation:  ")
    assert not any(character in result.stdout for character in "\x1b\r")


def _table(output: str, first: str) -> list[dict[str, str]]:
    """The rows of the table whose header starts with `first`, by column (2+ spaces apart)."""
    lines = output.splitlines()
    start = next(number for number, line in enumerate(lines) if line.startswith(first))
    header = re.split(r" {2,}", lines[start])
    rows = []
    for line in lines[start + 1:]:
        cells = re.split(r" {2,}", line)
        if len(cells) != len(header):
            break
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


def test_status_json_keeps_its_content_and_adds_the_authorities(app, client, submit_token,
                                                                runtime):
    one_authority_not_fetching(client, submit_token, runtime, days=3)

    result = app.test_cli_runner().invoke(main, ["status", "--json"])

    report = json.loads(result.output)
    assert {"validation", "queues", "registrations_owed_work", "failed_outbox_rows",
            "undelivered", "oldest_waiting_message", "last_batch", "documents"} < set(report)
    by_key = {item["key"]: item for item in report["authorities"]}
    assert set(by_key) == {FETCHING, NOT_FETCHING}
    assert by_key[NOT_FETCHING] | {"oldest_unacknowledged_batch": None, "last_batch": None} == {
        "key": NOT_FETCHING, "name": "KRV Teltow-Fläming", "messages_waiting": 1,
        "unacknowledged_batches": 1, "messages_owed": 3,
        "oldest_unacknowledged_age_seconds": pytest.approx(3 * 86400, abs=60),
        "oldest_unacknowledged_batch": None, "last_batch": None}
    assert by_key[FETCHING]["messages_owed"] == 0
    assert by_key[FETCHING]["oldest_unacknowledged_age_seconds"] == 0
    assert by_key[FETCHING]["oldest_unacknowledged_batch"] is None


def test_batch_for_an_unknown_authority_says_so_in_a_line(app):
    result = app.test_cli_runner().invoke(main, ["batch", "--authority", "999999"])

    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.splitlines()[-1] == (
        "Error: Invalid value for '--authority': no authority 999999")
    assert "Traceback" not in result.output


def test_batch_counts_the_messages_it_batches(app, client, submit_token, runtime, every_step):
    for code in ("14467", "14467", "14943"):
        post(client, submit_token, {**ADULT, "postal_code": code})
    build_messages(runtime)

    result = app.test_cli_runner().invoke(main, ["batch"])

    assert result.exit_code == 0, result.output
    assert [re.sub(r"[\d.]+(?= s,|/s)", "N", line) for line in result.stdout.splitlines()] == [
        "batching messages: 1/3 (33%), N/s",  # Teltow-Fläming's, then Potsdam's two
        "batching messages: 3/3 (100%), N/s",
        "batching messages: 3/3 (100%) in N s, N/s",
        "2 batch(es) written"]
    with runtime.db.read() as session:
        assert session.scalar(select(func.count(models.Batch.id))) == 2


def test_outbox_retry_names_what_it_does_not_know(app, client, submit_token, runtime):
    made = post(client, submit_token, ADULT).json

    result = app.test_cli_runner().invoke(main, ["outbox", "retry", made["reference"],
                                                 "XXXX-XXXX-XX"])

    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        "Error: Invalid value for 'REFERENCES': no registration XXXX-XXXX-XX")


def test_outbox_retry_shows_its_progress(app, client, submit_token, runtime, every_step):
    made = post(client, submit_token, ADULT).json
    outbox.relay(runtime)
    with runtime.db.transaction() as session:  # as a build that gave up leaves it
        session.execute(update(models.Outbox).values(failed_at=func.now(), failure="test"))

    result = app.test_cli_runner().invoke(main, ["outbox", "retry", made["reference"]])

    assert result.exit_code == 0, result.output
    assert [re.sub(r"[\d.]+(?= s,|/s)", "N", line) for line in result.stdout.splitlines()] == [
        "clearing their failed jobs: 1/1 (100%), N/s",
        "clearing their failed jobs: 1/1 (100%) in N s, N/s",
        "1 registration(s) sent to be built again"]
