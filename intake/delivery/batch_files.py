"""Batch files under xml_out/<authority>/: sealed to their authority, or encrypted at rest.

Nothing under xml_out is plaintext:

- `<batch id>.zip.jwe`: the zip as JWE compact serialization sealed to the authority's
  public key (`security.sealing`); only the authority can open it, not this service's
  operator. These are the files an authority's transport picks up.
- `<batch id>.zip.enc`: for an authority without a key, the zip under the service's data key
  (`FieldCipher`, context `batch:<id>`), opened only when that authority downloads it.

`write` is the one way a file is written, the first time and again: after an erasure, a
change of the authority's key, a data-key rotation, or a crash that lost it. The file is
always made from the database, so it says what the database says at that moment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import threading
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import BinaryIO, Protocol

from jwcrypto import jwk
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.delivery import batches
from intake.delivery.files import private_folder, put_in_place, written_atomic
from intake.documents.blobs import Blobs
from intake.security import sealing
from intake.security.crypto import FieldCipher
from intake.store import models
from intake.store.database import Database

SEALED, AT_REST = ".zip.jwe", ".zip.enc"
# What releases before sealing wrote: complete XML in the clear, removed when rewritten.
PLAINTEXT = ".zip"


def context(batch_id: str) -> str:
    """Associated data of a batch file under the data key: it opens as this batch only."""
    return f"batch:{batch_id}"


class NamedBatch(Protocol):
    """A batch as its file's name needs it: a row of the batch table, or the object."""

    @property
    def id(self) -> str: ...

    @property
    def authority_key(self) -> str: ...

    @property
    def sealed_to(self) -> str | None: ...


def path(xml_out: Path, batch: NamedBatch) -> Path:
    """The batch's file, as the database records how it is sealed."""
    return xml_out / batch.authority_key / _name(batch)


def _name(batch: NamedBatch) -> str:
    return f"{batch.id}{SEALED if batch.sealed_to is not None else AT_REST}"


def recipient(session: Session, authority_key: str) -> sealing.PublicKey | None:
    """The authority's public key its batches are sealed to; None: the data key."""
    authority = session.get(models.Authority, authority_key)
    if authority is None or authority.public_key is None:
        return None
    return sealing.PublicKey(authority.public_key, str(authority.public_key_thumbprint))


def write(
    session: Session, cipher: FieldCipher, blobs: Blobs, xml_out: Path, batch: models.Batch,
    *, again: bool = False,
) -> Path:
    """Write the batch's file from the database, sealed to its authority's current key (or
    under the data key), unless it is there already; `again`: in any case.

    Sets `batch.sealed_to`: the caller's transaction records what the file is sealed to.
    """
    existing = path(xml_out, batch)
    if not again and existing.exists():
        return existing
    return write_packed(cipher, xml_out, batch, recipient(session, batch.authority_key),
                        lambda out: batches.pack_into(out, session, cipher, blobs, batch))


def write_packed(
    cipher: FieldCipher, xml_out: Path, batch: models.Batch,
    to: sealing.PublicKey | None, pack: Callable[[BinaryIO], None], aside: Path | None = None,
) -> Path:
    """Write the zip that `pack` writes to the stream it is given, sealed to `to` (None:
    under the data key) as it comes, aside and then renamed; the file under the batch's
    other name, if any, goes (`aside`: the file is left there, for the caller to put in
    place). Memory holds a piece of the file at a time, never all of it."""
    batch.sealed_to = to.thumbprint if to is not None else None
    target = aside or path(xml_out, batch)
    private_folder(xml_out)
    with written_atomic(target) as file:
        encrypted = (sealing.sealing(to, file) if to is not None
                     else cipher.encrypting(file, context(batch.id)))
        with encrypted as plaintext:
            pack(plaintext)  # type: ignore[arg-type]  # GcmWriter writes, as zipfile needs
    if aside is None:
        _only(xml_out, batch, target)
    return target


def _only(xml_out: Path, batch: models.Batch, target: Path) -> None:
    """Remove the batch's file under its other names, if any."""
    for other in _names(xml_out, batch):
        if other != target:
            other.unlink(missing_ok=True)


