"""Group commit: registrations arriving together share a transaction, and each caller
returns only once its own registration is stored."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.dataset import domain
from intake.dataset.schemas import HouseholdSchema
from intake.registrations import register
from intake.store import household_rows, models
from intake.store.database import Database
from intake.store.group_commit import CommitGroup
from tests.helpers.data import ADULT

HOUSEHOLD = HouseholdSchema().load(ADULT)
POTSDAM = domain.Authority("073400", "STV Potsdam")


def concurrently(count: int, call: Any) -> list[BaseException | None]:
    """Run call(n) in `count` threads started together; each one's exception or None."""
    outcomes: list[BaseException | None] = [None] * count
    start = threading.Barrier(count)

    def run(n: int) -> None:
        start.wait()
        try:
            call(n)
        except BaseException as error:
            outcomes[n] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def stored(runtime: Any, reference: str) -> bool:
    with runtime.db.read() as session:
        return register.by_reference(session, reference) is not None


def test_registrations_from_many_threads_are_each_stored_once_and_before_their_receipt(runtime):
    transactions = []

    def write(session: Session, items: list[household_rows.Submission]) -> None:
        transactions.append(len(items))
        household_rows.write(session, items)

    group = CommitGroup(runtime.db, write)
    visible = [False] * 24

    def register(n: int) -> None:
        prepared = household_rows.prepare(runtime.cipher, HOUSEHOLD, POTSDAM)
        group.commit(prepared)
        # From another connection: the registration is there the moment commit() returns.
        visible[n] = stored(runtime, prepared.receipt().reference)

    assert concurrently(24, register) == [None] * 24
    assert all(visible)
    assert sum(transactions) == 24 and len(transactions) < 24  # some shared a transaction
    with runtime.db.read() as session:
        assert session.scalar(select(func.count()).select_from(models.Registration)) == 24
        assert session.scalar(select(func.count()).select_from(models.Outbox)) == 24


def test_an_item_that_cannot_be_stored_fails_its_own_caller_only(runtime):
    nowhere = domain.Authority("999999", "no such authority")  # the foreign key refuses it

    def register(n: int) -> None:
        authority = nowhere if n == 3 else POTSDAM
        runtime.registrations.commit(household_rows.prepare(runtime.cipher, HOUSEHOLD, authority))

    outcomes = concurrently(12, register)

    assert [n for n, error in enumerate(outcomes) if error is not None] == [3]
    with runtime.db.read() as session:
        assert session.scalar(select(func.count()).select_from(models.Registration)) == 11


def test_without_a_database_every_caller_gets_an_error_and_none_a_receipt(tmp_path):
    database = Database("postgresql+psycopg://intake@127.0.0.1:9/nowhere")  # nothing listens
    group = CommitGroup(database, household_rows.write)
    from intake.security.crypto import FieldCipher

    cipher = FieldCipher((("k", b"k" * 32),), b"i" * 32)

    outcomes = concurrently(
        6, lambda n: group.commit(household_rows.prepare(cipher, HOUSEHOLD, POTSDAM))
    )

    assert all(isinstance(error, Exception) for error in outcomes)
    database.dispose()


def test_the_api_answers_only_after_the_registration_is_stored(runtime, client, submit_token):
    answer = client.post("/api/v1/registrations", json=ADULT,
                         headers={"Authorization": f"Bearer {submit_token}"})

    assert answer.status_code == 201
    assert stored(runtime, answer.json["reference"])


@pytest.mark.parametrize("threads", [1, 8])
def test_a_reference_taken_already_is_drawn_again(runtime, monkeypatch, threads):
    draws = iter(["AAAAA-AAAAA"] * 4 + [f"BBBBB-{n:05d}" for n in range(100)])
    lock = threading.Lock()

    def draw() -> str:
        with lock:
            return next(draws)

    monkeypatch.setattr(household_rows, "random_reference", draw)

    def register(_n: int) -> None:
        runtime.registrations.commit(household_rows.prepare(runtime.cipher, HOUSEHOLD, POTSDAM))

    register(0)  # takes AAAAA-AAAAA; the next three draws collide with it
    assert concurrently(threads, register) == [None] * threads

    with runtime.db.read() as session:
        references = session.scalars(select(models.Registration.reference)).all()
    assert len(references) == len(set(references)) == threads + 1
