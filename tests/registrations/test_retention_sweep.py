"""The retention sweep a chunk at a time: what it erases, where it resumes, what it costs."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import pathlib
import time
import types
from collections.abc import Iterator

import pytest
from sqlalchemy import event, func, select, update

from intake.dataset.schemas import HouseholdSchema
from intake.delivery import batch_files, batches
from intake.documents import store as documents
from intake.documents.files import Document
from intake.registrations import retention, routing
from intake.runtime import Runtime
from intake.store import household_rows, idempotency, models
from tests.helpers.data import ADULT

RETENTION = dt.timedelta(days=30)
LONG_AGO, LATELY = 40, 2  # days since the authority acknowledged


def stored(runtime: Runtime, count: int, persons: int = 1) -> list[str]:
    """Households as the form stores them: every 2nd with an e-mail address (its mail
    owed), every 3rd under an Idempotency-Key, every 5th with a document. Their ids."""
    household = HouseholdSchema().load({
        **ADULT, "contact": {"email": "olena@example.org"},
        "persons": ADULT["persons"] + [{**ADULT["persons"][0], "role": "child"}] * (persons - 1),
    })
    with runtime.db.transaction() as session:
        authority = routing.route(session, "14467")
        made = []
        for n in range(count):
            item = household_rows.prepare(runtime.cipher, household, authority)
            if n % 2:
                item.mail = item.mail_cipher = None
            if n % 3 == 0:
                key = hashlib.sha256(item.registration["id"].encode()).hexdigest()
                item.idempotency = idempotency.claim(runtime.cipher, key, "0" * 64)
            made.append(item)
        household_rows.write(session, made)
        ids = [item.registration["id"] for item in made]
        for owner in ids[::5]:
            documents.save(session, runtime.cipher, runtime.blobs,
                           Document("application/pdf", b"%PDF-" + owner.encode(), "", 1, None),
                           kind=documents.PROOF, registration_id=owner)
    return ids


def delivered(runtime: Runtime, person_ids: list[str], days_ago: float | None) -> str:
    """The persons' messages in a batch acknowledged `days_ago` (None: not yet), its file
    written; the batch's id."""
    now = dt.datetime.now(dt.UTC)
    with runtime.db.transaction() as session:
        last = session.scalar(select(func.max(models.Batch.sequence))) or 0
        batch = models.Batch(id=models.new_id(), authority_key="073400", sequence=last + 1,
                             created_at=now, count=len(person_ids),
                             acknowledged_at=None if days_ago is None
                             else now - dt.timedelta(days=days_ago))
        session.add(batch)
        session.flush()
        for person in session.scalars(select(models.Person).where(
                models.Person.id.in_(person_ids))):
            message_id = models.new_id()
            xml = f"<nachricht person='{person.id}'/>".encode()
            session.add(models.Message(
                id=message_id, person_id=person.id, registration_id=person.registration_id,
                authority_key="073400", message_uuid=str(models.new_uuid()),
                file_name=f"{person.application_id}.xml",
                sha256=hashlib.sha256(xml).hexdigest(), batch_id=batch.id))
            session.add(models.MessagePayload(
                message_id=message_id, payload=batches.seal(runtime.cipher, message_id, xml)[0]))
        session.flush()
        batch_files.write(session, runtime.cipher, runtime.blobs, runtime.settings.xml_out,
                          batch)
        return batch.id


def persons_of(runtime: Runtime, registration_ids: list[str], position: int | None = None
               ) -> list[str]:
    with runtime.db.read() as session:
        query = select(models.Person.id).where(
            models.Person.registration_id.in_(registration_ids))
        if position is not None:
            query = query.where(models.Person.position == position)
        return list(session.scalars(query))


def sweep(runtime: Runtime, chunk: int) -> int:
    return retention.expire(runtime.db, runtime.cipher, runtime.settings.xml_out, RETENTION,
                            runtime.blobs, chunk=chunk)


def erased(runtime: Runtime) -> set[str]:
    with runtime.db.read() as session:
        return set(session.scalars(select(models.Registration.id).where(
            models.Registration.erased_at.is_not(None))))


def file_of(runtime: Runtime, batch_id: str) -> bool:
    with runtime.db.read() as session:
        batch = session.get(models.Batch, batch_id)
        return batch_files.path(runtime.settings.xml_out, batch).exists()


