"""Forgetting: personal data is deleted when its purpose ends; counts and dates remain.

A registration's purpose ends a set time after the authority acknowledged the batches that
carry all its messages, or at once on request (`intake erase REFERENCE`). Erased, a person
leaves the batch files the service still holds too.

One implementation erases one registration or a chunk of them (`_erase`): a statement per
table for the whole chunk. The sweep (`expire`) goes through the batches past retention a
chunk of registrations at a time, each chunk its own transaction, and marks a batch erased
in the transaction that takes its last registrations: a sweep that stops part-way (killed,
a failed commit) leaves whole chunks done, and the next one finds the rest where it was.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, false, func, or_, select, tuple_, update
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql import Executable

from intake import progress
from intake.delivery import batch_files
from intake.documents import store as documents
from intake.documents.blobs import Blobs
from intake.security.crypto import FieldCipher
from intake.store import blind_index, idempotency, models
from intake.store.database import Database, one_of

# Registrations erased per transaction by a sweep. A chunk runs a fixed dozen statements,
# so a larger one costs less a registration, but holds SQLite's one write lock longer, with
# registrations waiting behind it: 1,000 took 0.1-0.2 s. On PostgreSQL the rows' index
# entries take the time, not the statements: 1.65 s of server CPU for 10,000 registrations
# in chunks of 1,000, 1.54 s in chunks of 2,000.
CHUNK = 1000


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def erase(
    session: Session, registration: models.Registration, cipher: FieldCipher, xml_out: Path,
    blobs: Blobs,
) -> None:
    """Delete a registration's personal data: fields, indexes, messages' payloads, its
    documents (rows and content), and its messages in the batch files still held (written
    again without them)."""
    _erase(session, [registration.id], cipher, xml_out, blobs, _now())
    # The statements went past the objects the caller may hold (_erase): read again.
    for held in list(session.identity_map.values()):
        if held is registration or getattr(held, "registration_id", None) == registration.id:
            session.expire(held)


def _erase(
    session: Session, ids: Sequence[str], cipher: FieldCipher, xml_out: Path, blobs: Blobs,
    now: dt.datetime, past: dt.datetime | None = None,
) -> None:
    """Erase the registrations `ids`, in the caller's transaction. A batch file carrying
    them is written again without them, unless its batch was acknowledged before `past`:
    the sweep erases that batch, file and all. With `past` (the sweep), every message of
    the registrations is in such a batch."""
    dialect = session.get_bind().dialect.name

    def among(column: QueryableAttribute[Any]) -> ColumnElement[bool]:
        return one_of(dialect, column, ids)

    def run(statement: Executable) -> None:
        # Not synchronized with the session's objects: with the ids bound as one
        # parameter the ORM cannot tell which objects a statement changes, and would
        # fetch every changed row's key to find out (a SELECT or RETURNING of the chunk).
        session.execute(statement, execution_options={"synchronize_session": False})

    # erased_at stays the first erasure's: erasing again changes no date.
    run(update(models.Registration)
        .where(among(models.Registration.id), models.Registration.erased_at.is_(None))
        .values(data=None, email_index=None, erased_at=now))
    # Mails not sent yet carry a status link: they are not sent now (delivery.mail).
    run(update(models.Mail)
        .where(among(models.Mail.registration_id), models.Mail.pending())
        .values(data=None, failed_at=now, failure="registration erased"))
    run(update(models.Person)
        .where(among(models.Person.registration_id))
        .values(data=None, **dict.fromkeys(blind_index.COLUMNS)))
    messages = select(models.Message.id).where(among(models.Message.registration_id))
    run(delete(models.MessagePayload).where(models.MessagePayload.message_id.in_(messages)))
    if past is None:
        # A sweep's registrations have their every message in a batch it erases whole, and
        # the batch's erased_at dates them: dating each message again was the sweep's
        # costliest statement on PostgreSQL (a column of a partial index's condition: no
        # update in place; 4.2 of 15.3 s for 30,000 registrations at 100,000). What tells
        # a batch file's content is the payloads left (batch_files._erased_in).
        run(update(models.Message)
            .where(among(models.Message.registration_id), models.Message.erased_at.is_(None))
            .values(erased_at=now))
    idempotency.forget_tokens(session, among(models.IdempotencyKey.registration_id))
    # Objects go before the commit, like the batch files below: a failed commit leaves a
    # row without its content, never content after `intake erase` said done.
    documents.remove(session, blobs, among(models.Document.registration_id))
    # Written again inside the transaction: a failed commit leaves a file short of a message
    # the database still holds (written whole at the next erasure, key change or rotation),
    # never the reverse, a person still in a file after `intake erase` said done. Once per
    # chunk, however many of the chunk's people a file carries.
    past_retention = false() if past is None else models.Batch.acknowledged_at < past
    # Locked, as key rotation locks a batch whose file it encrypts again: one waits for the
    # other, and neither puts back a file the other replaced.
    carriers = session.execute(select(models.Batch, past_retention).where(
        models.Batch.erased_at.is_(None),
        models.Batch.id.in_(select(models.Message.batch_id).where(
            among(models.Message.registration_id))),
    ).order_by(models.Batch.id).with_for_update(of=models.Batch)).all()
    with batch_files.removing(xml_out, [batch for batch, gone in carriers if gone]):
        for batch, gone in carriers:
            if not gone:
                batch_files.write(session, cipher, blobs, xml_out, batch, again=True)


def expire(
    db: Database, cipher: FieldCipher, xml_out: Path, retention: dt.timedelta, blobs: Blobs,
    meter: progress.Meter = progress.silent, chunk: int | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> int:
    """Erase batches acknowledged longer than `retention` ago, and their registrations whose
    messages are all in such batches; how many batches. A transaction per `chunk`
    registrations (CHUNK); after each, ends early if `stopping()` (the scheduler stopping:
    the next sweep goes on from there)."""
    cutoff = _now() - retention
    with db.read() as session:
        total = session.scalar(
            select(func.count()).select_from(models.Batch).where(_past(cutoff))) or 0
    if not total:
        return 0
    cursor = _Cursor()
    erased = 0
    with meter("erasing batches past retention", total) as advance:
        while not cursor.done and not stopping():
            with db.transaction() as session:
                finished = _sweep_chunk(session, cursor, cutoff, chunk or CHUNK,
                                        cipher, xml_out, blobs)
            erased += finished
            advance(finished)
    return erased


@dataclass
class _Cursor:
    """How far a sweep has got: in the batch `batch_id` (past retention, the batches in
    the order of their ids), past the registration `after` (its created_at and id)."""

    batch_id: str = ""
    after: tuple[dt.datetime, str] | None = None
    done: bool = False
    # Registrations not erased yet a batch carried in the last chunk: the next asks for as
    # many batches as that says will fill it (_sweep_chunk).
    per_batch: float = 1.0


def _sweep_chunk(
    session: Session, cursor: _Cursor, cutoff: dt.datetime, size: int, cipher: FieldCipher,
    xml_out: Path, blobs: Blobs,
) -> int:
    """Erase the next `size` registrations of the batches past the cutoff, and the batches
    whose last registrations they are; how many batches. Moves the cursor on.

    A statement or two for the chunk, however many batches it spans: an authority that gets
    a few households a day has batches of one or two, and a statement per batch made the
    sweep's time (1,250 registrations/s at 100,000, bench/SCALE.md of 2026-12-07).
    """
    dialect, now = session.get_bind().dialect.name, _now()
    # Batches enough to fill the chunk at the last chunk's rate, and a fifth more: the read
    # below takes every message of the batches it is given, and with a batch asked for each
    # registration, batches of 2.3 (the scale bench's) were read 2.3 times over (PostgreSQL,
    # 30,000 at 100,000: 1,994 registrations/s, 2,370/s asking for half as many batches).
    wanted = max(1, math.ceil(size / cursor.per_batch * 1.2))
    batches = session.scalars(
        select(models.Batch).where(_past(cutoff), models.Batch.id >= cursor.batch_id)
        .order_by(models.Batch.id).limit(wanted)).all()
    if not batches:
        cursor.done = True
        return 0
    if batches[0].id != cursor.batch_id:
        cursor.batch_id, cursor.after = batches[0].id, None
    message, registration = models.Message, models.Registration
    order = (message.batch_id, registration.created_at, registration.id)
    # Registrations not erased yet, batch by batch in the order they were stored, past the
    # cursor in its batch: however far a sweep got before it stopped, the next reads no more
    # than a chunk. In that order a chunk's rows lie together (tables keep rows in the order
    # they came), and its statements write a few pages, not a page a row.
    rows = session.execute(
        select(*order).distinct()
        .join(message, message.registration_id == registration.id)
        .where(one_of(dialect, message.batch_id, [batch.id for batch in batches]),
               registration.erased_at.is_(None),
               *([] if cursor.after is None else [or_(
                   message.batch_id != cursor.batch_id,
                   tuple_(registration.created_at, registration.id) > cursor.after)]))
        .order_by(*order).limit(size + 1)
    ).all()
    taken = rows[:size]
    if spanned := len({row.batch_id for row in taken}):
        cursor.per_batch = len(taken) / spanned
    finished = list(batches)
    # Fewer batches than asked for, all ended here: none is left past this sweep's cutoff.
    cursor.done = len(batches) < wanted and len(rows) <= size
    if len(rows) > size:  # the chunk ends inside this batch: it goes in a later one
        open_batch = rows[size].batch_id
        finished = [batch for batch in batches if batch.id < open_batch]
        in_it = [row for row in taken if row.batch_id == open_batch]
        if open_batch != cursor.batch_id or in_it:
            cursor.batch_id = open_batch
            cursor.after = (in_it[-1].created_at, in_it[-1].id) if in_it else None
    if finished:  # before the erasure, which writes again the files still held, not these
        # Locks the batches (on PostgreSQL), before their files go: a rotation or a repair
        # putting a file in place holds its batch's lock, and finishes first or sees it erased.
        session.execute(update(models.Batch)
                        .where(one_of(dialect, models.Batch.id, [b.id for b in finished]))
                        .values(erased_at=now),
                        execution_options={"synchronize_session": False})
    # The finished batches' files go in threads while the statements run; all are gone
    # before the commit, as an erasure's are.
    with batch_files.removing(xml_out, finished):
        due = _all_delivered_before(session, list(dict.fromkeys(row.id for row in taken)),
                                    cutoff)
        if due:
            _erase(session, due, cipher, xml_out, blobs, now, past=cutoff)
    return len(finished)


def _all_delivered_before(
    session: Session, ids: Sequence[str], cutoff: dt.datetime
) -> list[str]:
    """Those of the registrations whose every person has a message, in a batch acknowledged
    before the cutoff.

    Two lookups by key, not one statement joining the batches: PostgreSQL's statistics,
    taken before the batches grew old, say that almost none is past the cutoff, and it
    scanned them all for every person (1.4 s a chunk of 1,000 at 100,000 registrations)."""
    if not ids:
        return []
    dialect = session.get_bind().dialect.name
    carried = session.execute(
        select(models.Person.registration_id, models.Message.batch_id)
        .outerjoin(models.Message, models.Message.person_id == models.Person.id)
        .where(one_of(dialect, models.Person.registration_id, ids))).all()
    batch_ids = sorted({row.batch_id for row in carried if row.batch_id is not None})
    # Compared in the columns, not the WHERE, for the same reason: selected by key alone,
    # the batches are looked up by key however old the statistics. (Other statements of a
    # chunk still want statistics: docs/operating.md, autovacuum.)
    past = {batch_id for batch_id, gone in session.execute(
        select(models.Batch.id, models.Batch.acknowledged_at < cutoff)
        .where(one_of(dialect, models.Batch.id, batch_ids))) if gone}
    owed = {row.registration_id for row in carried if row.batch_id not in past}
    return sorted({row.registration_id for row in carried} - owed)


def _past(cutoff: dt.datetime) -> ColumnElement[bool]:
    """Batches acknowledged before the cutoff and not erased yet."""
    return and_(models.Batch.acknowledged_at < cutoff, models.Batch.erased_at.is_(None))
