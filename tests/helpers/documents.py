"""Files as phones and attackers send them, made here: photos with GPS tags, turned photos,
screenshots, HEIC, decompression bombs, broken files, and PDFs with and without scripts."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import pillow_heif
from PIL import ExifTags, Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, NumberObject

from intake.runtime import Runtime

# What a clerk or an attacker would look for in a file that was meant to lose it.
PRIVATE = b"Shevchenko"
LATITUDE = (52.0, 31.0, 12.0)  # Berlin, in the GPS tags


def gps_exif(orientation: int = 1) -> Image.Exif:
    """EXIF as a phone writes it: maker, orientation and a GPS position."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Artist] = PRIVATE.decode()
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (13.0, 24.0, 36.0)
    return exif


def photo(size: tuple[int, int] = (300, 200), orientation: int = 1) -> bytes:
    """A JPEG with GPS tags, XMP and a comment; a red square marks the stored top left."""
    image = Image.new("RGB", size, "white")
    image.paste((255, 0, 0), (0, 0, size[0] // 10, size[1] // 10))
    output = io.BytesIO()
    image.save(output, "JPEG", exif=gps_exif(orientation), comment=PRIVATE + b" comment",
               xmp=b"<x:xmpmeta>" + PRIVATE + b"</x:xmpmeta>")
    return output.getvalue()


def screenshot() -> bytes:
    """A PNG with transparency and a text chunk, as screenshots and exported scans come."""
    from PIL.PngImagePlugin import PngInfo

    image = Image.new("RGBA", (400, 800), (0, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 40, 40))
    text = PngInfo()
    text.add_text("Author", PRIVATE.decode())
    output = io.BytesIO()
    image.save(output, "PNG", pnginfo=text)
    return output.getvalue()


def heic() -> bytes:
    """A HEIC photo as an iPhone sends it (pillow-heif's encoder), with EXIF GPS tags."""
    pillow_heif.register_heif_opener()
    output = io.BytesIO()
    Image.new("RGB", (640, 480), "green").save(output, "HEIF", exif=gps_exif().tobytes())
    return output.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims `width` x `height` pixels in a few dozen bytes: a decompression
    bomb's header, made without drawing it."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def pdf(pages: int = 1, image: bytes | None = None) -> PdfWriter:
    """A PDF writer with blank pages, an author, XMP, and optionally a JPEG on the first."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    writer.add_metadata({"/Author": PRIVATE.decode(), "/Title": "Passport"})
    writer.xmp_metadata = b"<x:xmpmeta>" + PRIVATE + b"</x:xmpmeta>"
    if image is not None:
        _draw(writer, image)
    return writer


def pdf_bytes(writer: PdfWriter) -> bytes:
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def scripted_pdf() -> bytes:
    """A PDF that would run JavaScript when opened."""
    writer = pdf()
    writer.add_open_action(JavaScript("app.alert('hello');"))
    return pdf_bytes(writer)


def _draw(writer: PdfWriter, jpeg: bytes) -> None:
    """Put a JPEG, as it is (DCTDecode), on the first page."""
    width, height = Image.open(io.BytesIO(jpeg)).size
    xobject = DecodedStreamObject()
    xobject.set_data(jpeg)
    xobject.update({
        NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Image"),
        NameObject("/Width"): NumberObject(width), NameObject("/Height"): NumberObject(height),
        NameObject("/ColorSpace"): NameObject("/DeviceRGB"),
        NameObject("/BitsPerComponent"): NumberObject(8),
        NameObject("/Filter"): NameObject("/DCTDecode"),
    })
    page = writer.pages[0]
    page[NameObject("/Resources")] = DictionaryObject({
        NameObject("/XObject"): DictionaryObject({NameObject("/Im0"): writer._add_object(xobject)}),
    })
    content = DecodedStreamObject()
    content.set_data(f"q {width} 0 0 {height} 0 0 cm /Im0 Do Q".encode())
    page[NameObject("/Contents")] = writer._add_object(content)


def s3_client(runtime: Runtime) -> Any:
    """The boto3 client the runtime's object store uses."""
    store = runtime.blobs.current
    assert store.location == "s3"
    return store.client  # type: ignore[attr-defined]


def objects(runtime: Runtime) -> dict[str, bytes]:
    """Every object in the runtime's bucket: name -> bytes."""
    s3 = s3_client(runtime)
    bucket = runtime.blobs.current.where.bucket  # type: ignore[attr-defined]
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"]: s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            for item in listed}



def stored_before_0023(runtime: Runtime, document_id: str) -> bytes:
    """Make a saved document as migration 0023 found those stored before it: no key of
    its own, its content sealed with the data key. Its new stored bytes."""
    from intake.documents import store as documents
    from intake.store import models

    with runtime.db.transaction() as session:
        row = session.get(models.Document, document_id)
        assert row is not None
        content = documents.content(session, runtime.cipher, runtime.blobs, row)
        sealed = runtime.cipher.seal(content, documents.content_context(row.id))
        row.content_key = None
        runtime.blobs.at(row.location).put(session, row, sealed)
        return sealed
