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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Row, func, or_, select, update
from sqlalchemy.orm import Session

from intake.delivery import references
from intake.documents.blobs import Blobs
from intake.parts import by_size
from intake.security.crypto import FieldCipher
from intake.store import models, packing

MAX_MESSAGES = 5000
ZIP_LEVEL = 6  # deflate's level in batch files; `seal` counts a member's bytes at it
MAX_BYTES = 200 * 10**6  # a batch file's bound by default (Settings.batch_max_bytes)
# Stored payload bytes read at a time while packing a batch: what one file write holds.
GROUP_BYTES = 16 * 2**20
# A message as a batch file is made from it: id, file name, sealed payload (None once
# erased), sha256 of its XML, its registration (whose documents it names: references).
StoredMessage = Row[str, str, str | None, str, str]


def message_context(message_id: str) -> str:
    """Associated data for a message's encrypted payload."""
    return f"message:{message_id}:payload"


# Two built messages (a child's and an applicant's, of a fictitious family): the shape a
# message is packed against (store.packing). Never changed: stored payloads name it.
MESSAGE_DICTIONARY = (Path(__file__).with_name("message_dictionary.xml")).read_bytes()
# Past this, a message still carries content (a document no reference names): what is left
# of it after deflate is that content's, which no dictionary shortens, so it is deflated alone.
_PACKED_BELOW = 64 * 1024


def seal(cipher: FieldCipher, message_id: str, xml: bytes,
         kept: Mapping[bytes, str] | None = None) -> tuple[str, int]:
    """A message's payload as stored, and the bytes it will take in its batch file (deflated
    there on its own, in base64): with the enclosures `kept` holds named, not carried
    (`references.detach`), compressed, then encrypted.

    Compressed, a message takes under a third of the bytes, against a dictionary of its
    shape a sixth of that. On SQLite every stored byte passes the one write lock, into the
    log and then the database file, while registrations wait.
    """
    deflated = zlib.compress(xml, ZIP_LEVEL)  # as its batch file will hold it
    stored = references.detach(xml, kept) if kept else xml
    # A message that still carries documents is stored deflated alone: the same bytes.
    body = deflated if stored is xml and len(xml) >= _PACKED_BELOW else packed(stored)
    return cipher.encrypt_bytes(body, message_context(message_id)), _in_base64(deflated)


def packed(xml: bytes) -> bytes:
    """What `seal` encrypts of a message (its enclosures detached)."""
    if len(xml) < _PACKED_BELOW:
        return packing.pack(xml, MESSAGE_DICTIONARY)
    return zlib.compress(xml, ZIP_LEVEL)


def file_bytes(xml: bytes) -> int:
    """The bytes a message takes in its batch file: deflated at ZIP_LEVEL, in base64."""
    return _in_base64(zlib.compress(xml, ZIP_LEVEL))


def _in_base64(deflated: bytes) -> int:
    return (len(deflated) + 2) // 3 * 4


def unseal(cipher: FieldCipher, message_id: str, payload: str) -> bytes:
    """The XML of a stored payload, its enclosures still named (`Kept.attach`); also of
    one stored uncompressed, as before 2026-11-30, or deflated alone, as before 2026-12-07."""
    plaintext = cipher.decrypt_bytes(payload, message_context(message_id))
    return packing.unpack(plaintext, (MESSAGE_DICTIONARY,))


# What a message adds to a batch file beyond its stored payload (which is its compressed XML
# in base64, as the sealed file holds the zip): two zip headers, a data descriptor, its name
# twice and its manifest line, in base64. The file's own header and end are in FILE_BYTES.
MEMBER_BYTES, FILE_BYTES = 512, 64 * 1024


def _file_bytes(payload: Any) -> Any:
    """What a message adds to its batch file, from its stored payload's size (SQL): as
    recorded, else (stored before migration 0018) counted, which reads the payload."""
    stored = func.coalesce(models.Message.stored_bytes, func.length(payload), 0)
    return stored + MEMBER_BYTES


def pending(session: Session, authority_key: str) -> int:
    return int(session.scalar(
        select(func.count()).select_from(models.Message).where(
            models.Message.authority_key == authority_key, models.message_waiting()
        )
    ) or 0)


def pending_bytes(session: Session, authority_key: str) -> int:
    """What the authority's waiting messages would add to batch files."""
    return int(session.scalar(
        select(func.sum(_file_bytes(models.MessagePayload.payload)))
        .select_from(models.Message)
        .outerjoin(models.MessagePayload,
                   models.MessagePayload.message_id == models.Message.id)
        .where(models.Message.authority_key == authority_key, models.message_waiting())
    ) or 0)


