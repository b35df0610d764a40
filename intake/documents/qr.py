"""Pure: a URL as a QR code, drawn by qrcode as inline SVG or PNG bytes for pages, or as runs of
dark modules for the printed summary, which draws them."""

from __future__ import annotations

import io
import itertools
import threading

import qrcode
from cachetools import LRUCache, cached
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.pil import PilImage
from qrcode.image.svg import SvgPathImage

# qrcode's encoder is pure Python: about 4 ms a code, its SVG drawing 2 ms more, its PNG 1 ms.
# The status page, its PNG download and the summary PDF ask for the same person's code within
# minutes, so a process keeps recent codes by their content (a status link: never logged), in
# about 8 MiB: encodings by number (about 15 KB each), drawings by size (a status link's SVG
# 9 KB, its PNG 1 KB), about as many pages' codes as the 512 kept before.
_lock = threading.Lock()  # cachetools' caches are not thread-safe; drawing happens outside it
_drawn: LRUCache[tuple[str, str], str | bytes] = LRUCache(maxsize=6 * 2**20, getsizeof=len)


@cached(LRUCache(maxsize=128), lock=_lock)
def _encoded(text: str) -> qrcode.QRCode:
    # Level M survives a scratched or creased printout; 4 light modules round are the
    # standard's quiet zone; a module is 10 pixels in the PNG, 1 mm (a unit) in the SVG.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, box_size=10)
    code.add_data(text)
    code.make(fit=True)
    return code


def _svg_of(code: qrcode.QRCode) -> str:
    # One <path> with presentation attributes, no style attribute: the pages' CSP allows no
    # inline style.
    return str(code.make_image(image_factory=SvgPathImage).to_string(encoding="unicode"))


@cached(_drawn, key=lambda url: ("svg", url), lock=_lock, info=True)
def svg(url: str) -> str:
    """An SVG element (no XML declaration) to inline in a page: one path, a square a dark
    module; kept drawn."""
    return _svg_of(_encoded(url))


def secret_svg(text: str) -> str:
    """As `svg`, for a text that holds a secret (an authenticator's key): kept in no cache."""
    return _svg_of(_encoded.__wrapped__(text))


@cached(_drawn, key=lambda url: ("png", url), lock=_lock, info=True)
def png(url: str) -> bytes:
    """A PNG image for download or printing (10 pixels a module, one bit a pixel); kept drawn."""
    buffer = io.BytesIO()
    _encoded(url).make_image(image_factory=PilImage).save(buffer)
    return buffer.getvalue()


def runs(url: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The side in modules, quiet zone included, and each row's runs of dark modules as
    (x, y, length): what a drawing fills, a rectangle a run (the printed code stays vector)."""
    rows = _encoded(url).get_matrix()
    found = []
    for y, row in enumerate(rows):
        x = 0
        for dark, run in itertools.groupby(row):
            length = sum(1 for _ in run)
            if dark:
                found.append((x, y, length))
            x += length
    return len(rows), found