def test_a_sweep_of_several_chunks_erases_exactly_what_is_past_retention(runtime):
    old = stored(runtime, 8) + stored(runtime, 3, persons=2)
    first = delivered(runtime, persons_of(runtime, old[:6]), LONG_AGO)
    second = delivered(runtime, persons_of(runtime, old[6:]), LONG_AGO)
    # A household whose second person's message is in a batch not acknowledged: it stays.
    [split] = stored(runtime, 1, persons=2)
    delivered(runtime, persons_of(runtime, [split], position=0), LONG_AGO)
    live = delivered(runtime, persons_of(runtime, [split], position=1), None)
    recent_ones = stored(runtime, 2)
    recent = delivered(runtime, persons_of(runtime, recent_ones), LATELY)
    with runtime.db.read() as session:
        counts = dict(session.execute(select(models.Batch.id, models.Batch.count)).all())

    assert sweep(runtime, chunk=3) == 3  # first, second, and the split household's first

    assert erased(runtime) == set(old)
    with runtime.db.read() as session:
        gone = session.scalars(select(models.Batch.id).where(
            models.Batch.erased_at.is_not(None))).all()
        assert set(gone) == set(counts) - {live, recent}
        # Counts and dates stay.
        assert dict(session.execute(select(models.Batch.id, models.Batch.count)).all()) == counts
        for registration in session.scalars(select(models.Registration)):
            wiped = registration.id in old
            assert (registration.data is None) == wiped
            assert registration.reference and registration.created_at
            people = session.scalars(select(models.Person).where(
                models.Person.registration_id == registration.id)).all()
            assert {(p.data is None, p.name_index, p.family_index, p.document_index) == (
                True, None, None, None) for p in people} == {wiped}
        assert session.scalar(select(func.count()).select_from(models.MessagePayload).join(
            models.Message).where(models.Message.registration_id.in_(old))) == 0
        # Messages stay, undated: their batches' erased_at says when they went.
        assert session.execute(select(models.Message.erased_at, models.Batch.erased_at.is_(None))
                               .join(models.Batch).where(models.Message.registration_id.in_(old))
                               ).all() == [(None, False)] * len(persons_of(runtime, old))
        kept = session.scalar(select(func.count()).select_from(models.MessagePayload))
        assert kept == 2 + 2  # the split household's two, the recent two
        mails = session.execute(select(models.Mail.registration_id, models.Mail.failure,
                                       models.Mail.data.is_(None))).all()
        assert {(owner in old, failure, empty) for owner, failure, empty in mails} == {
            (True, "registration erased", True), (False, None, False)}
        assert {owner in old for owner in session.scalars(
            select(models.Document.registration_id))} == {False}
        assert session.scalar(select(func.count()).select_from(models.DocumentBlob)) == len(
            session.scalars(select(models.Document.id)).all())
        tokens = session.execute(select(models.IdempotencyKey.registration_id,
                                        models.IdempotencyKey.status_token.is_(None))).all()
        assert sorted(tokens) == sorted((owner, owner in old) for owner, _ in tokens)
    assert not file_of(runtime, first) and not file_of(runtime, second)
    assert file_of(runtime, live) and file_of(runtime, recent)
    assert sweep(runtime, chunk=3) == 0  # nothing left to do


