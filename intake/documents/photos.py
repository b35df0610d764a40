"""Photos of documents made safe to keep and send: decoded, upright, stripped, scaled, JPEG.

Nothing of the original file travels on: the pixels are copied into a new image, so EXIF
(GPS position, camera, time), XMP, ICC profiles, comments and PNG text chunks stay behind.
"""

from __future__ import annotations

import io
from typing import IO

import pillow_heif
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps

from intake.documents.refusals import Refused

# A clerk reads a passport page at 2,000 px on its long side (about 200 dpi for an A5 page),
# and a message with two such pages stays near 1 MB (issue #27).
LONG_SIDE = 2000
# What the JPEG decoder's own scaling gives of a phone's 12-megapixel photo (4032 x 3024,
# halved: 2016 x 1512) is kept as it is: resampling it to 2,000 px was a third of a photo's
# time (50 of 139 ms, bench) for 16 pixels no clerk sees.
KEPT_LONG_SIDE = 2048
# ~85 keeps a passport's small print and machine-readable zone sharp at a third of the bytes
# of 95; below ~75 the ink of stamps starts to smear.
JPEG_QUALITY = 85
# The largest photo a phone's camera takes by default is 48 megapixels (8064 x 6048); more
# is no photo of a document but a decompression bomb, and one image of 50 million pixels
# decodes to 150 MB. Pillow's own guard is set to the same bound (it warns above it and
# fails above twice it); its check runs when a file is opened, before any pixel is decoded.
MAX_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# iPhones take HEIC; pillow-heif's opener lets Pillow decode it like any other format.
pillow_heif.register_heif_opener()

# Pillow's format names for the media types sniffed from the bytes (files.sniff).
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/heic": "HEIF"}

# What Pillow raises for bytes that are not what their header says: truncated (OSError:
# "image file is truncated"), broken chunks (SyntaxError), impossible values (ValueError),
# a stream that ends early (EOFError), a decoder's own failures (RuntimeError, pillow-heif).
_BROKEN = (OSError, SyntaxError, ValueError, EOFError, RuntimeError, IndexError)


def clean(data: bytes, media_type: str, name: str) -> tuple[bytes, tuple[int, int]]:
    """The photo as a new JPEG, upright and at most LONG_SIDE px long (KEPT_LONG_SIDE when
    the decoder's scaling gave that), and its size.

    Raises Refused for a file that cannot be decoded whole or has too many pixels.
    """
    try:
        image = _decoded(io.BytesIO(data), FORMATS[media_type], name)
    except Refused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # The warning is an exception where warnings are errors (the tests); elsewhere
        # _decoded refuses the same image by its own count.
        raise _too_many_pixels(name) from None
    except _BROKEN:
        # `from None`: a decoder's message may quote the file's bytes.
        raise Refused(
            "unreadable_photo",
            _l("“%(name)s” cannot be read as a photo. Please take the photo again.", name=name),
        ) from None
    output = io.BytesIO()
    image.save(output, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return output.getvalue(), image.size


def _decoded(file: IO[bytes], pillow_format: str, name: str) -> Image.Image:
    """Decode, turn upright and scale; the result is a new RGB image with nothing but
    pixels (no `info`, no EXIF)."""
    with Image.open(file, formats=[pillow_format]) as source:
        width, height = source.size
        if width * height > MAX_PIXELS:
            raise _too_many_pixels(name)
        if pillow_format == "JPEG":
            # Let the JPEG decoder scale by 1/2, 1/4 or 1/8 while decoding, down to no less
            # than the final size: a 48-megapixel photo decodes as 3 instead of 48.
            source.draft("RGB", _fitted(source.size))
        source.load()  # everything decoded here: a truncated file fails now, not later
        upright = ImageOps.exif_transpose(source)
    flat = _flattened(upright)
    if max(flat.size) > KEPT_LONG_SIDE:
        flat.thumbnail((LONG_SIDE, LONG_SIDE), Image.Resampling.LANCZOS, reducing_gap=3.0)
    # A new image of the pixels alone: whatever `info` and EXIF the decoder or the steps
    # above kept (icc_profile, comment, xmp, exif) is left behind here.
    clean_image = Image.new("RGB", flat.size)
    clean_image.paste(flat)
    return clean_image


def _fitted(size: tuple[int, int]) -> tuple[int, int]:
    """The size the image will have: its long side at most LONG_SIDE."""
    width, height = size
    scale = min(1.0, LONG_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _flattened(image: Image.Image) -> Image.Image:
    """RGB; transparency (screenshots, scans saved as PNG) laid on white, not on black."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if image.mode.startswith("I"):
        # 16-bit greyscale PNGs (some scanners): converted as they are, every value above
        # 255 would clip to white.
        return image.convert("I").point(lambda value: value / 256).convert("RGB")
    return image.convert("RGB")


def _too_many_pixels(name: str) -> Refused:
    return Refused(
        "too_many_pixels",
        _l("“%(name)s” has more pixels than a photo of a document can have.", name=name),
    )
