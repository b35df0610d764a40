"""Read back the QR codes the pages draw, as a scanner would: rendered, then decoded."""

from __future__ import annotations

import io
import re

import resvg_py
import zxingcpp
from PIL import Image


def decode_png_qr(png: bytes) -> str:
    """The text in a QR code image."""
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return str(code.text)


def render_svg_qr(page: str, pixels_per_module: int = 8) -> bytes:
    """A page's inline QR code (its first SVG) rendered by resvg, as a PNG on white."""
    drawing = re.search(r"<svg\b.*?</svg>", page, re.DOTALL).group(0)  # type: ignore[union-attr]
    # A module is a millimetre (width="41mm", viewBox="0 0 41 41").
    return bytes(resvg_py.svg_to_bytes(
        svg_string=drawing, dpi=pixels_per_module * 25.4, background="#ffffff",
        skip_system_fonts=True, shape_rendering="crisp_edges"))


def decode_svg_qr(page: str) -> str:
    """The text in a page's inline QR code, rendered."""
    return decode_png_qr(render_svg_qr(page))
