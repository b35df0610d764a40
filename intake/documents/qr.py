"""Pure: a URL as a QR code, as inline SVG or PNG bytes for pages, or as runs of dark modules
for the printed summary, which draws them."""

from __future__ import annotations

import functools
import io
import re

import zxingcpp
from PIL import Image

_DARK_RUN = re.compile(rb"\x00+")  # zxing-cpp draws dark modules as 0, light ones as 255
_PNG_SCALE = 10  # pixels a module in the download


# zxing-cpp encodes with zint, in C++, choosing the best of the eight masks as ISO/IEC 18004
# prescribes; qrcode's pure-Python encoder bounded mixed traffic (docs/design.md). The status
# page and its download ask for the same code, so recent ones are kept.
@functools.lru_cache(maxsize=512)
def _modules(url: str) -> tuple[int, bytes]:
    """The side and the rows of modules, a byte each (0 dark, 255 light), with the standard
    quiet zone of 4."""
    # Level M survives a scratched or creased printout.
    code = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = Image.fromarray(code.to_image(scale=1, add_quiet_zones=True))
    return image.width, image.tobytes()


@functools.lru_cache(maxsize=512)
def svg(url: str) -> str:
    """An SVG element (no XML declaration) to inline in a page: one path, a subpath for each
    row's run of dark modules (4.0 KB for https://intake.example.org/s/<token>, where a
    subpath per module took 8.8 KB)."""
    return _drawn(*_modules(url))


def secret_svg(text: str) -> str:
    """As `svg`, for a text that holds a secret (an authenticator's key): kept in no cache."""
    return _drawn(*_modules.__wrapped__(text))


def runs(url: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The side in modules, and each row's runs of dark modules as (x, y, length): what a
    drawing fills, a rectangle a run."""
    return _runs(*_modules(url))


def _runs(size: int, cells: bytes) -> tuple[int, list[tuple[int, int, int]]]:
    found = []
    for y in range(size):
        row = y * size
        for run in _DARK_RUN.finditer(cells, row, row + size):
            start, end = run.span()
            found.append((start - row, y, end - start))
    return size, found


def _drawn(size: int, cells: bytes) -> str:
    _, dark = _runs(size, cells)
    path = "".join(f"M{x},{y}h{length}v1h-{length}z" for x, y, length in dark)
    return (
        f'<svg width="{size}mm" height="{size}mm" viewBox="0 0 {size} {size}" '
        f'xmlns="http://www.w3.org/2000/svg"><path d="{path}" fill="#000"/></svg>'
    )


@functools.lru_cache(maxsize=512)
def png(url: str) -> bytes:
    """A PNG image for download or printing (10 pixels a module, one bit a pixel)."""
    size, cells = _modules(url)
    image = Image.frombytes("L", (size, size), cells).convert("1", dither=Image.Dither.NONE)
    # Scaled by Pillow rather than drawn at scale by zxing-cpp: the same image in half the time.
    image = image.resize((size * _PNG_SCALE, size * _PNG_SCALE), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
