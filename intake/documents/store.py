"""Documents kept like the rest of the personal data: encrypted with the data keys, found
by their owner, re-encrypted by key rotation, deleted with their registration or draft.

The content is sealed with a random key of its own (AES-256-GCM), which the row keeps
sealed with the current data key (envelope encryption). Rotation seals that key again, not
the megabytes, and a deleted row takes along the one key to its content: bytes left in
free pages of an SQLite file, or in PostgreSQL's dead rows until vacuum, open with no data
key, so they need not be overwritten (`remove`). Documents stored before migration 0023
have no key of their own: their content is sealed with the data key (FieldCipher.seal)
and is read, rotated and overwritten as it was.

Content and key are bound to the document's id as associated data: content moved to
another document's row or object does not decrypt, while a draft's documents become its
registration's without being encrypted again. What a row keeps in the clear is what
operators count and the message needs to say: kind, media type, size, the person's place
in the household, when.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from intake import progress
from intake.documents.blobs import DATABASE, Blobs, MissingBlob
from intake.parts import by_size
from intake.security import crypto
from intake.security.crypto import FieldCipher
from intake.store import models
from intake.store.database import Database, one_of, without_overwriting

if TYPE_CHECKING:  # files brings Pillow and pypdf, which erasure and rotation need not load
    from intake.documents.files import Document as SafeDocument

# SUMMARY: the authority's copy of a household's summary, which the payload job makes and
# keeps for the household's messages to name (delivery.references); never the applicant's.
DOCUMENT_PAGE, PROOF, SUMMARY = "document_page", "proof", "summary"
KINDS = (DOCUMENT_PAGE, PROOF, SUMMARY)


@dataclass(frozen=True)
class Made:
    """A document this service made itself (the authority's summary), safe as it is."""

    media_type: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)


def content_context(document_id: str) -> str:
    """Associated data of a document's content: its id."""
    return f"document:{document_id}:content"


def key_context(document_id: str) -> str:
    """Associated data of a document's content key."""
    return f"document:{document_id}:key"


def description_context(document_id: str) -> str:
    return f"document:{document_id}:description"


def digest(cipher: FieldCipher, content: bytes) -> str:
    """A keyed hash of the content (the blind index key, its own domain).

    Not a plain sha256: anyone holding the database and a copy of a photo could then tell
    that this person registered with it. Keyed, equal files still meet (a phone that sends
    the same page twice), and the index key never rotates, so the hash stays valid.
    """
    return cipher.blind_index("document:" + hashlib.sha256(content).hexdigest())


def save(
    session: Session,
    cipher: FieldCipher,
    blobs: Blobs,
    document: SafeDocument | Made,
    *,
    kind: str,
    registration_id: str | None = None,
    draft_id: str | None = None,
    person: int | None = None,
    description: str | None = None,
) -> models.Document:
    """Keep a document (made safe by files.accept, or made here) for its owner, in the
    caller's transaction; the same content sent again for the same place returns the stored one.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind of document {kind!r}")
    if (registration_id is None) == (draft_id is None):
        raise ValueError("a document belongs to a registration or to a draft")
    keyed = digest(cipher, document.content)
    same = session.scalar(select(models.Document).where(
        _owned_by(registration_id, draft_id), models.Document.kind == kind,
        _person_is(person), models.Document.digest == keyed))
    if same is not None:
        return same
    store, document_id = blobs.current, models.new_id()
    content_key, sealed = seal_content(cipher, document_id, document.content)
    row = models.Document(
        id=document_id, registration_id=registration_id, draft_id=draft_id,
        person_position=person, kind=kind, media_type=document.media_type,
        size=document.size, digest=keyed, key_id=cipher.current_key_id,
        content_key=content_key,
        location=store.location, created_at=models.utcnow(),
        blob_key=None if store.location == DATABASE else secrets.token_hex(16),
    )
    if description:
        row.description = cipher.encrypt(description, description_context(row.id))
    session.add(row)
    session.flush()  # the row first: document_blob points at it
    store.put(session, row, sealed)
    return row


def seal_content(cipher: FieldCipher, document_id: str, content: bytes) -> tuple[str, bytes]:
    """A new document's content key, sealed with the data key, and its content sealed
    with that key (what `opened` opens)."""
    key = crypto.new_content_key()
    return (cipher.encrypt_bytes(key, key_context(document_id)),
            crypto.seal_with(key, content, content_context(document_id)))


def content(session: Session, cipher: FieldCipher, blobs: Blobs, row: models.Document) -> bytes:
    """The document's content, decrypted."""
    return opened(cipher, row.id, row.content_key, blobs.at(row.location).get(session, row))


