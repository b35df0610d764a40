"""Idempotency-Key on POST /api/v1/registrations: a retry is safe (issue #22, item 9).

Before, a partner whose connection dropped after the commit could not retry safely: the retry
registered the household a second time.
"""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from sqlalchemy import func, select, text, update

from intake.registrations import retention
from intake.security import tokens
from intake.store import models
from tests.helpers.api import in_parallel, post
from tests.helpers.data import ADULT


def registrations(runtime) -> int:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(models.Registration)) or 0)


def test_a_retry_with_the_same_key_answers_the_first_result(client, submit_token, runtime):
    first = post(client, submit_token, ADULT, **{"Idempotency-Key": '"8e03978e-40d5"'})
    again = post(client, submit_token, ADULT, **{"Idempotency-Key": '"8e03978e-40d5"'})

    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert registrations(runtime) == 1


def test_the_same_body_in_another_key_order_is_the_same_request(client, submit_token, runtime):
    reordered = json.loads(json.dumps(ADULT, sort_keys=True))
    first = post(client, submit_token, ADULT, **{"Idempotency-Key": "k1"})
    again = post(client, submit_token, reordered, **{"Idempotency-Key": "k1"})

    assert again.status_code == 201 and again.json == first.json
    assert registrations(runtime) == 1


def test_the_same_key_with_another_body_is_refused(client, submit_token, runtime):
    other = copy.deepcopy(ADULT)
    other["persons"][0]["given_names"] = "Oksana"
    assert post(client, submit_token, ADULT, **{"Idempotency-Key": "k2"}).status_code == 201

    refused = post(client, submit_token, other, **{"Idempotency-Key": "k2"})

    assert refused.status_code == 422
    assert "another request" in refused.json["errors"]["Idempotency-Key"][0]
    assert registrations(runtime) == 1


def test_keys_are_each_partners_own(client, submit_token, runtime):
    with runtime.db.transaction() as session:
        other_partner = tokens.create(session, "other partner", "submit")

    first = post(client, submit_token, ADULT, **{"Idempotency-Key": "shared"})
    second = post(client, other_partner, ADULT, **{"Idempotency-Key": "shared"})

    assert first.json["reference"] != second.json["reference"]
    assert registrations(runtime) == 2


def test_ten_retries_at_once_register_once(app, client, submit_token, runtime):
    path = "/api/v1/registrations"
    calls = [("POST", path, ADULT)] * 10

    codes = in_parallel(app, submit_token, calls, headers={"Idempotency-Key": "burst"})

    assert codes == [201] * 10
    assert registrations(runtime) == 1


def test_a_key_is_forgotten_after_24_hours(client, submit_token, runtime):
    post(client, submit_token, ADULT, **{"Idempotency-Key": "old"})
    with runtime.db.transaction() as session:
        session.execute(update(models.IdempotencyKey).values(
            created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=24, seconds=1)))

    again = post(client, submit_token, ADULT, **{"Idempotency-Key": "old"})

    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert registrations(runtime) == 2


def test_after_erasure_a_retry_learns_the_data_is_gone(client, submit_token, runtime):
    first = post(client, submit_token, ADULT, **{"Idempotency-Key": "gone"})
    with runtime.db.transaction() as session:
        found = session.scalar(select(models.Registration))
        retention.erase(session, found, runtime.cipher, runtime.settings.xml_out, runtime.blobs)

    again = post(client, submit_token, ADULT, **{"Idempotency-Key": "gone"})

    assert again.status_code == 410 and again.is_json
    assert first.json["status_url"].rsplit("/", 1)[1] not in again.text
    assert registrations(runtime) == 1


@pytest.mark.parametrize("key", ["", '""', "ключ", "x" * 256, "a\tb"])
def test_a_header_that_is_no_key_is_400(client, submit_token, key):
    response = post(client, submit_token, ADULT, **{"Idempotency-Key": key})

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json["errors"]


def test_the_stored_answer_keeps_the_status_token_secret(client, submit_token, runtime):
    first = post(client, submit_token, ADULT, **{"Idempotency-Key": "secret"})
    token = first.json["status_url"].rsplit("/", 1)[1]

    with runtime.db.read() as session:
        stored = session.execute(text("SELECT * FROM idempotency_key")).all()

    assert stored and token not in repr(stored) and "secret" not in repr(stored)
