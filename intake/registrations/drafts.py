"""Drafts: a registration filled in over several steps, kept server-side and encrypted.

Nothing of it travels in URLs or browser storage; the browser keeps only a random token.
A draft ends when it is submitted or after DRAFT_LIFETIME without a change.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from intake.documents import store as documents
from intake.documents.blobs import Blobs
from intake.security.crypto import FieldCipher, random_token, token_hash
from intake.store import models

if TYPE_CHECKING:
    from intake.documents.files import Document as SafeDocument

DRAFT_LIFETIME = dt.timedelta(hours=24)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _find(session: Session, token: str | None, lock: bool = False) -> models.Draft | None:
    if not token:
        return None
    found = select(models.Draft).where(models.Draft.token_hash == token_hash(token))
    draft = session.scalar(found.with_for_update() if lock else found)
    if draft is None or _aware(draft.expires_at) <= _now():
        return None
    return draft


def load(session: Session, cipher: FieldCipher, token: str | None) -> dict[str, Any] | None:
    """The draft's document, or None when there is no such draft or it has expired."""
    draft = _find(session, token)
    if draft is None:
        return None
    document: dict[str, Any] = json.loads(cipher.decrypt(draft.data, _context(draft)))
    return document


def save(
    session: Session, cipher: FieldCipher, token: str | None, document: dict[str, Any]
) -> str:
    """Store the document under the token (a new draft if it has none or it expired)."""
    draft = _find(session, token)
    if draft is None or token is None:
        token = random_token()
        draft = models.Draft(id=models.new_id(), token_hash=token_hash(token))
        session.add(draft)
    draft.data = cipher.encrypt(json.dumps(document), _context(draft))
    draft.expires_at = _now() + DRAFT_LIFETIME
    return token


def purge_expired(session: Session, blobs: Blobs) -> int:
    """Delete drafts past their lifetime, and their documents: unfinished personal data
    is not kept."""
    now = _now()
    expired = select(models.Draft.id).where(models.Draft.expires_at <= now)
    documents.remove(session, blobs, models.Document.draft_id.in_(expired))
    result = session.execute(delete(models.Draft).where(models.Draft.expires_at <= now))
    session.execute(delete(models.HandOver).where(models.HandOver.expires_at <= now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite returns naive datetimes; every stored time is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _context(draft: models.Draft) -> str:
    return f"draft:{draft.id}:data"


HAND_OVER_LIFETIME = dt.timedelta(minutes=30)


def hand_over(session: Session, cipher: FieldCipher, draft_token: str) -> str:
    """A one-time token that moves the draft to another device (within HAND_OVER_LIFETIME)."""
    token = random_token()
    row = models.HandOver(token_hash=token_hash(token), expires_at=_now() + HAND_OVER_LIFETIME)
    row.draft_token = cipher.encrypt(draft_token, f"hand_over:{row.token_hash}:draft_token")
    session.add(row)
    return token


def pick_up(session: Session, cipher: FieldCipher, token: str) -> str | None:
    """The draft token behind a hand-over token, once; None if unknown, used or expired."""
    row = session.get(models.HandOver, token_hash(token))
    if row is None:
        return None
    session.delete(row)
    if _aware(row.expires_at) <= _now():
        return None
    return cipher.decrypt(row.draft_token, f"hand_over:{row.token_hash}:draft_token")


# Documents on a draft: uploaded while the form is filled in, kept encrypted with the draft
# (never in the session or a temporary file), and the registration's once it is sent.


def attach(
    session: Session,
    cipher: FieldCipher,
    blobs: Blobs,
    token: str | None,
    document: SafeDocument,
    *,
    kind: str,
    person: int | None = None,
    description: str | None = None,
    file_name: str = "",
) -> models.Document | None:
    """Keep a document made safe (files.accept) on the draft; None when there is no draft.

    Refused when it would take the household's documents past 30 MB. A page described
    as one already attached (the photo page, sent again) takes its place. The draft's row
    is locked first (PostgreSQL; SQLite's writer holds the whole database): two uploads at
    once, a double tap, count and replace one after the other.
    """
    # Here, not at the top: files brings Pillow and pypdf, which the sweeps need not load.
    from intake.documents import files

    draft = _find(session, token, lock=True)
    if draft is None:
        return None
    replaced = _same_page(session, cipher, draft.id, kind, person, description)
    # Counted without the page it replaces, and checked before that page's content goes:
    # a refusal rolls the rows back, but not an object store's deletion.
    kept = documents.stored_bytes(session, draft_id=draft.id) - sum(r.size for r in replaced)
    files.check_household_total(kept, document, file_name)
    if replaced:
        documents.remove(session, blobs, models.Document.id.in_([r.id for r in replaced]))
    return documents.save(session, cipher, blobs, document, kind=kind, draft_id=draft.id,
                          person=person, description=description)


def _same_page(
    session: Session, cipher: FieldCipher, draft_id: str, kind: str, person: int | None,
    description: str | None,
) -> list[models.Document]:
    """The page of the same person and description already attached (none for a proof)."""
    if kind != documents.DOCUMENT_PAGE or description is None:
        return []
    return [row for row in documents.listed(session, draft_id=draft_id)
            if row.kind == documents.DOCUMENT_PAGE and row.person_position == person
            and documents.description(cipher, row) == description]


def attached(session: Session, token: str | None) -> list[models.Document]:
    """The draft's documents, oldest first (none without a draft)."""
    draft = _find(session, token)
    return documents.listed(session, draft_id=draft.id) if draft is not None else []


def detach(session: Session, blobs: Blobs, token: str | None, document_id: str) -> bool:
    """Remove one of the draft's documents (only its own: an id is no key to others')."""
    draft = _find(session, token)
    if draft is None:
        return False
    return documents.remove(session, blobs, (models.Document.draft_id == draft.id)
                            & (models.Document.id == document_id)) > 0


def forget_person(session: Session, blobs: Blobs, token: str | None, position: int) -> None:
    """A family member removed from the draft: their pages go, and those of the members
    after them move up a place with them."""
    draft = _find(session, token)
    if draft is None:
        return
    documents.remove(session, blobs, (models.Document.draft_id == draft.id)
                     & (models.Document.person_position == position))
    session.execute(
        update(models.Document)
        .where(models.Document.draft_id == draft.id, models.Document.person_position > position)
        .values(person_position=models.Document.person_position - 1)
    )


def discard(session: Session, blobs: Blobs, token: str) -> int:
    """Delete a draft and its documents now (a registration that was not stored); how many
    documents went with it. A draft already sent or purged is no error."""
    draft = select(models.Draft.id).where(models.Draft.token_hash == token_hash(token))
    removed = documents.remove(session, blobs, models.Document.draft_id.in_(draft))
    session.execute(delete(models.Draft).where(models.Draft.token_hash == token_hash(token)))
    return removed