def opened(cipher: FieldCipher, document_id: str, content_key: str | None,
           sealed: bytes) -> bytes:
    """A document's content from its stored bytes and its row's content key."""
    if content_key is None:  # stored before migration 0023
        return cipher.unseal(sealed, content_context(document_id))
    key = cipher.decrypt_bytes(content_key, key_context(document_id))
    return crypto.open_with(key, sealed, content_context(document_id))


def sealed_contents(
    session: Session, blobs: Blobs, rows: Sequence[models.Document]
) -> dict[str, bytes]:
    """The documents' contents as stored (encrypted), by document id: those in the
    database read together, objects one by one."""
    found: dict[str, bytes] = {}
    in_database = [row.id for row in rows if row.location == DATABASE]
    table = models.table(models.DocumentBlob)
    for start in range(0, len(in_database), 500):
        found.update((document_id, bytes(content)) for document_id, content in session.execute(
            select(table.c.document_id, table.c.content)
            .where(table.c.document_id.in_(in_database[start:start + 500]))))
    for row in rows:
        if row.location != DATABASE:
            found[row.id] = blobs.at(row.location).get(session, row)
        elif row.id not in found:
            raise MissingBlob(row.id)
    return found


def description(cipher: FieldCipher, row: models.Document) -> str | None:
    if row.description is None:
        return None
    return cipher.decrypt(row.description, description_context(row.id))


def listed(
    session: Session, *, registration_id: str | None = None, draft_id: str | None = None
) -> list[models.Document]:
    """An owner's documents, oldest first."""
    return list(session.scalars(select(models.Document).where(
        _owned_by(registration_id, draft_id)).order_by(models.Document.created_at,
                                                        models.Document.id)))


def stored_bytes(
    session: Session, *, registration_id: str | None = None, draft_id: str | None = None
) -> int:
    """What an owner's documents take together (for files.check_household_total)."""
    total = session.scalar(select(func.coalesce(func.sum(models.Document.size), 0)).where(
        _owned_by(registration_id, draft_id)))
    return int(total or 0)


def remove(session: Session, blobs: Blobs, where: ColumnElement[bool]) -> int:
    """Delete the documents `where` selects, content first, in the caller's transaction.

    The rows are locked before any content goes (FOR UPDATE; SQLite's writer holds the
    whole database): a rotation re-encrypting one of them finishes first, and cannot
    write back an object that was just deleted. The session is not told: a caller holding
    one of these documents as an object must not use it afterwards.

    Content with a key of its own is deleted without overwriting it (its key, in the row,
    is): on SQLite, writing over a sweep's documents once more took a quarter of its time.
    """
    document = models.Document
    # Columns, not objects, and no synchronizing of the session: a sweep's chunk removes
    # thousands, and matching each object against the others' ids took most of its time.
    rows = session.execute(select(document.id, document.location, document.blob_key,
                                  document.content_key.is_not(None).label("keyed"))
                           .where(where).with_for_update()).all()
    for location in {row.location for row in rows}:
        here = [row for row in rows if row.location == location]
        with without_overwriting(session):
            blobs.at(location).delete(session, [row for row in here if row.keyed])
        blobs.at(location).delete(session, [row for row in here if not row.keyed])
    if rows:
        session.execute(delete(document).where(one_of(
            session.get_bind().dialect.name, document.id, [row.id for row in rows])),
            execution_options={"synchronize_session": False})
    return len(rows)


# Document bytes re-encrypted and written in one transaction at most (a larger document
# goes alone): on SQLite the one write slot, which registrations wait for, is held for them.
# A document with a key of its own weighs its key: a page of them goes in one transaction.
ROTATE_BYTES = 2**20


