"""QR codes: what a scanner at the desk and a printer need from the page's code and the download."""

from __future__ import annotations

import io
import re

import zxingcpp
from PIL import Image

from intake.documents import qr
from tests.helpers.qr import decode_svg_qr

URL = "https://intake.example.org/s/Qm9yc2h0c2NoLUtpZXc_YQ"


def png_dark_modules(png: bytes) -> tuple[int, set[tuple[int, int]]]:
    """The side of a downloaded code in modules, and where its dark modules are."""
    image = Image.open(io.BytesIO(png))
    side = image.width // 10
    grid = image.resize((side, side), Image.Resampling.NEAREST)
    return side, {(x, y) for y in range(side) for x in range(side) if not grid.getpixel((x, y))}


def test_svg_decodes():
    url = "http://localhost/en/continue/abcdefghijklmnopqrstuv"
    assert decode_svg_qr(qr.svg(url)) == url


def test_png_is_a_level_m_code_with_its_quiet_zone_at_ten_pixels_a_module():
    image = Image.open(io.BytesIO(qr.png(URL)))
    [code] = zxingcpp.read_barcodes(image)
    assert (code.text, code.ec_level, code.symbology_identifier) == (URL, "M", "]Q1")  # no ECI
    assert image.mode == "1" and image.width == image.height and image.width % 10 == 0

    side, dark = png_dark_modules(qr.png(URL))
    modules = side - 8
    assert (modules - 17) % 4 == 0 and modules >= 21  # a QR Code symbol's side: 17 + 4 x version
    assert all(4 <= x < side - 4 and 4 <= y < side - 4 for x, y in dark)  # 4 light modules round
    # The top-left finder pattern where the quiet zone ends: a dark ring, a light ring, a dark core.
    finder = {(4 + i, 4 + j): max(abs(i - 3), abs(j - 3)) != 2 for i in range(7) for j in range(7)}
    assert all((module in dark) == is_dark for module, is_dark in finder.items())


def test_the_page_shows_the_very_code_the_download_holds():
    side, dark = png_dark_modules(qr.png(URL))
    svg = qr.svg(URL)

    assert f'viewBox="0 0 {side} {side}"' in svg
    drawn = {(int(x) + dx, int(y))
             for x, y, n in re.findall(r"M(\d+),(\d+)h(\d+)", svg) for dx in range(int(n))}
    assert drawn == dark


def test_the_printed_summary_draws_the_very_code_the_page_shows():
    side, runs = qr.runs(URL)
    drawn = {(x + dx, y) for x, y, length in runs for dx in range(length)}
    assert (side, drawn) == png_dark_modules(qr.png(URL))
