"""PDFs made safe to keep and send: read by pypdf, refused with active content, attachments
or encryption, and written anew without the document's metadata.

What an accepted PDF keeps: its pages (content, fonts, images), their annotations and form
fields, and the outline. What it loses: the document information (author, title, the
program that made it, dates), every XMP metadata stream, applications' private data
(/PieceInfo), the file identifiers, and the metadata segments (EXIF with GPS, XMP, ICC,
comments) of the JPEG images inside it. JPEG 2000 images keep their own boxes.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from flask_babel import lazy_gettext as _l
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from intake.documents.refusals import Refused

# A scan of 20 pages has some 100 objects and a long text PDF a few thousand; walking one
# takes ~20 µs. Past this many, a file is more likely made to keep the checks busy.
MAX_OBJECTS = 50_000

# Actions that run something: scripts, programs, Flash. URI links (a bank's statement, a
# tenancy contract) stay allowed.
_ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch", "/RichMediaExecute"})
# Keys that hold scripts wherever they are: /JS (an action's script), /JavaScript (the
# document's script tree in /Names), /XFA (forms whose scripts run in the reader), /AA
# is an action holder and is looked into like any other dictionary.
_ACTIVE_KEYS = frozenset({"/JS", "/JavaScript", "/XFA"})
_ACTIVE_TYPES = frozenset({"/RichMedia"})
# Embedded files: the document's tree of them, a file specification's /EF, the files
# themselves, and attachment annotations on a page.
_EMBEDDED_KEYS = frozenset({"/EmbeddedFiles", "/EF"})
_EMBEDDED_TYPES = frozenset({"/EmbeddedFile", "/FileAttachment"})
# Metadata that objects anywhere may carry.
_METADATA_KEYS = ("/Metadata", "/PieceInfo")


class _Unreadable(Exception):
    """The file cannot be taken as a PDF (caught below, never leaves the module)."""


def clean(data: bytes, name: str) -> tuple[bytes, int]:
    """The PDF written anew without metadata, and its number of pages.

    Raises Refused when the file is encrypted, carries active content or embedded files,
    or cannot be read.
    """
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise Refused("encrypted", _l(
                "“%(name)s” is protected by a password and cannot be accepted. Please send "
                "it without the password.", name=name))
        _check(reader, name)
        pages = len(reader.pages)
        if pages == 0:
            raise _Unreadable
        return _rewritten(reader), pages
    except Refused:
        raise
    except Exception:
        # pypdf raises many kinds on hostile input (its own, KeyError, RecursionError...).
        # `from None`: a parser's message may quote the file's own text.
        raise Refused(
            "unreadable_pdf", _l("“%(name)s” cannot be read as a PDF.", name=name)
        ) from None


def _check(reader: PdfReader, name: str) -> None:
    """Refuse active content and embedded files anywhere in the document's objects."""
    for dictionary in _dictionaries(reader.trailer):
        if (
            _ACTIVE_KEYS.intersection(dictionary)
            or _name(dictionary, "/S") in _ACTIVE_ACTIONS
            or _name(dictionary, "/Subtype") in _ACTIVE_TYPES
        ):
            raise Refused("active_content", _l(
                "“%(name)s” contains active content (JavaScript) and cannot be accepted.",
                name=name))
        if (
            _EMBEDDED_KEYS.intersection(dictionary)
            or _name(dictionary, "/Type") in _EMBEDDED_TYPES
            or _name(dictionary, "/Subtype") in _EMBEDDED_TYPES
        ):
            raise Refused("attachments", _l(
                "“%(name)s” contains attached files and cannot be accepted.", name=name))


def _rewritten(reader: PdfReader) -> bytes:
    """The pages copied into a new document: the source's trailer (document information,
    file identifiers) and catalog (XMP, names, open action) stay behind."""
    writer = PdfWriter()
    writer.append(reader)
    writer.metadata = None  # not even pypdf's own /Producer
    for dictionary in _dictionaries(writer.root_object):
        for key in _METADATA_KEYS:
            dictionary.pop(key, None)
        if isinstance(dictionary, StreamObject) and _name(dictionary, "/Filter") == "/DCTDecode":
            # The base class's set_data keeps the filter: the bytes are still a JPEG.
            StreamObject.set_data(dictionary, jpeg_without_metadata(dictionary._data))
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def _dictionaries(root: Any) -> Iterator[DictionaryObject]:
    """Every dictionary (and stream) reachable from `root`, each indirect object once.

    A dictionary is yielded before its values are looked into, so that keys the caller
    removes are not followed.
    """
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            if len(seen) > MAX_OBJECTS:
                raise _Unreadable
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            yield item
            stack.extend(dict.values(item))  # unresolved: references are followed above
        elif isinstance(item, ArrayObject):
            stack.extend(item)


def _name(dictionary: DictionaryObject, key: str) -> str | None:
    """A name's value, followed if it is a reference (a reader follows it too), and the
    one name of a one-element array (filters); else None."""
    value = dictionary.get(key)
    if isinstance(value, IndirectObject):
        value = value.get_object()
    if isinstance(value, ArrayObject) and len(value) == 1:
        value = value[0]
    return str(value) if value is not None else None


# JPEG markers (ITU T.81): segments a decoder needs stay; APP1-APP13 and APP15 (EXIF, XMP,
# ICC, Photoshop's IPTC) and COM (comments) go. APP0 (JFIF) and APP14 (Adobe: how the
# colours are transformed) are needed to decode some JPEGs right.
_DROPPED = frozenset([*range(0xE1, 0xEE), 0xEF, 0xFE])
_START_OF_SCAN = 0xDA
_STANDALONE = frozenset([0x01, *range(0xD0, 0xD8)])


def jpeg_without_metadata(data: bytes) -> bytes:
    """A JPEG's bytes without its metadata segments; unchanged if it cannot be parsed."""
    if not data.startswith(b"\xff\xd8"):
        return data
    kept = [b"\xff\xd8"]
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return data
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _STANDALONE:
            kept.append(data[position:position + 2])
            position += 2
            continue
        if marker == _START_OF_SCAN:  # the image data follows, to the end
            kept.append(data[position:])
            return b"".join(kept)
        end = position + 2 + int.from_bytes(data[position + 2:position + 4], "big")
        if end > len(data):
            return data
        if marker not in _DROPPED:
            kept.append(data[position:end])
        position = end
    return data
