"""Authority batches: exactly once, complete files, only one's own, acknowledged, then forgotten."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import threading
import zipfile
import zlib

from sqlalchemy import func, select, update

from intake.dataset.schemas import HouseholdSchema
from intake.delivery import batches
from intake.registrations import retention
from intake.security import tokens
from intake.store import models
from tests.helpers.api import authority_token, post
from tests.helpers.data import ADULT
from tests.helpers.pipeline import batch_file_names, delivered, process_queue, unsealed_zip


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def registrations(client, submit_token, postal_codes):  # type: ignore[no-untyped-def]
    return [post(client, submit_token, {**ADULT, "postal_code": code}).json for code in postal_codes]


def test_authorities_fetch_and_acknowledge_only_their_own_batches(client, submit_token, runtime):
    made = registrations(client, submit_token, ["14467", "14467", "14943"])
    process_queue(runtime)
    token_a, token_b = authority_token(runtime, "073400"), authority_token(runtime, "073000")

    listing_a = client.get("/api/v1/batches", headers=bearer(token_a)).json["batches"]
    listing_b = client.get("/api/v1/batches", headers=bearer(token_b)).json["batches"]

    assert [(b["authority"], b["sequence"], b["count"]) for b in listing_a] == [("073400", 1, 2)]
    assert [(b["authority"], b["count"]) for b in listing_b] == [("073000", 1)]
    batch_b = listing_b[0]["id"]
    for method, path in [("GET", f"/api/v1/batches/{batch_b}"),
                         ("POST", f"/api/v1/batches/{batch_b}/ack")]:
        assert client.open(path, method=method, headers=bearer(token_a)).status_code == 404
    assert client.get("/api/v1/batches", headers=bearer("nonsense")).status_code == 401
    with runtime.db.transaction() as session:
        submit_only = tokens.create(session, "partner", "submit")
    assert client.get("/api/v1/batches", headers=bearer(submit_only)).status_code == 401

    zipped = client.get(f"/api/v1/batches/{listing_a[0]['id']}", headers=bearer(token_a))
    with zipfile.ZipFile(io.BytesIO(zipped.data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["batch_id"] == listing_a[0]["id"] and manifest["count"] == 2
    status = made[0]["status_url"].removeprefix("http://localhost")
    assert "forwarded to the immigration authority" in client.get(status).text

    acked = client.post(f"/api/v1/batches/{listing_a[0]['id']}/ack", headers=bearer(token_a))

    assert acked.status_code == 200 and acked.json["acknowledged"]
    assert "confirmed receipt" in client.get(status).text
    again = client.get(f"/api/v1/batches/{listing_a[0]['id']}", headers=bearer(token_a))
    assert again.status_code == 200  # stays available until the retention time ends


def test_the_api_gives_batch_times_with_their_offset_on_every_database(
    client, submit_token, runtime
):
    """Found by schemathesis (tests/web/test_openapi_fuzz.py): on SQLite, which keeps no
    time zone, `created` came without one ("2026-12-07T05:22:45.231250"), no date-time."""
    registrations(client, submit_token, ["14467"])
    process_queue(runtime)
    token = authority_token(runtime, "073400")
    [listed] = client.get("/api/v1/batches", headers=bearer(token)).json["batches"]

    acked = client.post(f"/api/v1/batches/{listed['id']}/ack", headers=bearer(token)).json

    for moment in (listed["created"], acked["created"], acked["acknowledged"]):
        assert dt.datetime.fromisoformat(moment).utcoffset() == dt.timedelta(0), moment


def test_each_message_lands_in_exactly_one_batch_even_when_assembly_races(
    runtime, monkeypatch
):
    from intake.registrations import register

    household = HouseholdSchema().load(ADULT)
    for _ in range(60):
        register.register(runtime, household)
    from intake.delivery import outbox
    from intake.runtime import bind

    bind(runtime)
    outbox.relay(runtime)
    from intake.delivery import jobs

    with runtime.db.read() as session:
        rows = session.scalars(select(models.Outbox.id)).all()
    for row in rows:
        jobs.build_payloads([row])

    def assemble() -> None:
        with runtime.db.transaction() as session:
            batches.assemble(session, "073400", dt.datetime.now(dt.UTC), limit=7)

    threads = [threading.Thread(target=lambda: [assemble() for _ in range(6)]) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    jobs.build_batches("073400")
    from intake.delivery import scheduler

    monkeypatch.setattr(scheduler, "FILE_GRACE", dt.timedelta(0))
    scheduler.queue_batches(runtime)  # writes the files of batches assembled above

    with runtime.db.read() as session:
        sequences = session.scalars(select(models.Batch.sequence).order_by(models.Batch.sequence)).all()
        in_batches = session.scalar(select(func.count()).select_from(models.Message)
                                    .where(models.Message.batch_id.is_not(None)))
    assert sequences == list(range(1, len(sequences) + 1))  # no gaps, no twins
    assert in_batches == 60
    assert len(delivered(runtime.settings)) == 60  # the files agree, no message twice


def test_a_batch_whose_file_a_crash_prevented_is_written_from_the_database(
    runtime, client, submit_token, monkeypatch
):
    registrations(client, submit_token, ["14467"])
    process_queue(runtime)
    [path] = batch_file_names(runtime.settings.xml_out)
    original = unsealed_zip(runtime.settings, path)
    path.unlink()  # as if the process died between commit and rename

    from intake.delivery import scheduler

    scheduler.queue_batches(runtime)
    assert not path.exists()  # a batch just committed: its own job may still be writing it

    monkeypatch.setattr(scheduler, "FILE_GRACE", dt.timedelta(0))  # a minute later
    scheduler.queue_batches(runtime)

    assert unsealed_zip(runtime.settings, path) == original  # the same zip, byte for byte


def test_lost_files_are_packed_outside_the_write_lock(runtime, client, submit_token, monkeypatch):
    """A restored xml_out without its files: written in one transaction, 12,000 of them held
    SQLite's write lock for minutes, and a batch of 5,000 messages holds it for seconds."""
    from intake.delivery import scheduler

    registrations(client, submit_token, ["14467", "14943"])  # two authorities: two files
    process_queue(runtime)
    lost = {path: unsealed_zip(runtime.settings, path)
            for path in batch_file_names(runtime.settings.xml_out)}
    for path in lost:
        path.unlink()
    monkeypatch.setattr(scheduler, "FILE_GRACE", dt.timedelta(0))
    readers, pack_into = [], batches.pack_into

    def packed(out, session, *args):  # type: ignore[no-untyped-def]
        readers.append(session.get_bind() is runtime.db.engine)  # a reader's, not a writer's
        return pack_into(out, session, *args)

    monkeypatch.setattr(batches, "pack_into", packed)
    scheduler.queue_batches(runtime)

    assert readers == [True, True] and len(lost) == 2
    assert {path: unsealed_zip(runtime.settings, path) for path in lost} == lost
    assert not list(runtime.settings.xml_out.glob("*/.*"))  # nothing left aside