def write_from_snapshot(db: Database, cipher: FieldCipher, blobs: Blobs, xml_out: Path,
                        batch_id: str) -> None:
    """Write a batch's file again (lost, or sealed to a key the authority replaced) without
    holding a write lock while packing: a file of 5,000 messages takes seconds, and on
    SQLite registrations wait for the lock (a p99 of 3.3 s during the scale bench's key
    rotation, after a restart left a batch without its file).

    Packed aside from a read snapshot, then put in place in a short transaction that locks
    the batch, as an erasure writing its file does: if a message of it was erased
    meanwhile, the file is written in that transaction instead, from the database as it is.
    """
    with db.read() as session:
        batch = session.get(models.Batch, batch_id)
        if batch is None or batch.erased_at is not None:
            return
        erased = _erased_in(session, batch_id)
        aside = _aside(xml_out, batch)
        write_packed(cipher, xml_out, batch, recipient(session, batch.authority_key),
                     lambda out: batches.pack_into(out, session, cipher, blobs, batch), aside)
    try:
        with db.transaction() as session:
            current = session.get(models.Batch, batch_id, with_for_update=True)
            if current is None or current.erased_at is not None:
                return
            to = recipient(session, current.authority_key)
            if _erased_in(session, batch_id) != erased or (
                    to.thumbprint if to is not None else None) != batch.sealed_to:
                write(session, cipher, blobs, xml_out, current, again=True)
                return
            current.sealed_to = batch.sealed_to
            target = path(xml_out, current)
            put_in_place(aside, target)
            _only(xml_out, current, target)
    finally:
        aside.unlink(missing_ok=True)


def _erased_in(session: Session, batch_id: str) -> int:
    """How many of the batch's messages have lost their payload: erased on request, or by
    a sweep that dates their batch alone (retention._erase)."""
    payloads = models.MessagePayload
    return int(session.scalar(
        select(func.count()).select_from(models.Message)
        .outerjoin(payloads, payloads.message_id == models.Message.id)
        .where(models.Message.batch_id == batch_id, payloads.message_id.is_(None))) or 0)


def encrypt_again(cipher: FieldCipher, xml_out: Path, batch: models.Batch) -> Path:
    """The batch's file under the data key, encrypted again with the newest key as it is,
    into a file aside (returned; the caller puts it in place, `put_in_place`): read and
    written in pieces, the zip not made again (a live file of a big authority is 100 MB,
    and a national service holds a month's)."""
    aside = _aside(xml_out, batch)
    with path(xml_out, batch).open("rb") as file, written_atomic(aside) as out:
        pieces = cipher.decrypting(file, context(batch.id))
        with cipher.encrypting(out, context(batch.id)) as plaintext:
            for piece in pieces:
                plaintext.write(piece)
    return aside


def _aside(xml_out: Path, batch: models.Batch) -> Path:
    """A hidden name beside the batch's file, for a file to put in its place."""
    return path(xml_out, batch).with_name(f".{batch.id}.{secrets.token_hex(4)}.aside")


def identity(file: Path) -> tuple[int, int, int] | None:
    """What changes when a file is replaced (by rename) or written: None if there is none."""
    try:
        found = file.stat()
    except FileNotFoundError:
        return None
    return found.st_ino, found.st_mtime_ns, found.st_size


def _names(xml_out: Path, batch: NamedBatch) -> list[Path]:
    """Every name a batch's file may have had (sealed, under the data key, plaintext)."""
    folder = xml_out / batch.authority_key
    return [folder / f"{batch.id}{suffix}" for suffix in (SEALED, AT_REST, PLAINTEXT)]


# Threads removing a retention sweep's files side by side: the kernel frees a file's blocks
# in the unlink, outside Python's lock. 13,000 stand-in files (2.2 GB) took 1.4 s one after
# the other on this machine's ext4, 0.9 s in 4 threads.
REMOVERS = 4


@contextmanager
def removing(xml_out: Path, batches: Sequence[models.Batch]) -> Iterator[None]:
    """Delete the batches' files, whatever their names, in threads while the caller goes on
    (the sweep runs its statements meanwhile): all are gone when the block ends. If it
    raises, the files not begun yet stay, for the rolled-back transaction still holds
    their batches."""
    # Named here: the threads touch no object of the caller's session.
    names = [name for batch in batches for name in _names(xml_out, batch)]
    if not names:
        yield
        return
    stop = threading.Event()
    with ThreadPoolExecutor(REMOVERS) as pool:
        # A share of the names a thread, not a task a name: handing out 26,000 tasks took
        # the sweep's thread 0.75 s of a 7.8 s sweep (pyinstrument, PostgreSQL, 100,000).
        shares = [pool.submit(_unlink_all, names[start::REMOVERS], stop)
                  for start in range(REMOVERS)]
        try:
            yield
            for share in shares:
                share.result()  # an error in a thread is raised here, not dropped
        except BaseException:
            stop.set()
            raise


def _unlink_all(names: Sequence[Path], stop: threading.Event) -> None:
    """Remove the names until done or stopped; a failure stops the other threads too, for
    the caller's transaction will not commit."""
    try:
        for name in names:
            if stop.is_set():
                return
            name.unlink(missing_ok=True)
    except BaseException:
        stop.set()
        raise


