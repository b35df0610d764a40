"""What a file must be to be kept: a photo (JPEG, PNG, HEIC) or a PDF, known by its bytes,
at most 10 MB, and made safe (photos.clean, pdfs.clean) before anything stores it.

The client's file name and declared content type are never trusted: the name only
appears in the message that refuses a file, and is not kept with an accepted one.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from intake.documents import pdfs, photos
from intake.documents.refusals import Refused

__all__ = ["MAX_FILE_BYTES", "MAX_HOUSEHOLD_BYTES", "Document", "Refused", "accept",
           "check_household_total", "shown_name", "sniff"]

# Binary megabytes: a phone that shows a photo as "10 MB" (decimal, as iOS counts) is
# under this, not over it by a few hundred kilobytes.
MEGABYTE = 1024 * 1024
MAX_FILE_BYTES = 10 * MEGABYTE
MAX_HOUSEHOLD_BYTES = 30 * MEGABYTE

JPEG, PNG, HEIC, PDF = "image/jpeg", "image/png", "image/heic", "application/pdf"
# HEIF's brands for still images (ISO/IEC 23008-12): iPhones write "heic"; "mif1" and
# "msf1" are the general ones. AVIF ("avif") is not among them: libheif here cannot decode it.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})


@dataclass(frozen=True)
class Document:
    """A file made safe: a new JPEG or a rewritten PDF, never the bytes that arrived."""

    media_type: str  # image/jpeg or application/pdf
    content: bytes
    sha256: str  # of `content`, hex
    pages: int  # 1 for a photo
    pixels: tuple[int, int] | None  # width and height of a photo; None for a PDF

    @property
    def size(self) -> int:
        return len(self.content)


def sniff(data: bytes) -> str | None:
    """The media type that the first bytes show, among the accepted ones; else None."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return HEIC
    if data.startswith(b"%PDF-"):
        return PDF
    return None


def accept(data: bytes, file_name: str, declared_type: str | None = None) -> Document:
    """The file made safe, or Refused with a message that names it.

    `declared_type` (the client's Content-Type) is taken and ignored on purpose: phones
    send application/octet-stream for HEIC, and a sender could claim anything.
    """
    del declared_type
    name = shown_name(file_name)
    if not data:
        raise Refused("empty", _l("“%(name)s” is empty.", name=name))
    if len(data) > MAX_FILE_BYTES:
        raise Refused("too_large", _l(
            "“%(name)s” is larger than %(megabytes)d MB.",
            name=name, megabytes=MAX_FILE_BYTES // MEGABYTE))
    media_type = sniff(data)
    if media_type is None:
        raise Refused("not_accepted", _l("“%(name)s” is not a photo or a PDF.", name=name))
    if media_type == PDF:
        content, pages = pdfs.clean(data, name)
        return Document(PDF, content, _sha256(content), pages, None)
    # Every photo becomes a JPEG, PNG screenshots too: one format for the authority's
    # viewers and the message, a third of a PNG's bytes for a photographed page, and a
    # new encoding leaves none of the original's chunks (text, eXIf, iCCP) behind.
    content, pixels = photos.clean(data, media_type, name)
    return Document(JPEG, content, _sha256(content), 1, pixels)


def check_household_total(stored_bytes: int, document: Document, file_name: str) -> None:
    """Refuse `document` when it would take a household's documents past 30 MB.

    Counted on the documents as stored (`Document.size`), not as sent: a family's phone
    photos of 3-4 MB each shrink to a few hundred kilobytes, and should all fit.
    """
    if stored_bytes + document.size > MAX_HOUSEHOLD_BYTES:
        raise Refused("household_too_large", _l(
            "“%(name)s” does not fit: a household's documents may take %(megabytes)d MB "
            "together.", name=shown_name(file_name), megabytes=MAX_HOUSEHOLD_BYTES // MEGABYTE))


# Controls, format characters (bidirectional overrides that reorder what is shown) and
# separators other than the space.
_HIDDEN = re.compile(r"[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_SHOWN_LENGTH = 80


def shown_name(file_name: str) -> str:
    """The file's name as a message may show it: no folders (old browsers send the path),
    no control or direction characters, at most 80 characters."""
    base = re.split(r"[/\\]", file_name)[-1]
    shown = _HIDDEN.sub("", unicodedata.normalize("NFC", base)).strip()
    if len(shown) > _SHOWN_LENGTH:
        shown = shown[:_SHOWN_LENGTH - 1] + "…"
    return shown or "…"


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
