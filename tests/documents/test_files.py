"""The door for uploads: the bytes, not the name or the declared type, say what a file is."""

from __future__ import annotations

import pytest

from intake.documents import files
from tests.helpers import documents


@pytest.mark.parametrize(("sent", "media_type"), [
    (documents.photo(), "image/jpeg"),
    (documents.screenshot(), "image/png"),
    (documents.heic(), "image/heic"),
    (documents.pdf_bytes(documents.pdf()), "application/pdf"),
    (b"GIF89a....", None),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
    (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00", None),
    (b"", None),
])
def test_the_type_is_known_from_the_bytes(sent: bytes, media_type: str | None):
    assert files.sniff(sent) == media_type


def test_a_photo_named_and_declared_as_a_pdf_is_taken_as_the_photo_it_is():
    document = files.accept(documents.photo(), "passport.pdf", "application/pdf")

    assert document.media_type == "image/jpeg"


@pytest.mark.parametrize(("sent", "reason", "message"), [
    (b"MZ\x90\x00 an executable", "not_accepted", "“passport.jpg” is not a photo or a PDF."),
    (b"", "empty", "“passport.jpg” is empty."),
    (b"\xff\xd8\xff" + b"\x00" * files.MAX_FILE_BYTES, "too_large",
     "“passport.jpg” is larger than 10 MB."),
])
def test_a_file_is_refused_with_its_name_in_the_message_only(
    sent: bytes, reason: str, message: str
):
    with pytest.raises(files.Refused) as refused:
        files.accept(sent, "passport.jpg", "image/jpeg")

    assert refused.value.reason == reason and str(refused.value.message) == message
    # What a log or a traceback would show: the reason, never the file's name.
    assert "passport" not in str(refused.value) and "passport" not in repr(refused.value)


def test_ten_megabytes_as_a_phone_counts_them_are_not_too_large():
    sent = documents.photo()
    padded = sent + b"\x00" * (10_400_000 - len(sent))  # after the image's end: ignored

    assert files.accept(padded, "big.jpg").pixels == (300, 200)


@pytest.mark.parametrize(("sent", "shown"), [
    ("C:\\fakepath\\passport.jpg", "passport.jpg"),
    ("../../etc/passwd", "passwd"),
    ("pass\u202egpj.exe", "passgpj.exe"),  # a right-to-left override hid the real ending
    ("line\nbreak.pdf", "linebreak.pdf"),
    ("", "…"),
    ("Паспорт " + "а" * 100 + ".jpg", "Паспорт " + "а" * 71 + "…"),
])
def test_names_are_shown_without_folders_controls_or_excess(sent: str, shown: str):
    assert files.shown_name(sent) == shown


def test_a_household_may_keep_30_megabytes_of_documents():
    document = files.accept(documents.photo(), "page.jpg")
    files.check_household_total(files.MAX_HOUSEHOLD_BYTES - document.size, document, "page.jpg")

    with pytest.raises(files.Refused) as refused:
        files.check_household_total(
            files.MAX_HOUSEHOLD_BYTES - document.size + 1, document, "proof.jpg")

    assert refused.value.reason == "household_too_large"
    assert str(refused.value.message) == (
        "“proof.jpg” does not fit: a household's documents may take 30 MB together.")
