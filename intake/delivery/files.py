"""Files that appear whole or not at all, readable by this service's user only."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

# Batch files hold personal data (sealed or encrypted, but still): no other local user lists
# or reads them, whatever umask the process was started with.
FILE_MODE, FOLDER_MODE = 0o600, 0o700


def private_folder(folder: Path) -> None:
    """Make the folder if missing, and give it FOLDER_MODE.

    mkdir's mode passes through the umask, and a folder made by an earlier release has 0755:
    the explicit chmod covers both.
    """
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    os.chmod(folder, FOLDER_MODE)


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` aside, flush it to disk, then rename it into place (mode FILE_MODE).

    A reader (the authority's transport) sees either no file or the complete file, and a
    crash at any point leaves at most a hidden temporary file behind.
    """
    with written_atomic(path) as file:
        file.write(data)


@contextlib.contextmanager
def written_atomic(path: Path) -> Iterator[BinaryIO]:
    """A file to write in pieces that appears at `path` whole when the block ends, as
    `write_atomic` gives it; an exception in the block removes the part written."""
    private_folder(path.parent)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # Created with its mode: a file opened first and chmod-ed after is readable in between.
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(handle, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    put_in_place(temporary, path)


def put_in_place(written: Path, path: Path) -> None:
    """Rename a file written whole and flushed (`written_atomic`) to `path`, durably."""
    os.replace(written, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # make the rename itself durable
    finally:
        os.close(directory)
