"""Key rotation: re-encrypt stored personal fields with the newest data key, in batches,
then write again the batch files under an older data key (sealed ones use no data key).

Safe while the service runs: each page of rows is written in its own short transaction,
rows already on the newest key are skipped (so a stopped rotation goes on where it stopped),
and a value is rewritten only if it still holds what was read (so a row changed meanwhile
is simply taken up by the next pass).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, func, select, update

from intake import progress
from intake.delivery import batch_files, batches
from intake.delivery.files import put_in_place
from intake.documents import store as documents
from intake.parts import by_size
from intake.progress import Meter
from intake.runtime import Runtime
from intake.security.crypto import DecryptionError
from intake.store import household_rows, idempotency, mail_rows, models

# New values written in one transaction at most (about: a value is never split).
WRITE_BYTES = 2**20

# Encrypted columns and the context each value is bound to (see household_rows.context),
# made from the row's primary key: the rotation reads no more of a row than key and value.
ENCRYPTED: tuple[tuple[type[models.Base], str, Callable[[Any], str]], ...] = (
    (models.Registration, "data", lambda key: household_rows.context("registration", key)),
    (models.Person, "data", lambda key: household_rows.context("person", key)),
    (models.Draft, "data", lambda key: f"draft:{key}:data"),
    (models.HandOver, "draft_token", lambda key: f"hand_over:{key}:draft_token"),
    (models.IdempotencyKey, "status_token", idempotency.context),
    # Built messages wait here until their batch's retention ends; a batch file lost from
    # disk is written again from them, so they must stay readable when an old key goes.
    (models.MessagePayload, "payload", batches.message_context),
    # An e-mail not yet sent carries the status token it links to.
    (models.Mail, "data", mail_rows.context),
    (models.Document, "description", documents.description_context),
)


def rotate(runtime: Runtime, batch: int = 500, meter: Meter = progress.silent) -> tuple[int, int]:
    """Re-encrypt every value not yet under the current key, documents' content included
    (wherever it is kept), then the batch files; returns how many values (a document's
    content counts as one) and how many files were rewritten."""
    prefix = f"{runtime.cipher.current_key_id}."
    with meter("re-encrypting values", _not_under(runtime, prefix)) as advance:
        total = sum(_rotate_column(runtime, *encrypted, prefix, batch, advance)
                    for encrypted in ENCRYPTED)
    total += documents.rotate(runtime.db, runtime.cipher, runtime.blobs, meter=meter)
    return total, _rewrite_batch_files(runtime, meter)


def _not_under(runtime: Runtime, prefix: str) -> int:
    """How many values are under another key than the one `prefix` names."""
    with runtime.db.read() as session:
        return sum(
            session.scalar(select(func.count()).select_from(model).where(
                ~getattr(model, column_name).startswith(prefix, autoescape=True))) or 0
            for model, column_name, _context in ENCRYPTED
        )


def _rotate_column(
    runtime: Runtime, model: type[models.Base], column_name: str,
    context: Callable[[Any], str], prefix: str, batch: int, advance: progress.Advance,
) -> int:
    """Re-encrypt one column's values not under the key `prefix` names; how many.

    A page at a time, each in three steps: read the keys and values (a read transaction,
    which waits for no writer), decrypt and encrypt them outside any transaction, then write
    them with one statement (executemany) in a short write transaction: on SQLite the one
    write slot, which registrations wait for, is held for the writing alone. A value is
    written only where it still holds what was read: one changed meanwhile is left as the
    service wrote it (under the current key, or for the next rotation).
    """
    cipher = runtime.cipher
    table = models.table(model)
    key, column = table.primary_key.columns[0], table.c[column_name]
    # Keyset pagination, in the primary key's order: every page walks the key's index from
    # where the last one ended, so it costs the same at the millionth row as at the first.
    owed = select(key, column).where(
        ~column.startswith(prefix, autoescape=True)).order_by(key).limit(batch)
    # Parameter names unlike any column's: SQLAlchemy reserves those for the SET clause.
    write = (update(table)
             .where(key == bindparam("at_key"), column == bindparam("read_value"))
             .values({column_name: bindparam("new_value")}))
    last: Any = None
    total = 0
    while True:
        with runtime.db.read() as session:
            rows = session.execute(owed if last is None else owed.where(key > last)).all()
        if not rows:
            return total
        changed = []
        for at, old in rows:
            bound = context(at)
            # As bytes: a message's payload is compressed, not text.
            new = cipher.encrypt_again(old, bound)
            changed.append({"at_key": at, "read_value": old, "new_value": new})
        # A page of messages stored with their summary PDF (before 2026-12-07) holds some
        # 10 MB: written at once, on SQLite it held the write lock for seconds while
        # registrations waited (their p99 3.3 s during rotation at 100,000 registrations).
        for part in by_size(changed, lambda value: len(value["new_value"]), WRITE_BYTES):
            with runtime.db.transaction() as session:
                total += session.connection().execute(write, part).rowcount
        advance(len(rows))
        if len(rows) < batch:
            return total
        last = rows[-1][0]


def _rewrite_batch_files(runtime: Runtime, meter: Meter) -> int:
    """Encrypt every live batch file under an older data key again with the newest, so
    that the old key can go: each as it is, aside and outside any transaction (a file of
    100 MB takes a second, and on SQLite registrations wait for a writer), then put in place
    in a short transaction that locks its batch, as an erasure writing the file does. A
    file replaced meanwhile (an erasure wrote it, under the newest key) stays as it is; one
    that does not open is written again from the database."""
    cipher, xml_out = runtime.cipher, runtime.settings.xml_out
    with runtime.db.read() as session:
        unsealed = session.scalars(select(models.Batch).where(
            models.Batch.erased_at.is_(None), models.Batch.sealed_to.is_(None))).all()
    stale = [found for found in unsealed if batch_files.on_old_data_key(cipher, xml_out, found)]
    for found in progress.each(stale, "writing batch files again", meter=meter):
        source = batch_files.path(xml_out, found)
        read = batch_files.identity(source)
        try:
            aside = batch_files.encrypt_again(cipher, xml_out, found)
        except DecryptionError:
            aside = None
        try:
            with runtime.db.transaction() as session:
                batch = session.get(models.Batch, found.id, with_for_update=True)
                if batch is None or batch.erased_at is not None:
                    continue
                if aside is None:
                    batch_files.write(session, cipher, runtime.blobs, xml_out, batch, again=True)
                elif batch_files.identity(source) == read:
                    put_in_place(aside, source)
        finally:
            if aside is not None:
                aside.unlink(missing_ok=True)
    return len(stale)
