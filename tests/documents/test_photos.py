"""Photos leave with nothing but their pixels: no EXIF (GPS), upright, at most 2,000 px."""

from __future__ import annotations

import io
import warnings

import pytest
from PIL import Image

from intake.documents import files, photos
from tests.helpers import documents


def opened(document: files.Document) -> Image.Image:
    image = Image.open(io.BytesIO(document.content))
    assert image.format == "JPEG" and document.media_type == "image/jpeg"
    return image


def assert_no_metadata(document: files.Document) -> None:
    image = opened(document)
    assert len(image.getexif()) == 0
    assert not set(image.info) & {"exif", "xmp", "icc_profile", "comment"}
    # As an attacker would look at the bytes: no APP1 segment "Exif", no XMP, no name.
    assert b"Exif\x00\x00" not in document.content
    assert b"xmpmeta" not in document.content and documents.PRIVATE not in document.content


def test_a_photo_with_gps_tags_leaves_without_any_exif():
    sent = documents.photo()
    assert Image.open(io.BytesIO(sent)).getexif().get_ifd(0x8825)  # it had a GPS position

    document = files.accept(sent, "passport.jpg", "image/jpeg")

    assert_no_metadata(document)
    assert document.pixels == (300, 200) and document.pages == 1
    assert document.sha256 == __import__("hashlib").sha256(document.content).hexdigest()


def test_a_turned_photo_is_made_upright():
    # Stored landscape with orientation 6: shown after a quarter turn clockwise, so the
    # stored top left (the red square) is the shown top right.
    document = files.accept(documents.photo((300, 200), orientation=6), "page.jpg")

    image = opened(document)
    assert image.size == (200, 300) == document.pixels
    red, green, blue = image.getpixel((195, 5))  # type: ignore[misc]
    assert red > 200 and green < 60 and blue < 60
    assert image.getpixel((5, 5)) == pytest.approx((255, 255, 255), abs=8)
    assert_no_metadata(document)


def test_a_large_photo_is_scaled_to_2000_px_on_its_long_side():
    document = files.accept(documents.photo((6000, 4500)), "big.jpg")

    assert document.pixels == (2000, 1500) == opened(document).size


def test_a_phones_12_megapixel_photo_keeps_what_the_decoder_scaled_it_to():
    """Halved while decoded (2016 x 1512), it is not resampled again for 16 pixels."""
    document = files.accept(documents.photo((4032, 3024)), "IMG_0001.JPG")

    assert document.pixels == (2016, 1512) == opened(document).size


def test_a_png_screenshot_becomes_a_jpeg_on_white():
    document = files.accept(documents.screenshot(), "screenshot.png", "image/png")

    image = opened(document)
    assert image.size == (400, 800)
    assert image.getpixel((300, 700)) == pytest.approx((255, 255, 255), abs=8)  # was clear
    blue = image.getpixel((10, 10))
    assert blue[2] > 200 and blue[0] < 60  # type: ignore[index]
    assert_no_metadata(document)


def test_a_heic_photo_from_an_iphone_becomes_a_jpeg_without_exif():
    sent = documents.heic()
    assert files.sniff(sent) == "image/heic"

    document = files.accept(sent, "IMG_0001.HEIC", "application/octet-stream")

    assert document.pixels == (640, 480)
    assert_no_metadata(document)


def test_a_sixteen_bit_greyscale_png_keeps_its_greys():
    output = io.BytesIO()
    Image.new("I;16", (50, 50), 32768).save(output, "PNG")

    image = opened(files.accept(output.getvalue(), "scan.png"))

    assert image.getpixel((5, 5)) == pytest.approx((128, 128, 128), abs=3)


@pytest.mark.parametrize("size", [(30_000, 30_000), (8_000, 8_000)])
def test_a_decompression_bomb_is_refused_without_decoding_it(size: tuple[int, int]):
    bomb = documents.png_header_only(*size)
    assert len(bomb) < 200  # 900 and 64 million pixels claimed

    with pytest.raises(files.Refused) as refused:
        files.accept(bomb, "bomb.png")

    assert refused.value.reason == "too_many_pixels"
    assert "“bomb.png”" in str(refused.value.message)


def test_a_bomb_is_refused_by_the_own_count_where_pillow_only_warns():
    # Outside the tests Pillow's warning is no exception: the module's own count refuses.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with pytest.raises(files.Refused, match="too_many_pixels"):
            files.accept(documents.png_header_only(8_000, 8_000), "bomb.png")
    assert Image.MAX_IMAGE_PIXELS == photos.MAX_PIXELS


@pytest.mark.parametrize("damage", ["truncated", "garbled"])
def test_a_broken_photo_is_refused_with_its_name(damage: str):
    sent = documents.photo((800, 600))
    broken = sent[: len(sent) // 2] if damage == "truncated" else sent[:600] + b"\x00" * 3000

    with pytest.raises(files.Refused) as refused:
        files.accept(broken, "passport.jpg")

    assert refused.value.reason == "unreadable_photo"
    assert str(refused.value.message) == (
        "“passport.jpg” cannot be read as a photo. Please take the photo again.")
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
