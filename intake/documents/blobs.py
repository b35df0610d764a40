"""Where documents' encrypted content is kept: the database, or an S3-compatible store.

Both take ciphertext only (documents.store encrypts before and decrypts after). The
database keeps it in the caller's transaction; an object store cannot join a transaction,
so an object is written before its row commits (a failed commit leaves an object without
a row: `S3Blobs.sweep` deletes those) and deleted before the row's deletion commits (a
failed commit leaves a row without its object, never an erased person's object behind).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from intake.config import BlobUrl, parse_blob_url
from intake.store import models
from intake.store.database import one_of

DATABASE, S3 = "database", "s3"


class MissingBlob(LookupError):
    """A document's content is not where its row says (the document's id only)."""


class Kept(Protocol):
    """A document as deleting its content needs it: a row or its id and blob key."""

    @property
    def id(self) -> str: ...

    @property
    def blob_key(self) -> str | None: ...


class BlobStore(Protocol):
    location: str

    def put(self, session: Session, document: models.Document, sealed: bytes) -> None:
        """Keep `sealed` as the document's content (new, or in place of the old)."""

    def get(self, session: Session, document: models.Document) -> bytes:
        """The document's sealed content; MissingBlob when there is none."""

    def replace(self, session: Session, contents: Sequence[tuple[models.Document, bytes]]) -> None:
        """Keep each document's new sealed content in place of its old one (rotation)."""

    def delete(self, session: Session, documents: Sequence[Kept]) -> None:
        """Remove the documents' content (what is missing already is no error)."""


class DatabaseBlobs:
    """Content in the `document_blob` table, in the caller's transaction."""

    location = DATABASE

    def put(self, session: Session, document: models.Document, sealed: bytes) -> None:
        table = models.table(models.DocumentBlob)
        replaced = session.execute(
            update(table).where(table.c.document_id == document.id).values(content=sealed)
        )
        if not replaced.rowcount:  # type: ignore[attr-defined]
            session.execute(table.insert().values(document_id=document.id, content=sealed))

    def replace(self, session: Session, contents: Sequence[tuple[models.Document, bytes]]) -> None:
        """One statement for all (executemany): rotation writes a part at a time."""
        table = models.table(models.DocumentBlob)
        if contents:
            session.connection().execute(
                update(table).where(table.c.document_id == bindparam("at"))
                .values(content=bindparam("sealed")),
                [{"at": document.id, "sealed": sealed} for document, sealed in contents])

    def get(self, session: Session, document: models.Document) -> bytes:
        table = models.table(models.DocumentBlob)
        content = session.scalar(select(table.c.content).where(table.c.document_id == document.id))
        if content is None:
            raise MissingBlob(document.id)
        return bytes(content)

    def delete(self, session: Session, documents: Sequence[Kept]) -> None:
        if not documents:
            return
        table = models.table(models.DocumentBlob)
        session.execute(delete(table).where(one_of(
            session.get_bind().dialect.name, table.c.document_id, [d.id for d in documents])))


class S3Blobs:
    """Content as objects named by random keys under the URL's folder: an object's name
    says nothing of whose it is, and the store holds nothing it could read."""

    location = S3

    def __init__(self, where: BlobUrl, client: Any = None) -> None:
        self.where = where
        self.client = client if client is not None else _client(where)

    def put(self, session: Session, document: models.Document, sealed: bytes) -> None:
        self.client.put_object(Bucket=self.where.bucket, Key=self._name(document), Body=sealed)

    def replace(self, session: Session, contents: Sequence[tuple[models.Document, bytes]]) -> None:
        for document, sealed in contents:
            self.put(session, document, sealed)

    def get(self, session: Session, document: models.Document) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.where.bucket, Key=self._name(document))
        except self.client.exceptions.NoSuchKey:
            raise MissingBlob(document.id) from None
        body: bytes = answer["Body"].read()
        return body

    def delete(self, session: Session, documents: Sequence[Kept]) -> None:
        self._delete([self._name(document) for document in documents])

    def sweep(self, session: Session, older_than: dt.timedelta) -> int:
        """Delete objects older than `older_than` that no document row names: what an
        upload whose transaction failed left behind. Returns how many were deleted."""
        cutoff = dt.datetime.now(dt.UTC) - older_than
        orphans: list[str] = []
        for page in self._pages():
            old = {item["Key"].removeprefix(self.where.prefix): item["Key"]
                   for item in page if item["LastModified"] < cutoff}
            if not old:
                continue
            known = set(session.scalars(select(models.Document.blob_key).where(
                models.Document.blob_key.in_(list(old)))))
            orphans += [name for key, name in old.items() if key not in known]
        self._delete(orphans)
        return len(orphans)

    def _pages(self) -> Iterator[list[dict[str, Any]]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.where.bucket, Prefix=self.where.prefix)
        for page in pages:
            yield page.get("Contents", [])

    def _delete(self, names: list[str]) -> None:
        for start in range(0, len(names), 1000):  # S3 deletes at most 1,000 per request
            answer = self.client.delete_objects(Bucket=self.where.bucket, Delete={
                "Objects": [{"Key": name} for name in names[start:start + 1000]],
                "Quiet": True,
            })
            if answer.get("Errors"):
                # The codes only: an erasure that did not happen must fail, not be logged
                # as done; keys are random and say nothing, but are not needed either.
                codes = sorted({error.get("Code", "?") for error in answer["Errors"]})
                raise RuntimeError(f"object store refused to delete: {', '.join(codes)}")

    def _name(self, document: Kept) -> str:
        if not document.blob_key:
            raise MissingBlob(document.id)
        return self.where.prefix + document.blob_key


def _client(where: BlobUrl) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        # Path-style addressing: MinIO and most S3-compatible servers on a host of their
        # own do not answer at bucket.host names.
        s3={"addressing_style": "path"} if where.endpoint else {},
        # boto3 >= 1.36 adds CRC checksums to every upload, which several S3-compatible
        # servers refuse; AES-GCM's tag already proves every byte read back.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=5,
        read_timeout=30,
    )
    return boto3.client("s3", endpoint_url=where.endpoint, region_name=where.region,
                        config=config)


class Blobs:
    """The store new content goes to, and every store content may be in: documents kept
    in the database stay readable (and erasable) after INTAKE_BLOB_URL is set."""

    def __init__(self, blob_url: str | None, client: Any = None) -> None:
        self._database = DatabaseBlobs()
        self._s3 = S3Blobs(parse_blob_url(blob_url), client) if blob_url else None
        self.current: BlobStore = self._s3 or self._database

    def at(self, location: str) -> BlobStore:
        """The store a document's row names."""
        if location == DATABASE:
            return self._database
        if location == S3 and self._s3 is not None:
            return self._s3
        raise MissingBlob(f"documents in {location!r}, and no INTAKE_BLOB_URL to reach them")

    def sweep(self, session: Session, older_than: dt.timedelta) -> int:
        """Delete unnamed objects older than `older_than` (none in the database)."""
        return self._s3.sweep(session, older_than) if self._s3 else 0
