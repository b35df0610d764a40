"""Key rotation: re-encrypt stored personal fields with the newest data key, in batches,
then write again the batch files under an older data key (sealed ones use no data key).

Safe while the service runs: each batch is its own transaction, rows already on the newest
key are skipped, and a value is rewritten only if it still holds what was read (so a row
changed meanwhile is simply taken up by the next pass).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, inspect, select, update

from intake import progress
from intake.delivery import batch_files, batches
from intake.documents import store as documents
from intake.progress import Meter
from intake.runtime import Runtime
from intake.store import household_rows, idempotency, mail_rows, models

# Encrypted columns and the context each value is bound to (see household_rows.context).
ENCRYPTED: tuple[tuple[type[models.Base], str, Callable[[Any], str]], ...] = (
    (models.Registration, "data", lambda row: household_rows.context("registration", row.id)),
    (models.Person, "data", lambda row: household_rows.context("person", row.id)),
    (models.Draft, "data", lambda row: f"draft:{row.id}:data"),
    (models.HandOver, "draft_token", lambda row: f"hand_over:{row.token_hash}:draft_token"),
    (models.IdempotencyKey, "status_token", lambda row: idempotency.context(row.key_hash)),
    # Built messages wait here until their batch's retention ends; a batch file lost from
    # disk is written again from them, so they must stay readable when an old key goes.
    (models.MessagePayload, "payload", lambda row: batches.message_context(row.message_id)),
    # An e-mail not yet sent carries the status token it links to.
    (models.Mail, "data", lambda row: mail_rows.context(row.id)),
    (models.Document, "description", lambda row: documents.description_context(row.id)),
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
    """Re-encrypt one column's values not under the key `prefix` names; how many."""
    cipher = runtime.cipher
    column = getattr(model, column_name)
    key_column = inspect(model).primary_key[0]
    key_name = str(key_column.key)
    last = None
    total = 0
    while True:
        with runtime.db.transaction() as session:
            query = session.query(model).filter(~column.startswith(prefix, autoescape=True))
            if last is not None:
                query = query.filter(key_column > last)
            rows = query.order_by(key_column).limit(batch).all()
            for row in rows:
                old = getattr(row, column_name)
                # As bytes: a message's payload is compressed, not text.
                plaintext = cipher.decrypt_bytes(old, context(row))
                new = cipher.encrypt_bytes(plaintext, context(row))
                session.execute(
                    update(model)
                    .where(key_column == getattr(row, key_name), column == old)
                    .values({column_name: new})
                    .execution_options(synchronize_session=False)
                )
        total += len(rows)
        advance(len(rows))
        if len(rows) < batch:
            return total
        last = getattr(rows[-1], key_name)


def _rewrite_batch_files(runtime: Runtime, meter: Meter) -> int:
    """Write again, from the database, every live batch file under an older data key, so
    that the old key can go."""
    cipher, xml_out = runtime.cipher, runtime.settings.xml_out
    with runtime.db.transaction() as session:
        unsealed = session.scalars(select(models.Batch).where(
            models.Batch.erased_at.is_(None), models.Batch.sealed_to.is_(None)
        )).all()
        stale = [found for found in unsealed if batch_files.on_old_data_key(cipher, xml_out, found)]
        for found in progress.each(stale, "writing batch files again", meter=meter):
            batch_files.write(session, cipher, xml_out, found, again=True)
    return len(stale)
