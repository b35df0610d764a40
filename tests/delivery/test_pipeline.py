"""The walking skeleton end to end: API or form -> database -> queue -> worker -> message file."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from intake import xaus
from intake.config import Settings
from intake.delivery import outbox, scheduler
from intake.delivery.redis_connection import EmbeddedRedis
from intake.runtime import Runtime
from intake.store import models
from tests.helpers import official
from tests.helpers.api import post
from tests.helpers.data import ADULT
from tests.helpers.forms import APPLICANT, register
from tests.helpers.pipeline import batch_file_names, delivered, process_queue, unsealed_zip

NS = {"xa": "http://www.osci.de/xauslaender2611"}


def message_files(settings: Settings) -> list[Path]:
    """The batch files under xml_out/<authority>/."""
    return batch_file_names(settings.xml_out)


def test_api_registration_becomes_a_valid_message(client, submit_token, runtime):
    response = post(client, submit_token, ADULT)

    assert response.status_code == 201, response.json
    body = response.json
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", body["reference"])
    assert body["authority"] == {"key": "073400", "name": "STV Potsdam"}
    [application] = body["applications"]
    assert message_files(runtime.settings) == []  # the request never waits for the queue

    process_queue(runtime)

    [path] = message_files(runtime.settings)
    assert path.parent == runtime.settings.xml_out / "073400"
    with zipfile.ZipFile(io.BytesIO(unsealed_zip(runtime.settings, path))) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        xml = archive.read(f"{application['application_id']}.xml")
    assert (manifest["authority"], manifest["sequence"], manifest["count"]) == ("073400", 1, 1)
    assert manifest["members"][0]["sha256"] == hashlib.sha256(xml).hexdigest()
    xaus.validate(xml, official.schema())  # own checks alone where the set is absent
    tree = etree.fromstring(xml)
    assert tree.findtext(".//xa:angabenZurPerson/xa:familienname/name", namespaces=NS) == (
        "Shevchenko"
    )
    assert tree.findtext("xa:antragsidentifikation", namespaces=NS) == (
        application["application_id"]
    )
    status_page = client.get(body["status_url"].removeprefix("http://localhost"))
    assert "forwarded to the immigration authority" in status_page.text


def test_running_the_queue_twice_writes_each_message_once(client, submit_token, runtime):
    post(client, submit_token, ADULT)
    process_queue(runtime)
    [path] = message_files(runtime.settings)
    first = delivered(runtime.settings)

    with runtime.db.transaction() as session:  # as if the relay had lost track of the row
        session.execute(outbox.models.Outbox.__table__.update().values(enqueued_at=None,
                                                                        done_at=None))
    process_queue(runtime)

    assert message_files(runtime.settings) == [path]
    assert delivered(runtime.settings) == first


def test_a_job_that_dies_between_its_stores_keeps_what_it_stored(
    client, submit_token, runtime, monkeypatch
):
    """A job stores its messages in several short transactions; a crash after the first
    leaves those rows done, and the retry builds the rest: every message once."""
    from intake.delivery import jobs
    from intake.runtime import bind

    monkeypatch.setattr(jobs, "STORE_ROWS", 2)
    for _ in range(5):
        post(client, submit_token, ADULT)
    bind(runtime)
    outbox.relay(runtime)
    with runtime.db.read() as session:
        ids = session.scalars(select(models.Outbox.id).order_by(models.Outbox.id)).all()
    store, stores = jobs._store, []

    def dies_on_the_second_store(session, runtime, built):  # type: ignore[no-untyped-def]
        stores.append(len(built))
        if len(stores) == 2:
            raise OSError("killed")
        return store(session, runtime, built)

    monkeypatch.setattr(jobs, "_store", dies_on_the_second_store)
    with pytest.raises(OSError):
        jobs.build_payloads(list(ids))
    with runtime.db.read() as session:
        done = session.scalars(select(models.Outbox.id).where(models.Outbox.done_at.is_not(None)))
        assert len(done.all()) == 2

    monkeypatch.setattr(jobs, "_store", store)
    assert jobs.build_payloads(list(ids)) == 3  # only the rows not stored before
    process_queue(runtime)
    assert stores[:2] == [2, 2]
    assert len(delivered(runtime.settings)) == 5


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux scheduling policies")
def test_a_worker_computes_at_the_lowest_priority_and_holds_locks_at_normal(
    client, submit_token, runtime, monkeypatch
):
    """In a worker process, building messages and packing batches yield the CPU to the web
    (SCHED_IDLE), while storing them, holding the database's locks, does not."""
    from intake.delivery import background, batches, building, jobs

    priorities: dict[str, set[int]] = {}

    def watched(name, work):  # type: ignore[no-untyped-def]
        def run(*args):  # type: ignore[no-untyped-def]
            priorities.setdefault(name, set()).add(os.sched_getscheduler(0))
            return work(*args)
        return run

    for module, name in [(building, "build"), (jobs, "_store"), (batches.Packer, "add")]:
        monkeypatch.setattr(module, name, watched(name, getattr(module, name)))
    monkeypatch.setattr(background, "_yielding", True)
    post(client, submit_token, ADULT)
    post(client, submit_token, ADULT)
    process_queue(runtime)

    assert priorities == {
        "build": {os.SCHED_IDLE}, "add": {os.SCHED_IDLE}, "_store": {os.SCHED_OTHER}
    }
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # this process kept its priority
    assert len(delivered(runtime.settings)) == 2