def test_a_sweep_stopped_after_its_first_chunk_leaves_it_done_and_the_next_ends_it(
        runtime, monkeypatch: pytest.MonkeyPatch):
    ids = stored(runtime, 7)
    batch = delivered(runtime, persons_of(runtime, ids), LONG_AGO)
    remove = documents.remove
    calls = []

    def fails_the_second_time(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("killed")
        return remove(*args, **kwargs)

    monkeypatch.setattr(retention.documents, "remove", fails_the_second_time)

    with pytest.raises(RuntimeError, match="killed"):
        sweep(runtime, chunk=3)

    first = erased(runtime)
    assert len(first) == 3 and first < set(ids)
    with runtime.db.read() as session:
        assert session.get(models.Batch, batch).erased_at is None
        dates = dict(session.execute(select(models.Registration.id, models.Registration.erased_at)
                                     .where(models.Registration.id.in_(first))).all())
        assert session.scalar(select(func.count()).select_from(models.MessagePayload)) == 4
    monkeypatch.setattr(retention.documents, "remove", remove)

    assert sweep(runtime, chunk=3) == 1

    assert erased(runtime) == set(ids)
    with runtime.db.read() as session:
        assert session.get(models.Batch, batch).erased_at is not None
        assert dict(session.execute(select(models.Registration.id, models.Registration.erased_at)
                                    .where(models.Registration.id.in_(first))).all()) == dates
        assert session.scalar(select(func.count()).select_from(models.MessagePayload)) == 0
    assert not file_of(runtime, batch)


def test_a_lost_file_packed_while_a_sweep_stopped_in_its_batch_leaves_the_erased_out(
        runtime, monkeypatch: pytest.MonkeyPatch):
    """The sweep dates a batch, not its messages: a file packed from a snapshot taken
    before a chunk erased some of its people is told stale by the payloads gone."""
    from tests.helpers.pipeline import delivered as in_files

    ids = stored(runtime, 7)
    batch_id = delivered(runtime, persons_of(runtime, ids), LONG_AGO)
    with runtime.db.read() as session:
        path = batch_files.path(runtime.settings.xml_out, session.get(models.Batch, batch_id))
    path.unlink()  # lost: the scheduler packs it again from a snapshot
    pack_into, remove, calls = batches.pack_into, documents.remove, []

    def stops_in_its_second_chunk(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("killed")
        return remove(*args, **kwargs)

    def swept_meanwhile(out, session, *args):  # type: ignore[no-untyped-def]
        pack_into(out, session, *args)  # from the snapshot: all seven
        if not calls:
            with pytest.raises(RuntimeError, match="killed"):
                sweep(runtime, chunk=3)

    monkeypatch.setattr(retention.documents, "remove", stops_in_its_second_chunk)
    monkeypatch.setattr(batches, "pack_into", swept_meanwhile)
    batch_files.write_from_snapshot(runtime.db, runtime.cipher, runtime.blobs,
                                    runtime.settings.xml_out, batch_id)
    monkeypatch.undo()

    gone = erased(runtime)
    assert len(gone) == 3
    with runtime.db.read() as session:
        left = {p.application_id for p in session.scalars(select(models.Person).where(
            models.Person.registration_id.not_in(gone)))}
    assert {name.removesuffix(".xml") for name in in_files(runtime.settings)} == left
    assert len(left) == 4


@contextlib.contextmanager
def statements_per_transaction(runtime: Runtime) -> Iterator[list[int]]:
    """How many statements each transaction ran, in order (commits and rollbacks close one)."""
    counts = [0]

    def counted(*_args: object) -> None:
        counts[-1] += 1

    def closed(*_args: object) -> None:
        counts.append(0)

    engine = runtime.db.engine
    listeners = [("before_cursor_execute", counted), ("commit", closed), ("rollback", closed)]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        yield counts
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)


def test_the_statements_of_a_chunk_do_not_grow_with_the_registrations(runtime):
    chunk = 50
    per_chunk = {}
    for count in (chunk, 10 * chunk):
        ids = stored(runtime, count, persons=2)
        delivered(runtime, persons_of(runtime, ids), LONG_AGO)
        with statements_per_transaction(runtime) as counts:
            assert sweep(runtime, chunk=chunk) == 1
        assert erased(runtime) >= set(ids)
        per_chunk[count] = [n for n in counts if n]

    # The count, then a transaction per chunk (the last sees that nothing is left).
    assert len(per_chunk[chunk]) == 1 + 1
    assert len(per_chunk[10 * chunk]) == 1 + 10
    full, one = per_chunk[10 * chunk][1:], per_chunk[chunk][1]
    # The same, but for the two that delete documents, in a chunk that happens to have none.
    assert max(full) == one and min(full) >= one - 2
    assert one < 25  # a statement or two per table, not per registration


def test_the_statements_of_a_chunk_do_not_grow_with_the_batches_it_spans(runtime):
    """An authority that gets a few households a day has batches of one or two: with a
    statement or two per batch, the sweep erased 1,250 registrations/s at 100,000."""
    ids = stored(runtime, 40)
    one_each = [delivered(runtime, persons_of(runtime, [owner]), LONG_AGO) for owner in ids]

    with statements_per_transaction(runtime) as counts:
        assert sweep(runtime, chunk=25) == 40

    assert erased(runtime) == set(ids)
    assert not any(file_of(runtime, batch) for batch in one_each)
    # The count, the two chunks (25 batches, then the last 15).
    per_chunk = [n for n in counts if n]
    assert len(per_chunk) == 1 + 2 and max(per_chunk[1:]) < 25, per_chunk


def test_a_chunk_asks_for_as_many_batches_as_the_last_one_found_fill_it(runtime):
    """A chunk reads every message of the batches it is given: asked for one batch per
    registration, batches of 2.3 were read 2.3 times over (1.1 of 10.4 s of statements)."""
    ids = stored(runtime, 90)
    for start in range(0, 90, 3):  # thirty batches of three households
        delivered(runtime, persons_of(runtime, ids[start:start + 3]), LONG_AGO)
    loaded = [0]

    def counted(*_args: object) -> None:
        loaded[-1] += 1

    def closed(*_args: object) -> None:
        loaded.append(0)

    event.listen(models.Batch, "load", counted)
    event.listen(runtime.db.engine, "commit", closed)
    try:
        assert sweep(runtime, chunk=15) == 30
    finally:
        event.remove(models.Batch, "load", counted)
        event.remove(runtime.db.engine, "commit", closed)

    assert erased(runtime) == set(ids)
    per_chunk = [n for n in loaded if n]
    # The first asks for one a registration, knowing nothing yet, the others for one in
    # three; each for a fifth more.
    assert per_chunk[0] == 18 and max(per_chunk[1:]) == 6, per_chunk
    assert len(per_chunk) == 6  # chunks of 15 still: 90 registrations


def test_erase_on_request_still_rewrites_a_live_batch_without_the_person(runtime):
    ids = stored(runtime, 2)
    batch = delivered(runtime, persons_of(runtime, ids), None)
    with runtime.db.transaction() as session:
        registration = session.get(models.Registration, ids[0])
        person = registration.persons[0]
        retention.erase(session, registration, runtime.cipher, runtime.settings.xml_out,
                        runtime.blobs)
        # What the caller holds is read again: erased, as the rows are.
        assert registration.data is None and registration.erased_at is not None
        assert person.data is None and person.name_index is None

    from tests.helpers.pipeline import delivered as in_files

    assert [name.removesuffix(".xml") for name in in_files(runtime.settings)] == \
        persons_application_ids(runtime, [ids[1]])
    with runtime.db.transaction() as session:
        session.execute(update(models.Batch).where(models.Batch.id == batch).values(
            acknowledged_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=LONG_AGO)))
    assert sweep(runtime, chunk=1) == 1
    assert erased(runtime) == set(ids) and not file_of(runtime, batch)


