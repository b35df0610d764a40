"""Authority batches: every message in exactly one batch, files that appear whole, then forgotten.

`assemble` moves pending messages into a new batch with one conditional UPDATE (a message
already in a batch is never taken again), numbering batches per authority without gaps.
The zip is made from the database alone and deterministically, so it can be written again
after any crash and always says the same thing; `batch_files` writes it, never in the clear.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
import zlib
from collections.abc import Sequence

from sqlalchemy import Row, func, select, update
from sqlalchemy.orm import Session

from intake.security.crypto import FieldCipher
from intake.store import models

MAX_MESSAGES = 5000
# A message as a batch file is made from it: id, file name, sealed payload (None once
# erased), sha256 of its XML.
StoredMessage = Row[str, str, str | None, str]


def message_context(message_id: str) -> str:
    """Associated data for a message's encrypted payload."""
    return f"message:{message_id}:payload"


def seal(cipher: FieldCipher, message_id: str, xml: bytes) -> str:
    """A message's payload as stored: compressed, then encrypted.

    Compressed, a message takes under a third of the bytes. On SQLite every stored byte
    passes the one write lock, into the log and then the database file, while
    registrations wait.
    """
    return cipher.encrypt_bytes(zlib.compress(xml), message_context(message_id))


def unseal(cipher: FieldCipher, message_id: str, payload: str) -> bytes:
    """The XML of a stored payload; also of one stored uncompressed, as before 2026-11-30."""
    plaintext = cipher.decrypt_bytes(payload, message_context(message_id))
    return plaintext if plaintext.startswith(b"<") else zlib.decompress(plaintext)


def pending(session: Session, authority_key: str) -> int:
    return int(session.scalar(
        select(func.count()).select_from(models.Message).where(
            models.Message.authority_key == authority_key, models.message_waiting()
        )
    ) or 0)


def assemble(
    session: Session, authority_key: str, now: dt.datetime, limit: int = MAX_MESSAGES
) -> models.Batch | None:
    """Put up to `limit` pending messages of an authority into a new batch (None if none wait)."""
    # One assembly at a time per authority: sequence numbers without gaps or twins. The lock
    # also orders assembly after a key change (authorities.keys), whose key the batch takes.
    authority = session.get(models.Authority, authority_key, with_for_update=True)
    last = session.scalar(
        select(func.max(models.Batch.sequence)).where(models.Batch.authority_key == authority_key)
    )
    batch = models.Batch(
        id=models.new_id(), authority_key=authority_key, sequence=(last or 0) + 1,
        created_at=now, count=0,
        sealed_to=authority.public_key_thumbprint if authority is not None else None,
    )
    session.add(batch)
    session.flush()
    waiting = (
        select(models.Message.id)
        .where(models.Message.authority_key == authority_key, models.message_waiting())
        .order_by(models.Message.created_at, models.Message.id)
        .limit(limit)
        .scalar_subquery()
    )
    taken = session.execute(
        update(models.Message)
        .where(models.Message.id.in_(waiting), models.Message.batch_id.is_(None))
        .values(batch_id=batch.id)
        .execution_options(synchronize_session=False)
    )
    batch.count = int(taken.rowcount or 0)  # type: ignore[attr-defined]
    if batch.count == 0:
        session.delete(batch)
        return None
    return batch


def contents(session: Session, batch: models.Batch) -> Sequence[StoredMessage]:
    """The stored messages of a batch, as `pack` takes them."""
    table, payloads = models.Message, models.MessagePayload
    return session.execute(  # rows, not ORM objects: a batch holds thousands
        select(table.id, table.file_name, payloads.payload, table.sha256)
        .outerjoin(payloads, payloads.message_id == table.id)
        .where(table.batch_id == batch.id)
        .order_by(table.file_name)
    ).all()


def pack(cipher: FieldCipher, batch: models.Batch, messages: Sequence[StoredMessage]) -> bytes:
    """The batch as a zip: one XML file per message and manifest.json, byte for byte stable
    for the same messages. A message erased since (retention, or on request) leaves the
    file too, and the manifest counts what it holds."""
    created = batch.created_at if batch.created_at.tzinfo else batch.created_at.replace(
        tzinfo=dt.UTC
    )
    stamp = created.timetuple()[:6]
    members = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zipped:
        for message in messages:
            if message.payload is None:
                continue  # erased since (on request, or retention): it leaves the file too
            xml = unseal(cipher, message.id, message.payload)
            digest = hashlib.sha256(xml).hexdigest()
            if digest != message.sha256:
                raise ValueError(f"message {message.id} does not match its checksum")
            zipped.writestr(zipfile.ZipInfo(message.file_name, stamp), xml)
            members.append({"name": message.file_name, "sha256": digest})
        manifest = {
            "batch_id": batch.id,
            "authority": batch.authority_key,
            "sequence": batch.sequence,
            "created": created.isoformat(timespec="milliseconds"),
            "count": len(members),
            "members": members,
        }
        zipped.writestr(
            zipfile.ZipInfo("manifest.json", stamp),
            json.dumps(manifest, indent=2, sort_keys=True).encode(),
        )
    return buffer.getvalue()


def archive(session: Session, cipher: FieldCipher, batch: models.Batch) -> bytes:
    """The batch's zip, from the database alone."""
    return pack(cipher, batch, contents(session, batch))