def test_form_registration_shows_reference_and_becomes_a_message(client, runtime):
    response = register(client, "en", [APPLICANT], "14943")

    assert response.status_code == 303
    confirmation = client.get(response.headers["Location"])
    assert "registration has been received" in confirmation.text
    assert re.search(r'class="reference"><bdi dir="ltr">[0-9A-Z]{5}-[0-9A-Z]{5}<', confirmation.text)
    assert "KRV Teltow-Fläming" in confirmation.text
    assert "<svg" in confirmation.text
    process_queue(runtime)
    [path] = message_files(runtime.settings)
    assert path.parent.name == "073000"


def test_submission_while_redis_is_down_is_delivered_when_it_is_back(
    app, client, submit_token, tmp_path: Path
):
    """Redis unreachable: the applicant is still answered, and the message follows later."""
    server = EmbeddedRedis(Path(tmp_path.parent / f"r{tmp_path.name[-6:]}"))
    server.start()
    settings = app.extensions["intake"].settings
    cut_off = Runtime(
        Settings(**{**settings.__dict__, "redis_url": f"unix://{server.socket}"})
    )
    server.stop()
    try:
        response = post(client, submit_token, ADULT)
        assert response.status_code == 201

        scheduler.run(cut_off, interval=0.05, stop_after=0.3)  # logs, does not crash
        with pytest.raises(Exception, match="onnect"):
            outbox.relay(cut_off)
        assert message_files(settings) == []

        server.start()
        del cut_off.__dict__["redis"]  # reconnect, as a restarted scheduler would
        process_queue(cut_off)
        [xml] = delivered(settings).values()
        assert xml.startswith(b"<?xml")
    finally:
        server.stop()
        cut_off.close()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda b: b.update(postal_code="99999"), "postal_code", "postal code"),
        (lambda b: b.update(postal_code="1446"), "postal_code", "five digits"),
        (lambda b: b["consent"].update(data_processing=False), "consent", "agree"),
        (lambda b: b.update(surprise=1), "surprise", "Unknown field"),
        (lambda b: b["persons"][0].pop("sex"), "persons", "required"),
        (lambda b: b["persons"][0].update(date_of_birth="2999-01-01"), "persons", "future"),
    ],
)
def test_api_rejects_bad_input_per_field(client, submit_token, change, field, message):
    body = copy.deepcopy(ADULT)
    change(body)

    response = post(client, submit_token, body)

    assert response.status_code == 422
    assert message in str(response.json["errors"][field])


def test_api_requires_a_submit_token(client, runtime):
    assert post(client, "wrong", ADULT).status_code == 401
    assert client.post("/api/v1/registrations", json=ADULT).status_code == 401


def test_api_answers_in_the_clients_language_when_the_body_names_none(client, submit_token):
    body = copy.deepcopy(ADULT)
    del body["language"]
    assert post(client, submit_token, body).status_code == 201
    body["postal_code"] = "1"
    german = post(client, submit_token, body, **{"Accept-Language": "de"})
    assert german.status_code == 422 and "fünf" in str(german.json["errors"]["postal_code"])
