"""Register a household together with the documents it encloses: both are stored, or neither.

The documents wait on a draft of their own, made for this one registration, which
`register.register` adopts and deletes in the registration's own transaction (the group
commit): a registration is never acknowledged without its documents. When the registration
is not stored (an unknown postal code, a key used at the same moment, a failure), the draft
and its documents are deleted at once; if the process dies in between, nobody holds the
draft's token, and `drafts.purge_expired` deletes it with its documents and objects when it
expires (S3 objects written by a draft transaction that failed are swept by
`documents.sweep`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from intake.dataset import domain
from intake.documents import store as documents
from intake.registrations import drafts, register
from intake.security.crypto import token_hash
from intake.store import models
from intake.store.household_rows import Receipt
from intake.store.idempotency import Claim

if TYPE_CHECKING:
    from intake.documents.files import Document as SafeDocument
    from intake.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Enclosure:
    """A document made safe (files.accept), and where it belongs in the household."""

    document: SafeDocument
    kind: str  # documents.DOCUMENT_PAGE or documents.PROOF
    person: int | None = None  # a page's person, by position in the household
    description: str | None = None  # a proof's German description (proofs.description)


def register_with(
    runtime: Runtime,
    household: domain.Household,
    enclosures: Sequence[Enclosure],
    *,
    api_token_id: int | None = None,
    idempotency: Claim | None = None,
) -> Receipt:
    """`register.register`, with the documents stored in the same transaction (module
    docstring); raises what it raises, having deleted the documents."""
    if not enclosures:
        return register.register(runtime, household, api_token_id=api_token_id,
                                 idempotency=idempotency)
    token = _park(runtime, enclosures)
    try:
        return register.register(runtime, household, api_token_id=api_token_id,
                                 idempotency=idempotency, draft_token=token)
    except BaseException:
        _discard(runtime, token)
        raise


def _park(runtime: Runtime, enclosures: Sequence[Enclosure]) -> str:
    """A new draft holding the documents; its token."""
    with runtime.db.transaction() as session:
        # The draft's own data stays empty: the household travels in the request.
        token = drafts.save(session, runtime.cipher, None, {})
        draft_id = session.scalar(select(models.Draft.id).where(
            models.Draft.token_hash == token_hash(token)))
        for enclosure in enclosures:
            documents.save(session, runtime.cipher, runtime.blobs, enclosure.document,
                           kind=enclosure.kind, draft_id=draft_id, person=enclosure.person,
                           description=enclosure.description)
    return token


def _discard(runtime: Runtime, token: str) -> None:
    try:
        with runtime.db.transaction() as session:
            drafts.discard(session, runtime.blobs, token)
    except Exception as error:
        # The registration's own error matters more; the draft expires and is purged. The
        # error's type only: its text may quote the statement's values.
        log.warning("documents of a registration that was not stored are left to expire "
                    "(%s)", type(error).__name__)