def test_a_file_packed_while_its_person_was_erased_is_written_without_them(
    runtime, client, submit_token, monkeypatch
):
    from intake.delivery import batch_files

    made = registrations(client, submit_token, ["14467", "14467"])
    process_queue(runtime)
    [path] = batch_file_names(runtime.settings.xml_out)
    path.unlink()
    pack_into, erasures = batches.pack_into, []

    def erased_meanwhile(out, session, *args):  # type: ignore[no-untyped-def]
        pack_into(out, session, *args)  # from the snapshot: both people, the first time
        if erasures:  # the erasure's own writing of the file
            return
        erasures.append(1)
        with runtime.db.transaction() as other:
            registration = other.scalars(select(models.Registration).where(
                models.Registration.reference == made[0]["reference"])).one()
            retention.erase(other, registration, runtime.cipher, runtime.settings.xml_out,
                            runtime.blobs)

    monkeypatch.setattr(batches, "pack_into", erased_meanwhile)
    with runtime.db.read() as session:
        batch_id = session.scalars(select(models.Batch.id)).one()
    batch_files.write_from_snapshot(runtime.db, runtime.cipher, runtime.blobs,
                                    runtime.settings.xml_out, batch_id)
    monkeypatch.undo()

    assert [name.removesuffix(".xml") for name in delivered(runtime.settings)] == [
        made[1]["applications"][0]["application_id"]]