def opened(cipher: FieldCipher, batch_id: str, stored: bytes) -> bytes:
    """The zip of a file under the data key (a sealed file only its authority opens)."""
    return cipher.decrypt_bytes(stored.decode(), context(batch_id))


def opened_pieces(cipher: FieldCipher, batch_id: str, file: BinaryIO) -> Iterator[bytes]:
    """The zip of an open file under the data key, in pieces, for a download: nothing
    comes before the whole file is authenticated (DecryptionError)."""
    return cipher.decrypting(file, context(batch_id))


def batch_id_of(name: Path) -> str:
    """The batch a file under xml_out/<authority>/ belongs to, by its name."""
    return name.name.split(".", 1)[0]


def to_write(session: Session, xml_out: Path, committed_before: dt.datetime,
             every: bool = False) -> list[str]:
    """The batches committed before that moment whose file must be written (again), by id:
    missing, or not sealed to the authority's current key.

    Of the unacknowledged batches, unless `every`: the ones a crash between commit and
    rename left without a file, or whose authority's key changed while they were written.
    An authority's importer acknowledges what it imported, and a download writes a missing
    file itself (web.deliveries), so a file lost before it was fetched is an unacknowledged
    batch's. Those are a few; every batch kept (`every`: a restored xml_out, files an
    earlier release wrote in plaintext) was ~130,000 at a million registrations, 1 s a
    round, and the scheduler's rounds are seconds apart. Which files exist is read by
    listing each authority's folder once; only sealed ones are opened (the key they name)."""
    batch = models.Batch
    live = session.execute(
        select(batch.id, batch.authority_key, batch.sealed_to, batch.acknowledged_at,
               models.Authority.public_key_thumbprint.label("current"))
        .join(models.Authority, models.Authority.key == batch.authority_key)
        .where(batch.erased_at.is_(None), batch.created_at < committed_before,
               *([] if every else [batch.acknowledged_at.is_(None)]))
    ).all()
    present = {key: _listed(xml_out / key) for key in {row.authority_key for row in live}}
    return [
        row.id for row in live
        if _name(row) not in present[row.authority_key]
        or (row.acknowledged_at is None and _sealed_to(xml_out, row) != row.current)
    ]


def _listed(folder: Path) -> set[str]:
    try:
        return set(os.listdir(folder))
    except FileNotFoundError:
        return set()


def _sealed_to(xml_out: Path, batch: NamedBatch) -> str | None:
    """The thumbprint the file itself names (its JWE header), not what the database says;
    GONE if the file went since its folder was listed."""
    if batch.sealed_to is None:
        return None
    try:
        with path(xml_out, batch).open("rb") as file:
            return sealing.kid(file.read(1024))
    except FileNotFoundError:  # removed meanwhile (a sweep): written again, or found erased
        return GONE


# No authority key's thumbprint: a file that went between the listing and the reading.
GONE = "(no file)"


def on_old_data_key(cipher: FieldCipher, xml_out: Path, batch: models.Batch) -> bool:
    """Whether the batch's file is under the data key, but not its newest one."""
    found = path(xml_out, batch)
    if batch.sealed_to is not None or not found.exists():
        return False
    with found.open("rb") as file:
        return cipher.key_id(file.read(64).decode(errors="replace")) != cipher.current_key_id


def read_files(
    xml_out: Path, cipher: FieldCipher, private_keys: jwk.JWKSet | None = None
) -> dict[str, bytes]:
    """Every message in the batch files under xml_out/, by file name, as the receivers read
    them: sealed files opened with their authorities' private keys, the others with the data
    key.

    Raises ValueError for a member whose sha256 differs from its manifest, a manifest whose
    count is wrong, or a message found in two batches.
    """
    found: dict[str, bytes] = {}
    for name in sorted([*xml_out.glob(f"*/*{SEALED}"), *xml_out.glob(f"*/*{AT_REST}")]):
        stored = name.read_bytes()
        if name.name.endswith(SEALED):
            zipped = sealing.unseal(private_keys or jwk.JWKSet(), stored)
        else:
            zipped = opened(cipher, batch_id_of(name), stored)
        _read_zip(name.name, zipped, found)
    return found


def _read_zip(name: str, zipped: bytes, found: dict[str, bytes]) -> None:
    with zipfile.ZipFile(BytesIO(zipped)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        if not manifest["count"] == len(manifest["members"]) == len(archive.namelist()) - 1:
            raise ValueError(f"{name}: the manifest's count is wrong")
        for member in manifest["members"]:
            xml = archive.read(member["name"])
            if hashlib.sha256(xml).hexdigest() != member["sha256"]:
                raise ValueError(f"{name}: {member['name']} does not match its checksum")
            if member["name"] in found:
                raise ValueError(f"{member['name']} is in two batches")
            found[member["name"]] = xml
