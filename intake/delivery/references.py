"""A stored message names the documents it encloses instead of carrying them.

Every member's message encloses the household's summary PDF and proofs, and a person's own
message their document pages: kept in full, a delivered household of three took some
60 KB of payloads where its own rows take 3 KB, until its retention time ended, and the
retention sweep and key rotation moved all of it (bench/SCALE.md, 2026-12-07). So when a
message is sealed, the content of each `xa:dokument` is replaced by a reference to the
household's document that holds it (`detach`), and when a batch file is packed the content
is put back (`attach`); the message's sha256, taken of the whole XML when it was built,
checks the result. The documents are kept once, encrypted, where the household's uploads
are (`documents.store`, kind SUMMARY for the authority's summary), and erased with them.

A reference is the document's keyed digest (`documents.store.digest`) after a NUL, which
XML 1.0 forbids anywhere in a document: no message's own content can be taken for one.
Payloads stored before 2026-12-07 carry their content, and pass `attach` unchanged.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.documents import store as documents
from intake.documents.blobs import Blobs
from intake.security.crypto import FieldCipher
from intake.store import models

_CONTENT = re.compile(rb"<xa:dokument>([^<]*)</xa:dokument>")
_MARK = b"\x00"


class MissingEnclosure(LookupError):
    """A stored message names a document its household no longer has (the message's id)."""


def detach(xml: bytes, kept: Mapping[bytes, str]) -> bytes:
    """The message with each enclosed content found in `kept` (its base64 text: the digest
    of the document that holds it) replaced by a reference."""
    def named(match: re.Match[bytes]) -> bytes:
        digest = kept.get(match.group(1))
        if digest is None:
            return match.group(0)
        return b"<xa:dokument>" + _MARK + digest.encode("ascii") + b"</xa:dokument>"

    return _CONTENT.sub(named, xml)


@dataclass(frozen=True)
class Kept:
    """The documents of some households, sealed as stored: by (registration id, digest),
    the document's id (its content's associated data), its content key and its sealed
    content."""

    sealed: Mapping[tuple[str, str], tuple[str, str | None, bytes]]

    def attach(self, cipher: FieldCipher, message_id: str, registration_id: str,
               stored: bytes) -> bytes:
        """The message `detach` made `stored` from, with its enclosures' content back."""
        opened: dict[bytes, bytes] = {}

        def content(match: re.Match[bytes]) -> bytes:
            found = match.group(1)
            if not found.startswith(_MARK):
                return match.group(0)
            if found not in opened:
                document = self.sealed.get((registration_id, found[1:].decode("ascii")))
                if document is None:
                    raise MissingEnclosure(message_id)
                plaintext = documents.opened(cipher, *document)
                opened[found] = base64.b64encode(plaintext)
            return b"<xa:dokument>" + opened[found] + b"</xa:dokument>"

        return _CONTENT.sub(content, stored)


NOTHING_KEPT = Kept({})


def kept(session: Session, blobs: Blobs, registration_ids: Iterable[str]) -> Kept:
    """The documents messages of these registrations may name (not what their stored
    payloads name, which reading would have to decrypt first: the summaries and pages
    of a household are read whole, as the messages of its members mostly come together)."""
    rows = session.scalars(
        select(models.Document)
        .where(models.Document.registration_id.in_(set(registration_ids)),
               models.Document.kind.in_(documents.KINDS))
        .order_by(models.Document.id)
    ).all()
    sealed = documents.sealed_contents(session, blobs, rows)
    return Kept({(str(row.registration_id), row.digest): (row.id, row.content_key, sealed[row.id])
                 for row in rows})


def digests(cipher: FieldCipher, contents: Sequence[bytes]) -> dict[bytes, str]:
    """Each content's base64 text, as `detach` finds it, with the digest of the document
    that keeps it."""
    return {base64.b64encode(content): documents.digest(cipher, content) for content in contents}