def rotate(db: Database, cipher: FieldCipher, blobs: Blobs, batch: int = 500,
           meter: progress.Meter = progress.silent) -> int:
    """Seal again with the current key every document's content key (or content, stored
    before migration 0023) not yet under it; how many.

    As values are rotated (security.rotation): a page of documents is listed, then taken in
    parts of about ROTATE_BYTES, each read in a read transaction, sealed again outside any,
    and written in one short transaction that takes only the documents still on an older
    key (one erased or rotated meanwhile is left). An object is written in place (its key
    id is in its bytes), so a row that still names the old key after a failed commit is
    only rotated again. Safe while the service runs.
    """
    with db.read() as session:
        owed = session.scalar(
            select(func.count(models.Document.id)).where(_not_under(cipher))) or 0
    listed = (select(models.Document.id, models.Document.size, models.Document.content_key)
              .where(_not_under(cipher)).order_by(models.Document.id).limit(batch))
    done = 0
    after = ""
    with meter("re-encrypting documents", owed) as advance:
        while True:
            with db.read() as session:
                page = session.execute(listed.where(models.Document.id > after)).all()
            for part in by_size(page, _rotated_bytes, ROTATE_BYTES):
                done += _rotate_part(db, cipher, blobs, [row.id for row in part])
                advance(len(part))
            if len(page) < batch:
                return done
            after = page[-1].id


def _rotated_bytes(row: Any) -> int:
    return int(row.size) if row.content_key is None else len(row.content_key)


def _not_under(cipher: FieldCipher) -> ColumnElement[bool]:
    return models.Document.key_id != cipher.current_key_id


def _rotate_part(db: Database, cipher: FieldCipher, blobs: Blobs, ids: list[str]) -> int:
    """Seal these documents' keys (or content) again, but those erased or rotated meanwhile;
    how many."""
    owed = select(models.Document).where(models.Document.id.in_(ids), _not_under(cipher))
    with db.read() as session:
        rows = session.scalars(owed).all()
        sealed = sealed_contents(session, blobs, [row for row in rows if row.content_key is None])
    resealed = {document_id: cipher.seal(cipher.unseal(content, content_context(document_id)),
                                         content_context(document_id))
                for document_id, content in sealed.items()}
    keys = {row.id: cipher.encrypt_again(row.content_key, key_context(row.id))
            for row in rows if row.content_key is not None}
    with db.transaction() as session:
        still = [row for row in session.scalars(owed.with_for_update())
                 if row.id in resealed or row.id in keys]
        for location in {row.location for row in still if row.id in resealed}:
            blobs.at(location).replace(session, [(row, resealed[row.id]) for row in still
                                                 if row.location == location
                                                 and row.id in resealed])
        for row in still:
            if row.id in keys:
                row.content_key = keys[row.id]
            row.key_id = cipher.current_key_id
        return len(still)


def totals(session: Session) -> dict[str, Any]:
    """How many documents are kept and their bytes, in all, per location and per kind (the
    authority's summaries beside what people sent)."""
    rows = session.execute(
        select(models.Document.location, models.Document.kind, func.count(),
               func.sum(models.Document.size))
        .group_by(models.Document.location, models.Document.kind)
    ).all()
    where: dict[str, dict[str, int]] = {}
    kinds: dict[str, dict[str, int]] = {}
    for location, kind, count, size in rows:
        for totals_, key in ((where, location), (kinds, kind)):
            item = totals_.setdefault(key, {"count": 0, "bytes": 0})
            item["count"] += count
            item["bytes"] += int(size or 0)
    return {
        "count": sum(item["count"] for item in where.values()),
        "bytes": sum(item["bytes"] for item in where.values()),
        "by_location": where,
        "by_kind": kinds,
    }


def sweep(db: Database, blobs: Blobs, older_than: dt.timedelta = dt.timedelta(hours=1)) -> int:
    """Delete objects that no document names, left by uploads whose transaction failed."""
    with db.read() as session:
        return blobs.sweep(session, older_than)


def _owned_by(registration_id: str | None, draft_id: str | None) -> ColumnElement[bool]:
    if registration_id is not None:
        return models.Document.registration_id == registration_id
    if draft_id is not None:
        return models.Document.draft_id == draft_id
    raise ValueError("name the registration or the draft")


def _person_is(person: int | None) -> ColumnElement[bool]:
    if person is None:
        return models.Document.person_position.is_(None)
    return models.Document.person_position == person

