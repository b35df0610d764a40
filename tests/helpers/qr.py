"""Read back the QR codes the pages draw."""

from __future__ import annotations

import re

import zxingcpp
from PIL import Image


def decode_svg_qr(page: str) -> str:
    """The URL in a page's inline QR code, read back from its module grid."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', page).group(1))  # type: ignore[union-attr]
    image = Image.new("L", (size, size), 255)
    pixels = image.load()
    path = re.search(r' d="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    runs = re.findall(r"M(\d+),(\d+)h(\d+)v1h-\3z", path)
    assert "".join(f"M{x},{y}h{n}v1h-{n}z" for x, y, n in runs) == path  # nothing else drawn
    for x, y, length in runs:
        for dx in range(int(length)):
            pixels[int(x) + dx, int(y)] = 0  # type: ignore[index]
    scaled = image.resize((size * 8, size * 8), Image.NEAREST)
    [code] = zxingcpp.read_barcodes(scaled)
    return str(code.text)

