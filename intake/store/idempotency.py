"""Idempotency-Key on POST /api/v1/registrations (IETF httpapi draft "The Idempotency-Key
HTTP Header Field"): a retried request answers the first result.

A partner whose connection dropped after the commit cannot know whether its household was
registered. Sent again with the same key and the same body within 24 hours, the request gets
the first answer back instead of registering the household twice; the same key with another
body is refused (422). A key is the partner's own (per API token), stored as a hash; the
status token of the first answer is kept encrypted, to give it back, and is deleted with the
registration's personal data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, update
from sqlalchemy.orm import Session

from intake.security.crypto import FieldCipher
from intake.store import models

LIFETIME = dt.timedelta(hours=24)
MAX_LENGTH = 255


class BadKey(ValueError):
    """The header holds no usable key."""


def key_in(header: str) -> str:
    """The key of an Idempotency-Key header: an sf-string ("...", as the draft writes it) or a
    bare token; printable ASCII, 1 to 255 characters."""
    key = header.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if not 1 <= len(key) <= MAX_LENGTH or not (key.isascii() and key.isprintable()):
        raise BadKey(header)
    return key


def key_hash(api_token_id: int, key: str) -> str:
    return hashlib.sha256(f"{api_token_id}\n{key}".encode()).hexdigest()


def request_hash(document: Any) -> str:
    """A digest of a JSON document, the same for the same content in any key order."""
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Claim:
    """A key a registration is about to be stored under (see submission.write)."""

    key_hash: str
    request_hash: str
    seal: Callable[[str], str]  # encrypts the status token for this key

    def row(self, registration_id: str, status_token: str) -> dict[str, Any]:
        return {
            "key_hash": self.key_hash,
            "request_hash": self.request_hash,
            "registration_id": registration_id,
            "status_token": self.seal(status_token),
            "created_at": dt.datetime.now(dt.UTC),
        }


def claim(cipher: FieldCipher, key_hash: str, request_hash: str) -> Claim:
    bound_to = context(key_hash)
    return Claim(key_hash, request_hash, lambda token: cipher.encrypt(token, bound_to))


@dataclass(frozen=True)
class Earlier:
    """What a key was first used for: the request's digest, the registration, and its status
    token (None once the registration's personal data was erased)."""

    request_hash: str
    registration_id: str
    status_token: str | None


def find(session: Session, cipher: FieldCipher, key_hash: str) -> Earlier | None:
    """The earlier use of a key within its lifetime; an older one is forgotten here."""
    row = session.get(models.IdempotencyKey, key_hash)
    if row is None:
        return None
    if _aware(row.created_at) <= dt.datetime.now(dt.UTC) - LIFETIME:
        session.delete(row)
        return None
    token = None if row.status_token is None else cipher.decrypt(
        row.status_token, context(key_hash)
    )
    return Earlier(row.request_hash, row.registration_id, token)


def forget_tokens(session: Session, where: ColumnElement[bool]) -> None:
    """Erasure, of the registrations `where` selects: the keys stay (a retry must not
    register again), their status tokens go. Not synchronized with the session's objects
    (retention._erase says why)."""
    session.execute(update(models.IdempotencyKey).where(where).values(status_token=None),
                    execution_options={"synchronize_session": False})


def purge_expired(session: Session) -> int:
    cutoff = dt.datetime.now(dt.UTC) - LIFETIME
    result = session.execute(
        delete(models.IdempotencyKey).where(models.IdempotencyKey.created_at <= cutoff)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def context(key_hash: str) -> str:
    """Associated data of a key's encrypted status token."""
    return f"idempotency_key:{key_hash}:status_token"


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)

