"""PDFs: scripts, attachments and passwords are refused; what is kept loses its metadata."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.actions import JavaScript, PageTrigger
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from intake.documents import files, pdfs
from tests.helpers import documents
from tests.helpers.documents import PRIVATE, pdf, pdf_bytes


def test_a_plain_pdf_is_rewritten_without_its_metadata():
    sent = pdf_bytes(pdf(pages=2))
    assert PRIVATE in sent and PdfReader(io.BytesIO(sent)).trailer.get("/ID") is None

    document = files.accept(sent, "tenancy.pdf", "application/pdf")

    assert document.media_type == "application/pdf" and document.pages == 2
    assert document.pixels is None
    kept = PdfReader(io.BytesIO(document.content))
    assert len(kept.pages) == 2
    assert kept.metadata is None and "/Info" not in kept.trailer
    assert "/Metadata" not in kept.trailer["/Root"]
    assert PRIVATE not in document.content and b"pypdf" not in document.content


def test_the_jpeg_inside_a_pdf_loses_its_exif_and_still_shows():
    sent = pdf_bytes(pdf(image=documents.photo((400, 300))))
    assert b"Exif\x00\x00" in sent

    document = files.accept(sent, "scan.pdf")

    assert b"Exif\x00\x00" not in document.content and PRIVATE not in document.content
    image = next(iter(PdfReader(io.BytesIO(document.content)).pages[0].images)).image
    assert image is not None and image.size == (400, 300)
    assert len(image.getexif()) == 0


def test_jpeg_segments_a_decoder_needs_are_kept():
    jpeg = documents.photo((64, 48))

    stripped = pdfs.jpeg_without_metadata(jpeg)

    assert len(stripped) < len(jpeg) and stripped.startswith(b"\xff\xd8\xff\xe0")  # JFIF
    image = Image.open(io.BytesIO(stripped))
    assert image.size == (64, 48) and len(image.getexif()) == 0 and "comment" not in image.info
    assert pdfs.jpeg_without_metadata(b"not a jpeg") == b"not a jpeg"
    assert pdfs.jpeg_without_metadata(jpeg[:30]) == jpeg[:30]  # a segment cut short


def _document_script(writer: PdfWriter) -> None:
    writer.add_open_action(JavaScript("app.alert('hello');"))  # the names tree's /JavaScript


def _page_script(writer: PdfWriter) -> None:
    writer.pages[0].add_action(PageTrigger.OPEN, JavaScript("app.alert('page');"))


def _launch(writer: PdfWriter) -> None:
    writer.root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe"),
    })


@pytest.mark.parametrize("add", [_document_script, _page_script, _launch])
def test_a_pdf_with_active_content_is_refused(add):  # type: ignore[no-untyped-def]
    writer = pdf()
    add(writer)

    with pytest.raises(files.Refused) as refused:
        files.accept(pdf_bytes(writer), "x.pdf")

    assert refused.value.reason == "active_content" and str(refused.value) == "active_content"
    assert str(refused.value.message) == (
        "“x.pdf” contains active content (JavaScript) and cannot be accepted.")


def test_a_script_hidden_behind_an_escaped_name_is_found():
    # /J#53 is /JS written with a hex escape: readers take it as /JS, so must the check.
    sent = pdf_bytes(pdf()).replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S "
                                    b"/JavaScript /J#53 (app.alert\\(1\\)) >>", 1)

    with pytest.raises(files.Refused, match="active_content"):
        files.accept(sent, "x.pdf")


def test_a_pdf_with_an_embedded_file_is_refused():
    writer = pdf()
    writer.add_attachment("invoice.exe", b"MZ...")

    with pytest.raises(files.Refused) as refused:
        files.accept(pdf_bytes(writer), "proof.pdf")

    assert refused.value.reason == "attachments"
    assert str(refused.value.message) == (
        "“proof.pdf” contains attached files and cannot be accepted.")


def test_an_encrypted_pdf_is_refused():
    writer = pdf()
    writer.encrypt("secret", algorithm="AES-256")

    with pytest.raises(files.Refused) as refused:
        files.accept(pdf_bytes(writer), "locked.pdf")

    assert refused.value.reason == "encrypted" and "“locked.pdf”" in str(refused.value.message)


@pytest.mark.parametrize("sent", [
    b"%PDF-1.7\n garbage that is no PDF at all",
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>",
])
def test_a_pdf_that_cannot_be_read_is_refused(sent: bytes):
    with pytest.raises(files.Refused) as refused:
        files.accept(sent, "broken.pdf")

    assert refused.value.reason == "unreadable_pdf"
    assert str(refused.value.message) == "“broken.pdf” cannot be read as a PDF."
    assert refused.value.__suppress_context__


def test_a_pdf_of_too_many_objects_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(pdfs, "MAX_OBJECTS", 5)

    with pytest.raises(files.Refused, match="unreadable_pdf"):
        files.accept(pdf_bytes(pdf(pages=4)), "many.pdf")