def assemble(
    session: Session, authority_key: str, now: dt.datetime, limit: int = MAX_MESSAGES,
    max_bytes: int = MAX_BYTES,
) -> models.Batch | None:
    """Put up to `limit` pending messages of an authority, oldest first, into a new batch
    whose file stays within `max_bytes` (a single larger message goes alone); None if none
    wait."""
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
    message, payloads = models.Message, models.MessagePayload
    oldest = (
        select(message.id, message.created_at, _file_bytes(payloads.payload).label("size"))
        .outerjoin(payloads, payloads.message_id == message.id)
        .where(message.authority_key == authority_key, models.message_waiting())
        .order_by(message.created_at, message.id)
        .limit(limit)
        .subquery()
    )
    order = (oldest.c.created_at, oldest.c.id)
    running = select(
        oldest.c.id,
        func.sum(oldest.c.size).over(order_by=order).label("upto"),
        func.row_number().over(order_by=order).label("place"),
    ).subquery()
    waiting = (
        select(running.c.id)
        .where(or_(running.c.place == 1, running.c.upto <= max_bytes - FILE_BYTES))
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


def contents(
    session: Session, batch: models.Batch, message_ids: Sequence[str] | None = None
) -> Sequence[StoredMessage]:
    """The stored messages of a batch (those of `message_ids`), as `Packer.add` takes them."""
    table, payloads = models.Message, models.MessagePayload
    query = (  # rows, not ORM objects: a batch holds thousands
        select(table.id, table.file_name, payloads.payload, table.sha256,
               table.registration_id)
        .outerjoin(payloads, payloads.message_id == table.id)
        .where(table.batch_id == batch.id)
        .order_by(table.file_name)
    )
    if message_ids is not None:
        query = query.where(table.id.in_(message_ids))
    return session.execute(query).all()


class Packer:
    """Writes a batch's zip to a stream member by member, as the messages come (`add`), and
    the manifest and directory at the end (`finish`): a batch of hundreds of megabytes is
    never whole in memory. Byte for byte stable for the same messages.

    The stream is written to only (no seek, no tell: it is encrypted as it goes), so every
    member has its sizes and CRC in a data descriptor after its data, as zip allows.
    """

    def __init__(self, cipher: FieldCipher, batch: models.Batch, out: BinaryIO) -> None:
        created = batch.created_at if batch.created_at.tzinfo else batch.created_at.replace(
            tzinfo=dt.UTC
        )
        self._cipher, self._batch, self._created = cipher, batch, created
        self._stamp = created.timetuple()[:6]
        self._members: list[dict[str, str]] = []
        self._zip = zipfile.ZipFile(_WriteOnly(out), "w")

    def add(self, messages: Sequence[StoredMessage],
            kept: references.Kept = references.NOTHING_KEPT) -> None:
        """Add messages in order, with the enclosures they name from `kept`. A message
        erased since (retention, or on request) leaves the file too, and the manifest
        counts what it holds."""
        for message in messages:
            if message.payload is None:
                continue
            xml = kept.attach(self._cipher, message.id, message.registration_id,
                              unseal(self._cipher, message.id, message.payload))
            digest = hashlib.sha256(xml).hexdigest()
            if digest != message.sha256:
                raise ValueError(f"message {message.id} does not match its checksum")
            # Deflated at the level the payload was stored with, so its stored size tells
            # the member's (`assemble`'s bound). A ZipInfo alone would be stored as it is:
            # releases before 2026-12-07 wrote the messages uncompressed.
            self._zip.writestr(zipfile.ZipInfo(message.file_name, self._stamp), xml,
                               compress_type=zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL)
            self._members.append({"name": message.file_name, "sha256": digest})

    def finish(self) -> None:
        """Write manifest.json and the zip's directory."""
        manifest = {
            "batch_id": self._batch.id,
            "authority": self._batch.authority_key,
            "sequence": self._batch.sequence,
            "created": self._created.isoformat(timespec="milliseconds"),
            "count": len(self._members),
            "members": self._members,
        }
        self._zip.writestr(
            zipfile.ZipInfo("manifest.json", self._stamp),
            json.dumps(manifest, indent=2, sort_keys=True).encode(),
        )
        self._zip.close()


class _WriteOnly:
    """`out` without seek or tell, whatever it is: zipfile then writes data descriptors, so
    a zip in memory (`archive`) is the same bytes as one written through encryption."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out

    def write(self, data: bytes) -> int:
        self._out.write(data)
        return len(data)

    def flush(self) -> None:
        self._out.flush()

    def close(self) -> None:
        """Nothing: whoever opened `out` closes it (zipfile leaves a passed stream open)."""


def groups(session: Session, batch: models.Batch, most_bytes: int = GROUP_BYTES) -> list[list[str]]:
    """The batch's message ids in file-name order (the zip's), cut into groups whose stored
    payloads stay within `most_bytes`: what packing reads at a time."""
    table, payloads = models.Message, models.MessagePayload
    rows = session.execute(
        select(table.id, _file_bytes(payloads.payload))
        .outerjoin(payloads, payloads.message_id == table.id)
        .where(table.batch_id == batch.id)
        .order_by(table.file_name)
    ).all()
    return [[message_id for message_id, _size in group]
            for group in by_size(rows, lambda row: int(row[1]), most_bytes)]


def read_group(session: Session, blobs: Blobs, batch: models.Batch,
               group: Sequence[str]) -> tuple[Sequence[StoredMessage], references.Kept]:
    """A group's stored messages and the documents they may name: what `Packer.add` takes."""
    stored = contents(session, batch, group)
    return stored, references.kept(session, blobs, {row.registration_id for row in stored})


def pack_into(
    out: BinaryIO, session: Session, cipher: FieldCipher, blobs: Blobs, batch: models.Batch
) -> None:
    """The batch's zip, from the database alone, written to `out` a group at a time."""
    packer = Packer(cipher, batch, out)
    for group in groups(session, batch):
        packer.add(*read_group(session, blobs, batch, group))
    packer.finish()


def archive(session: Session, cipher: FieldCipher, blobs: Blobs, batch: models.Batch) -> bytes:
    """The batch's zip, from the database alone, in memory (tools and tests; files are
    written by `pack_into`, the same bytes)."""
    buffer = io.BytesIO()
    pack_into(buffer, session, cipher, blobs, batch)
    return buffer.getvalue()
