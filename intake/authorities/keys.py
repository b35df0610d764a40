"""Authorities' public keys: batches are sealed to them, so that only the authority reads them.

Setting, changing or removing a key writes the authority's unacknowledged batch files again,
sealed to the new key (or under the data key); acknowledged ones stay as fetched. Each
change is audited.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.delivery import batch_files
from intake.documents.blobs import Blobs
from intake.security import audit, sealing
from intake.security.crypto import FieldCipher
from intake.store import models


class UnknownAuthority(LookupError):
    """No authority has that key (BHKNZ)."""


def _authority(session: Session, authority_key: str) -> models.Authority:
    # Locked: a batch assembled meanwhile waits, then takes the new key (batches.assemble).
    found = session.get(models.Authority, authority_key, with_for_update=True)
    if found is None:
        raise UnknownAuthority(f"no authority {authority_key}")
    return found


def thumbprint(session: Session, authority_key: str) -> str | None:
    """The RFC 7638 thumbprint of the authority's key; None without one."""
    found = session.get(models.Authority, authority_key)
    if found is None:
        raise UnknownAuthority(f"no authority {authority_key}")
    return found.public_key_thumbprint


def set_key(
    session: Session, cipher: FieldCipher, blobs: Blobs, xml_out: Path, authority_key: str,
    text: bytes, user_id: int | None,
) -> str:
    """Give the authority the public key in `text` (PEM or JWK); returns its thumbprint.

    Raises sealing.KeyRefused for a key batches must not be sealed to, UnknownAuthority.
    """
    key = sealing.public_key(text)
    authority = _authority(session, authority_key)
    authority.public_key, authority.public_key_thumbprint = key.jwk, key.thumbprint
    audit.record(session, user_id, "key set", "authority", authority_key)
    _reseal(session, cipher, blobs, xml_out, authority_key)
    return key.thumbprint


def remove_key(
    session: Session, cipher: FieldCipher, blobs: Blobs, xml_out: Path, authority_key: str,
    user_id: int | None,
) -> None:
    """Take the authority's key away: its batch files go under the data key again."""
    authority = _authority(session, authority_key)
    authority.public_key = authority.public_key_thumbprint = None
    audit.record(session, user_id, "key remove", "authority", authority_key)
    _reseal(session, cipher, blobs, xml_out, authority_key)


def _reseal(session: Session, cipher: FieldCipher, blobs: Blobs, xml_out: Path,
            authority_key: str) -> int:
    """Write the authority's unacknowledged batch files again, under its key as it is now."""
    session.flush()
    waiting = session.scalars(select(models.Batch).where(
        models.Batch.authority_key == authority_key,
        models.Batch.acknowledged_at.is_(None),
        models.Batch.erased_at.is_(None),
    )).all()
    for batch in waiting:
        batch_files.write(session, cipher, blobs, xml_out, batch, again=True)
    return len(waiting)