def persons_application_ids(runtime: Runtime, registration_ids: list[str]) -> list[str]:
    with runtime.db.read() as session:
        return list(session.scalars(select(models.Person.application_id).where(
            models.Person.registration_id.in_(registration_ids))))


def files_of_60_batches(folder: pathlib.Path) -> tuple[list[types.SimpleNamespace], list[pathlib.Path]]:
    """Sixty batches of one authority and every name their files may have, none written."""
    batches = [types.SimpleNamespace(authority_key="073400", id=f"b{number:03}")
               for number in range(60)]
    (folder / "073400").mkdir()
    return batches, [name for batch in batches for name in batch_files._names(folder, batch)]


def test_a_sweeps_files_are_all_gone_after_its_block_and_those_not_begun_stay_if_it_fails(
        tmp_path, monkeypatch: pytest.MonkeyPatch):
    batches, files = files_of_60_batches(tmp_path)
    for name in files[::2]:  # of a batch's three names, a file has one or two
        name.write_bytes(b"sealed")

    with batch_files.removing(tmp_path, batches):
        pass
    assert not list((tmp_path / "073400").iterdir())

    for name in files:
        name.write_bytes(b"sealed")
    unlink = pathlib.Path.unlink

    def slow(path: pathlib.Path, missing_ok: bool = False) -> None:
        time.sleep(0.05)  # a big file's blocks being freed
        unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(pathlib.Path, "unlink", slow)
    with pytest.raises(RuntimeError, match="statement failed"), \
            batch_files.removing(tmp_path, batches):
        raise RuntimeError("statement failed")
    # Each thread finished the file it was on, and began no other.
    assert len(list((tmp_path / "073400").iterdir())) >= len(files) - 2 * batch_files.REMOVERS


def test_a_file_that_cannot_be_removed_stops_the_other_threads_and_fails_the_chunk(
        tmp_path, monkeypatch: pytest.MonkeyPatch):
    batches, files = files_of_60_batches(tmp_path)
    for name in files:
        name.write_bytes(b"sealed")
    unlink = pathlib.Path.unlink

    def refused(path: pathlib.Path, missing_ok: bool = False) -> None:
        time.sleep(0.05)
        if path == files[0]:
            raise PermissionError("read-only file system")
        unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(pathlib.Path, "unlink", refused)
    with pytest.raises(PermissionError), batch_files.removing(tmp_path, batches):
        pass  # the statements succeeded; the commit must not come
    # The other threads stopped too, each after the file it was on.
    assert len(list((tmp_path / "073400").iterdir())) >= len(files) - 2 * batch_files.REMOVERS


def test_a_sweep_told_to_stop_ends_after_the_chunk_it_is_in(runtime):
    """The scheduler stopping (Ctrl-C, its deadline) mid-sweep: the chunk under way commits,
    no later one starts, and the next sweep goes on from there."""
    ids = stored(runtime, 7)
    batch = delivered(runtime, persons_of(runtime, ids), LONG_AGO)
    asked = []

    def stopping() -> bool:
        asked.append(len(erased(runtime)))
        return len(asked) > 1  # after the first chunk

    assert retention.expire(runtime.db, runtime.cipher, runtime.settings.xml_out, RETENTION,
                            runtime.blobs, chunk=3, stopping=stopping) == 0

    assert asked == [0, 3] and len(erased(runtime)) == 3
    with runtime.db.read() as session:  # four of its batch are left
        assert session.get(models.Batch, batch).erased_at is None
    assert sweep(runtime, chunk=3) == 1
    assert erased(runtime) == set(ids)
