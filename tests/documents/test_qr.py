"""QR codes: what a scanner at the desk and a printer need from the page's code and the download,
each drawn once."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image, ImageChops

from intake.documents import qr
from tests.helpers.qr import decode_png_qr, decode_svg_qr, render_svg_qr

URL = "https://intake.example.org/s/Qm9yc2h0c2NoLUtpZXc_YQ"


def png_dark_modules(png: bytes) -> tuple[int, set[tuple[int, int]]]:
    """The side of a downloaded code in modules, and where its dark modules are."""
    image = Image.open(io.BytesIO(png))
    side = image.width // 10
    grid = image.resize((side, side), Image.Resampling.NEAREST)
    return side, {(x, y) for y in range(side) for x in range(side) if not grid.getpixel((x, y))}


def test_the_svg_rendered_decodes_to_its_url():
    url = "http://localhost/en/continue/abcdefghijklmnopqrstuv"
    assert decode_svg_qr(qr.svg(url)) == url


def test_the_svg_has_no_inline_style_and_no_xml_declaration():
    """The pages' Content-Security-Policy allows no inline style; the SVG sits inside HTML."""
    drawing = qr.svg(URL)
    assert drawing.startswith("<svg ") and drawing.endswith("</svg>")
    assert "style" not in drawing and "<?xml" not in drawing
    assert drawing.count("<path ") == 1


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
    download = Image.open(io.BytesIO(qr.png(URL)))
    shown = Image.open(io.BytesIO(render_svg_qr(qr.svg(URL), pixels_per_module=10)))

    shown = shown.convert("L").point(lambda level: 255 if level > 127 else 0).convert("1")
    assert shown.size == download.size
    assert ImageChops.difference(shown, download.convert("1")).getbbox() is None  # same pixels


def test_the_printed_summary_draws_the_very_code_the_page_shows():
    side, runs = qr.runs(URL)
    drawn = {(x + dx, y) for x, y, length in runs for dx in range(length)}
    assert (side, drawn) == png_dark_modules(qr.png(URL))


def test_a_code_is_drawn_once_then_served_from_the_cache():
    url = "https://intake.example.org/s/drawn-once"
    for draw in (qr.svg, qr.png):
        before = draw.cache_info()
        first = draw(url)
        second = draw(url)
        after = draw.cache_info()

        assert (after.misses - before.misses, after.hits - before.hits) == (1, 1)
        assert second is first
        assert decode_png_qr(render_svg_qr(first) if isinstance(first, str) else first) == url


def test_the_cache_is_bounded_by_the_drawings_size():
    """Not by their number: a process keeps at most a few MiB of drawings, whatever a code holds."""
    url = "https://intake.example.org/s/" + "x" * 300  # a larger code than a status link's
    before = qr.svg.cache_info().currsize
    drawing = qr.svg(url)

    assert qr.svg.cache_info().currsize - before == len(drawing) > 20_000
    assert qr.svg.cache_info().maxsize == qr.png.cache_info().maxsize <= 8 * 2**20  # one cache


def test_a_secret_is_drawn_but_kept_in_no_cache():
    secret = "otpauth://totp/intake:staff%201?secret=JBSWY3DPEHPK3PXP&issuer=intake"
    kept = qr.svg.cache_info()

    drawing = qr.secret_svg(secret)

    assert decode_svg_qr(drawing) == secret
    assert qr.svg.cache_info() == kept
    assert all(secret not in key for key in (*qr.svg.cache, *qr._encoded.cache))