def test_messages_are_stored_compressed_and_earlier_forms_read_alike(
    runtime, client, submit_token
):
    registrations(client, submit_token, ["14467"])
    process_queue(runtime)
    [xml] = delivered(runtime.settings).values()
    [path] = batch_file_names(runtime.settings.xml_out)
    with runtime.db.transaction() as session:
        message = session.scalars(select(models.Message)).one()
        sealed = session.get(models.MessagePayload, message.id)
        context = batches.message_context(message.id)
        stored = runtime.cipher.decrypt_bytes(sealed.payload, context)
        # Its summary named, not carried (test_references), the rest packed to a sixth.
        assert len(stored) * 6 < len(batches.unseal(runtime.cipher, message.id, sealed.payload))
        batch = session.get(models.Batch, message.batch_id)
        # As stored before 2026-11-30 (uncompressed), and before 2026-12-07 (deflated alone).
        for before in (xml, zlib.compress(xml)):
            sealed.payload = runtime.cipher.encrypt_bytes(before, context)
            session.flush()
            assert batches.archive(session, runtime.cipher, runtime.blobs, batch) == unsealed_zip(
                runtime.settings, path)


def test_acknowledged_data_is_forgotten_after_the_retention_time(client, submit_token, runtime):
    [made] = registrations(client, submit_token, ["14467"])
    process_queue(runtime)
    token = authority_token(runtime, "073400")
    [batch] = client.get("/api/v1/batches", headers=bearer(token)).json["batches"]
    client.post(f"/api/v1/batches/{batch['id']}/ack", headers=bearer(token))
    assert retention.expire(runtime.db, runtime.cipher, runtime.settings.xml_out, dt.timedelta(days=30), runtime.blobs) == 0
    with runtime.db.transaction() as session:
        session.execute(update(models.Batch).values(
            acknowledged_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=31)))
    assert retention.expire(runtime.db, runtime.cipher, runtime.settings.xml_out, dt.timedelta(days=30), runtime.blobs) == 1

    assert not batch_file_names(runtime.settings.xml_out)
    with runtime.db.read() as session:
        found = session.scalar(select(models.Registration))
        assert found.data is None and found.erased_at is not None
        assert found.reference == made["reference"] and found.authority_key == "073400"
        assert all(p.data is None for p in found.persons)
        # No index finds an erased person again: not by name, family name or document.
        assert {(p.name_index, p.family_index, p.document_index) for p in found.persons} == {
            (None, None, None)}
        assert session.scalar(select(models.MessagePayload)) is None
        assert session.scalar(select(models.Batch.erased_at)) is not None  # dates its messages
    assert client.get(f"/api/v1/batches/{batch['id']}", headers=bearer(token)).status_code == 404


def test_cli_erases_one_registration_with_an_audit_entry(app, client, submit_token, runtime):
    from intake.cli import main

    [made] = registrations(client, submit_token, ["14467"])

    result = app.test_cli_runner().invoke(main, ["erase", made["reference"]])

    assert result.exit_code == 0, result.output
    with runtime.db.read() as session:
        assert session.scalar(select(models.Registration.data)) is None
        entry = session.scalar(select(models.AuditEntry).order_by(models.AuditEntry.id.desc()))
        assert (entry.action, entry.record_type) == ("erase", "registration")


