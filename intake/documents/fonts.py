"""The fonts of printed documents: Noto Sans for Latin, Cyrillic and Greek, with Noto Sans
Arabic for Arabic and Persian, shaped by HarfBuzz.

They come from PyPI as Python packages (fontpkg-noto-sans, fontpkg-noto-sans-arabic: the
Google Fonts files, OFL), installed with the service by pip like any dependency: no root, no
system font, nothing fetched at run time, so a fresh clone's `make test` draws the same
glyphs as the image. Debian's fonts-noto-core would need root and leave tests to skip.

The files are variable fonts. Documents use their default instance, the regular weight:
each process writes it once to a private folder without the tables of variation (70 ms),
which halves the cost of embedding the fonts in every document and the documents' size
(20-30 KB a summary, where the variable fonts gave 50-80 KB). A bold instance would cost
seconds per process to compute (fontTools' instancer: 5 s for Noto Sans on the 2-core
machine), so documents mark headings by size, colour and shading instead.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path

import fontpkg
from fontTools import ttLib
from fpdf import FPDF

TEXT = "NotoSans"
ARABIC = "NotoSansArabic"
# Shown for a character neither font has (a name in Georgian, say): fpdf2 would log a
# missing glyph with the character itself, and names stay out of logs.
REPLACEMENT = "\N{REPLACEMENT CHARACTER}"


PACKAGED = {TEXT: "Noto Sans", ARABIC: "Noto Sans Arabic"}  # fontpkg's family names
VARIATIONS = ("fvar", "gvar", "avar", "cvar", "HVAR", "MVAR", "STAT")


@functools.cache
def files() -> dict[str, Path]:
    """The fonts' regular instances by family name, written once per process."""
    folder = Path(tempfile.mkdtemp(prefix="intake-fonts-"))
    _remove_at_exit(folder)
    found = {}
    for family, packaged in PACKAGED.items():
        with ttLib.TTFont(fontpkg.path(packaged), recalcTimestamp=False) as font:
            for tag in VARIATIONS:
                if tag in font:
                    del font[tag]
            font.save(folder / f"{family}.ttf")
        found[family] = folder / f"{family}.ttf"
    return found


def _remove_at_exit(folder: Path) -> None:
    owner = os.getpid()

    def remove() -> None:
        # Not when a forked child (an rq work horse) exits: its parent still uses them.
        if os.getpid() == owner:
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)


def use(pdf: FPDF) -> None:
    """Make the fonts available to `pdf`, Arabic as the fallback, with text shaping on (joined
    Arabic letters, right-to-left runs in their order, kerning)."""
    for family, path in files().items():
        pdf.add_font(family, "", path)
    pdf.set_fallback_fonts([ARABIC])
    pdf.set_text_shaping(True)
    pdf.set_font(TEXT)


@functools.cache
def _covered() -> frozenset[int]:
    """Every code point one of the fonts draws."""
    found: set[int] = set()
    for path in files().values():
        with ttLib.TTFont(path, lazy=True) as font:
            found.update(font.getBestCmap())
    return frozenset(found)


def printable(text: str) -> str:
    """`text` with each character the fonts cannot draw replaced (line breaks kept)."""
    covered = _covered()
    return "".join(c if ord(c) in covered or c == "\n" else REPLACEMENT for c in text)
