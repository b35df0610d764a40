"""Documents a household sent (pages of identity documents, proofs) and its summary.

The row says whose a document is and how to find its content; the content itself is
encrypted apart from it: in `document_blob` (the database) or as an object in an
S3-compatible store, whichever `location` names (intake.documents.blobs).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from intake.store.models.base import Base, new_id, utcnow


class Document(Base):
    """One stored document; its owner is a registration, or a draft until it is sent."""

    __tablename__ = "document"
    __table_args__ = (
        # A draft's documents move to its registration in the transaction that stores it
        # (household_rows.write): never both owners, never none.
        CheckConstraint("(registration_id IS NULL) <> (draft_id IS NULL)",
                        name="document_one_owner"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    registration_id: Mapped[str | None] = mapped_column(ForeignKey("registration.id"), index=True)
    draft_id: Mapped[str | None] = mapped_column(ForeignKey("draft.id"), index=True)
    # The person's place in the household (Person.position, from 0): a draft has no person
    # rows yet. None: the household's own (proofs, the summary).
    person_position: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # documents.store.KINDS
    description: Mapped[str | None] = mapped_column(Text)  # encrypted: people write names
    media_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)  # bytes of the content, before encryption
    # Keyed hash of the content (documents.store.digest): a file sent twice is found, and
    # the database never says whether it holds a file someone else has.
    digest: Mapped[str] = mapped_column(String(64))
    # The content's own key, sealed with the data key (documents.store.save); None for
    # content stored before migration 0023, sealed with the data key itself.
    content_key: Mapped[str | None] = mapped_column(Text)
    # The data key that seals the content's key (or the content, before 0023), so that
    # rotation finds what is left without reading every blob.
    key_id: Mapped[str] = mapped_column(String(64))
    location: Mapped[str] = mapped_column(String(10))  # "database" or "s3"
    # The object's random name in the store (None in the database): never a file name.
    blob_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DocumentBlob(Base):
    """A document's encrypted content, where no object store is configured.

    A table of its own, as message payloads: listing and counting documents never reads
    their megabytes, and on SQLite moving a draft's documents to its registration
    rewrites small rows only.
    """

    __tablename__ = "document_blob"

    document_id: Mapped[str] = mapped_column(ForeignKey("document.id"), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