def test_the_authority_fetches_and_acknowledges_its_own_batches(staff_clients, client,
                                                                submit_token, runtime):
    """Issue #26: a batch could be acknowledged without downloading, with one tap and no
    undo; the list showed the authority as its code, oldest first, overflowing 360 px."""
    from tests.helpers.forms import CSRF

    registrations(client, submit_token, ["14467", "14943"])
    process_queue(runtime)
    desk = staff_clients["authority_a"]
    portal = desk.get("/desk/batches")
    assert 'class="stacked"' in portal.text and "download it first" in portal.text
    assert staff_clients["authority_b"].get("/desk/batches").text.count("073400") == 0
    with runtime.db.read() as session:
        batch_a = session.scalar(select(models.Batch).where(models.Batch.authority_key == "073400"))
    token = CSRF.search(portal.text).group(1)  # type: ignore[union-attr]
    ack = f"/desk/batches/{batch_a.id}/ack"

    assert desk.post(ack, data={"csrf_token": token}).status_code == 409  # not downloaded yet
    assert desk.get(f"/desk/batches/{batch_a.id}.zip").status_code == 200
    assert "Confirm receipt" in desk.get("/desk/batches").text
    assert "all messages are imported" in desk.get(ack).text  # a page says what follows
    answer = desk.post(ack, data={"csrf_token": token})
    assert answer.status_code == 303 and "notice=acknowledged" in answer.headers["Location"]
    undo = desk.get(answer.headers["Location"])
    assert "You can undo this for 15 minutes" in undo.text and "/undo" in undo.text

    assert desk.post(f"/desk/batches/{batch_a.id}/undo",
                     data={"csrf_token": token}).status_code == 303
    with runtime.db.read() as session:
        assert session.get_one(models.Batch, batch_a.id).acknowledged_at is None
        actions = session.scalars(select(models.AuditEntry.action)).all()
    assert "acknowledgement undone" in actions
    assert staff_clients["authority_b"].post(ack, data={"csrf_token": token}).status_code in (
        400, 404)


def test_an_acknowledgement_cannot_be_undone_after_its_window(staff_clients, client,
                                                              submit_token, runtime):
    import datetime as dt

    from sqlalchemy import update

    from intake.web.deliveries import UNDO_WINDOW
    from tests.helpers.forms import CSRF

    registrations(client, submit_token, ["14467"])
    process_queue(runtime)
    with runtime.db.transaction() as session:
        batch = session.scalar(select(models.Batch))
        batch_id = batch.id  # type: ignore[union-attr]
        session.execute(update(models.Batch).values(
            acknowledged_at=dt.datetime.now(dt.UTC) - UNDO_WINDOW))
    desk = staff_clients["authority_a"]
    token = CSRF.search(desk.get("/desk/batches").text).group(1)  # type: ignore[union-attr]

    assert "/undo" not in desk.get("/desk/batches").text
    assert desk.post(f"/desk/batches/{batch_id}/undo",
                     data={"csrf_token": token}).status_code == 409


def test_the_portal_lists_newest_first_with_the_authoritys_name(staff_clients, client,
                                                                submit_token, runtime):
    for _ in range(2):
        registrations(client, submit_token, ["14467", "14943"])
        process_queue(runtime)
    page = staff_clients["admin"].get("/desk/batches").text
    assert "STV Potsdam" in page and "KRV Teltow-Fläming" in page
    own = staff_clients["authority_a"].get("/desk/batches").text
    assert re.findall(r'data-label="No.">(\d+)<', own) == ["2", "1"]


