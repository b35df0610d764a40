"""Deliveries in a known state: an authority that fetches, and one that stopped."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from intake.delivery import outbox
from intake.runtime import Runtime, bind
from intake.store import models
from tests.helpers.api import api, authority_token, post
from tests.helpers.data import ADULT
from tests.helpers.pipeline import process_queue

FETCHING, NOT_FETCHING = "073400", "073000"  # Potsdam (14467), Teltow-Fläming (14943)


def one_authority_not_fetching(client, submit_token: str, runtime: Runtime,  # type: ignore[no-untyped-def]
                               days: float = 3) -> None:
    """Potsdam fetched and acknowledged its batch; Teltow-Fläming has not acknowledged its
    batch of two messages, made `days` ago, and a third message waits for its next batch."""
    post(client, submit_token, ADULT)
    for _ in range(2):
        post(client, submit_token, {**ADULT, "postal_code": "14943"})
    process_queue(runtime)
    token = authority_token(runtime, FETCHING)
    [batch] = api(client, token, "GET", "/api/v1/batches").json["batches"]
    assert api(client, token, "POST", f"/api/v1/batches/{batch['id']}/ack").status_code == 200
    with runtime.db.transaction() as session:
        session.execute(update(models.Batch).where(models.Batch.authority_key == NOT_FETCHING)
                        .values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=days)))
    post(client, submit_token, {**ADULT, "postal_code": "14943"})
    build_messages(runtime)


def build_messages(runtime: Runtime) -> None:
    """Build the owed messages, as a worker does, and leave them waiting for a batch."""
    bind(runtime)
    outbox.relay(runtime)
    runtime.worker(in_process=True).work(burst=True)
