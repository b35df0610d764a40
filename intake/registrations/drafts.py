"""Drafts: a registration filled in over several steps, kept server-side and encrypted.

Nothing of it travels in URLs or browser storage; the browser keeps only a random token.
A draft ends when it is submitted or after DRAFT_LIFETIME without a change.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from intake.documents import store as documents
from intake.documents.blobs import Blobs
from intake.security.crypto import FieldCipher, random_token, token_hash
from intake.store import models

DRAFT_LIFETIME = dt.timedelta(hours=24)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _find(session: Session, token: str | None) -> models.Draft | None:
    if not token:
        return None
    draft = session.scalar(select(models.Draft).where(models.Draft.token_hash == token_hash(token)))
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


def discard(session: Session, blobs: Blobs, token: str) -> int:
    """Delete a draft and its documents now (a registration that was not stored); how many
    documents went with it. A draft already sent or purged is no error."""
    draft = select(models.Draft.id).where(models.Draft.token_hash == token_hash(token))
    removed = documents.remove(session, blobs, models.Document.draft_id.in_(draft))
    session.execute(delete(models.Draft).where(models.Draft.token_hash == token_hash(token)))
    return removed