def test_an_admin_sees_that_batches_exist_but_neither_reads_nor_acknowledges_them(
    staff_clients, client, submit_token, runtime
):
    """An audit found admins downloading every authority's batches (all personal data) and
    acknowledging them, which starts the erasure clock for data the authority never fetched."""
    from tests.helpers.forms import CSRF

    registrations(client, submit_token, ["14467", "14943"])
    process_queue(runtime)
    admin = staff_clients["admin"]
    portal = admin.get("/desk/batches")
    with runtime.db.read() as session:
        batch_a = session.scalar(select(models.Batch).where(models.Batch.authority_key == "073400"))
        keys = set(session.scalars(select(models.Batch.authority_key)))
    assert portal.status_code == 200 and len(keys) == 2
    assert all(name in portal.text for name in ("STV Potsdam", "KRV Teltow-Fläming"))  # both exist
    assert "/desk/batches/" not in portal.text  # no download, no acknowledgement
    token = CSRF.search(admin.get("/desk/").text).group(1)  # type: ignore[union-attr]

    assert admin.get(f"/desk/batches/{batch_a.id}.zip").status_code == 403
    assert admin.post(f"/desk/batches/{batch_a.id}/ack",
                      data={"csrf_token": token}).status_code == 403
    with runtime.db.read() as session:
        assert session.get(models.Batch, batch_a.id).acknowledged_at is None  # type: ignore[union-attr]


def test_a_full_batch_is_assembled_without_waiting_for_the_schedule(runtime, monkeypatch):
    from intake.delivery import jobs, outbox
    from intake.registrations import register
    from intake.runtime import QUEUE_NAMES, bind

    monkeypatch.setattr(batches, "MAX_MESSAGES", 5)
    household = HouseholdSchema().load(ADULT)
    for _ in range(6):
        register.register(runtime, household)
    bind(runtime)
    outbox.relay(runtime)
    with runtime.db.read() as session:
        ids = session.scalars(select(models.Outbox.id)).all()

    jobs.build_payloads(list(ids))  # the payload job itself queues the batch assembly

    assert runtime.queue("batches").job_ids == ["batches-073400"]
    assert "batches" in QUEUE_NAMES


def test_a_scheduler_round_looks_at_the_disk_once_an_authority_not_once_a_batch(
        client, submit_token, runtime, monkeypatch):
    # Each round asked the disk for every batch's file, and loaded every batch as an
    # object: 1 s of the scheduler's CPU a round at a million registrations.
    import os
    import pathlib

    from intake.delivery import scheduler

    monkeypatch.setattr(scheduler, "FILE_GRACE", dt.timedelta(0))
    asked = []
    for name in ("exists", "stat", "is_file"):
        original = getattr(pathlib.Path, name)
        monkeypatch.setattr(pathlib.Path, name, lambda path, *args, _o=original, **kwargs: (
            asked.append(path), _o(path, *args, **kwargs))[1])
    listdir = os.listdir
    monkeypatch.setattr(os, "listdir", lambda folder: (asked.append(folder), listdir(folder))[1])

    def one_round() -> int:
        asked.clear()
        scheduler.queue_batches(runtime)
        return len(asked)

    registrations(client, submit_token, ["14467"])
    process_queue(runtime)
    first = one_round()
    for _ in range(4):
        registrations(client, submit_token, ["14467"])
        process_queue(runtime)
    assert len(batch_file_names(runtime.settings.xml_out)) == 5
    assert one_round() == first


def test_an_acknowledged_batchs_lost_file_is_written_by_the_hourly_check(
        client, submit_token, runtime, monkeypatch):
    """An xml_out restored from an older backup: the round looks at the batches not yet
    acknowledged only (~130,000 batches kept at a million registrations)."""
    from intake.delivery import scheduler

    registrations(client, submit_token, ["14467"])
    process_queue(runtime)
    token = authority_token(runtime, "073400")
    [batch] = client.get("/api/v1/batches", headers=bearer(token)).json["batches"]
    assert client.post(f"/api/v1/batches/{batch['id']}/ack",
                       headers=bearer(token)).status_code == 200
    [path] = batch_file_names(runtime.settings.xml_out)
    original = unsealed_zip(runtime.settings, path)
    path.unlink()
    monkeypatch.setattr(scheduler, "FILE_GRACE", dt.timedelta(0))

    scheduler.queue_batches(runtime)
    assert not path.exists()

    assert [task.name for task in scheduler.tasks(runtime.settings)
            if task.run is scheduler.write_lost_files and task.every == 3600]
    assert scheduler.write_lost_files(runtime) == 1
    assert unsealed_zip(runtime.settings, path) == original
