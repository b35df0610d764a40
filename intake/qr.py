"""Pure: a URL as a QR code, as inline SVG or PNG bytes."""

from __future__ import annotations

import functools
import io

import qrcode
from qrcode.image.pil import PilImage
from qrcode.image.svg import SvgPathImage


# The status page and its download ask for the same code again and again: an image depends
# on nothing but its URL, so recent ones are kept, and so is the code both are drawn from
# (7 ms to compute, choosing the best of the eight masks; then 5 ms to draw the SVG, 3 ms
# the PNG).
@functools.lru_cache(maxsize=512)
def _code(url: str) -> qrcode.QRCode:
    # Level M survives a scratched or creased printout; border 4 is the standard quiet zone.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(url)
    code.make(fit=True)
    return code


@functools.lru_cache(maxsize=512)
def svg(url: str) -> str:
    """An SVG element (no XML declaration) to inline in a page."""
    image = _code(url).make_image(image_factory=SvgPathImage)
    return image.to_string(encoding="unicode").split("?>", 1)[-1].strip()


@functools.lru_cache(maxsize=512)
def png(url: str) -> bytes:
    """A PNG image for download or printing (10 pixels a module)."""
    buffer = io.BytesIO()
    _code(url).make_image(image_factory=PilImage).save(buffer)
    return buffer.getvalue()
