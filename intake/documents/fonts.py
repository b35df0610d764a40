"""The fonts of printed documents: Noto Sans for Latin, Cyrillic and Greek, with Noto Sans
Arabic for Arabic and Persian, shaped by HarfBuzz.

They come from PyPI as Python packages (fontpkg-noto-sans, fontpkg-noto-sans-arabic: the
Google Fonts files, OFL), installed with the service by pip like any dependency: no root, no
system font, nothing fetched at run time, so a fresh clone's `make test` draws the same
glyphs as the image. Debian's fonts-noto-core would need root and leave tests to skip.

The files are variable fonts. Documents use their default instance, the regular weight:
it is written once, without the tables of variation, to a folder the processes share (70 ms),
which takes 14 % off the CPU time of a summary and half its size (a family of four: 26 KB,
where the variable fonts gave 60 KB; measured 2026-12-06). A bold instance would cost
seconds per process to compute (fontTools' instancer: 5 s for Noto Sans on the 2-core
machine), so documents mark headings by size, colour and shading instead.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import multiprocessing.util
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

import fontpkg
import fontTools
from fontTools import subset, ttLib
from fpdf import FPDF
from fpdf.fonts import TTFFont

from intake.delivery.files import written_atomic

TEXT = "NotoSans"
ARABIC = "NotoSansArabic"
# Shown for a character neither font has (a name in Georgian, say): fpdf2 would log a
# missing glyph with the character itself, and names stay out of logs.
REPLACEMENT = "\N{REPLACEMENT CHARACTER}"


PACKAGED = {TEXT: "Noto Sans", ARABIC: "Noto Sans Arabic"}  # fontpkg's family names
VARIATIONS = ("fvar", "gvar", "avar", "cvar", "HVAR", "MVAR", "STAT")
# What only text shaping reads (HarfBuzz: ligatures, kerning, joining). fpdf2 drops them
# from the embedded subset anyway, but fontTools' subsetter decompiles them first (Noto
# Sans' GPOS is large): a document drawn without shaping is written with a Noto Sans that
# has none, which halved a family's German summary (297 -> 150 ms, same PDF, 2026-12-07).
LAYOUT = ("GDEF", "GSUB", "GPOS")
UNSHAPED = f"{TEXT}-unshaped"
# The scripts of Noto Sans a name or a text of the service can need: Latin with every
# extension DIN 91379 draws on, Greek, Cyrillic, punctuation and symbols. Its Devanagari,
# polytonic Greek and phonetic letters are left out: 2,327 of its 4,515 glyphs are kept, and
# fpdf2 reads every glyph of a font for each document (a German summary 60 -> 38 ms).
KEPT = (
    (0x0000, 0x052F),  # Latin, IPA, combining marks, Greek and Coptic, Cyrillic
    (0x1E00, 0x1EFF),  # Latin Extended Additional
    (0x2000, 0x25FF),  # punctuation, currency, letterlike, arrows, shapes (the dotted circle)
    (0x2C60, 0x2C7F), (0xA720, 0xA7FF), (0xAB30, 0xAB6F),  # Latin Extended C, D, E
    (0x2DE0, 0x2DFF), (0xA640, 0xA69F),  # Cyrillic Extended A, B
    (0x2E00, 0x2E7F),  # supplemental punctuation
    (0xFB00, 0xFB06), (0xFE20, 0xFE2F), (0xFFFC, 0xFFFD),  # ligatures, half marks, specials
)


@functools.cache
def files() -> dict[str, Path]:
    """The fonts' regular instances by family name, and UNSHAPED: Noto Sans with the KEPT
    characters alone and no layout tables. Written once for all processes of this version
    (0.3 s; `_shared_folder`), found there by the others."""
    folder = _shared_folder() or _private_folder()
    found = {name: folder / f"{name}.ttf" for name in (*PACKAGED, UNSHAPED)}
    if all(path.exists() for path in found.values()):
        return found
    for family, packaged in PACKAGED.items():
        with ttLib.TTFont(fontpkg.path(packaged), recalcTimestamp=False) as font:
            for tag in VARIATIONS:
                if tag in font:
                    del font[tag]
            _save(font, found[family])
            if family == TEXT:
                # Subset without its layout tables: with them, the subsetter's closure over
                # GSUB took 5 s. A shaped document keeps the whole font, and draws only
                # what this one does (`printable`).
                _keep_only(font, KEPT)
                _save(font, found[UNSHAPED])
    return found


def _shared_folder() -> Path | None:
    """This user's folder for this version's fonts in the temporary folder, made if missing;
    None if it exists and is not this user's alone.

    Shared, never removed: a folder a process, removed as it ended, was left behind by every
    process killed (16 after one CI run). Named by what makes the files: a new version of
    this module, of fontTools or of the font packages writes a folder of its own."""
    made_from = hashlib.sha256(Path(__file__).read_bytes() + fontTools.version.encode())
    for packaged in PACKAGED.values():
        font = Path(fontpkg.path(packaged)).stat()
        made_from.update(f"{packaged}:{font.st_size}:{font.st_mtime_ns}".encode())
    name = f"intake-fonts-{os.getuid()}-{made_from.hexdigest()[:16]}"
    folder = Path(tempfile.gettempdir()) / name
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    # Another user could have made it first (the temporary folder is everyone's), or put a
    # link there: fonts from a folder others can write to would be theirs, not ours.
    found = folder.lstat()
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or found.st_mode & 0o077:
        return None
    return folder


def _private_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="intake-fonts-"))
    _remove_at_exit(folder)
    return folder


def _save(font: ttLib.TTFont, path: Path) -> None:
    """Write `font` to `path` whole or not at all, and durably: other processes may be
    reading it, or writing the same, and it stays for the processes after a crash."""
    with written_atomic(path) as file:
        font.save(file)


def _keep_only(font: ttLib.TTFont, ranges: Iterable[tuple[int, int]]) -> None:
    """Subset `font` to the characters of `ranges`, without layout tables, with the glyph
    names fpdf2 reads."""
    for tag in LAYOUT:  # before: the subsetter would decompile them all (3 s) to drop them
        if tag in font:
            del font[tag]
    options = subset.Options(glyph_names=True, name_IDs=["*"], name_languages=["*"],
                             notdef_outline=True, recommended_glyphs=True)
    wanted = [code for code in font.getBestCmap()
              if any(first <= code <= last for first, last in ranges)]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted)
    subsetter.subset(font)


def _remove_at_exit(folder: Path) -> None:
    owner = os.getpid()

    def remove() -> None:
        # Not when a forked child (an rq work horse) exits: its parent still uses them.
        if os.getpid() == owner:
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)
    # A process multiprocessing started (a web worker: granian's) ends with os._exit, past
    # atexit, after running these: each left a folder in /tmp behind, one a restart.
    multiprocessing.util.Finalize(None, remove, exitpriority=0)


def use(pdf: FPDF, texts: Iterable[str]) -> None:
    """Make the fonts `texts` need available to `pdf`, Arabic as the fallback of Noto Sans,
    with text shaping on where Arabic script is drawn."""
    families = [TEXT]
    # A document in Latin and Cyrillic alone goes without the Arabic font, which fpdf2
    # would still load and subset: 14 % of the CPU time of a family's German summary.
    if any(ord(c) not in _covered()[TEXT] and c != "\n" for text in texts
           for c in printable(text)):
        families.append(ARABIC)
    # Shaping joins Arabic letters and orders right-to-left runs; Latin and Cyrillic read
    # the same without it, and it was a third of a summary's time (the payload job makes
    # one per household).
    shaped = ARABIC in families
    for family in families:
        pdf.add_font(family, "", files()[family if shaped or family != TEXT else UNSHAPED])
    pdf.set_fallback_fonts(families[1:])
    pdf.set_text_shaping(shaped)
    pdf.set_font(TEXT)


def release(pdf: FPDF) -> None:
    """Close the font files `pdf` reads from: fpdf2 closes them when it writes the document,
    not when something fails before."""
    for font in pdf.fonts.values():
        if isinstance(font, TTFFont):
            font.close()


def warm() -> None:
    """Write the font files and read what they draw now: a worker does it once before it
    forks, where each forked work horse would otherwise pay it (0.1 s) for its first
    summary."""
    _drawn()


@functools.cache
def _covered() -> dict[str, frozenset[int]]:
    """The code points each font draws."""
    found = {}
    for family in PACKAGED:
        # Noto Sans draws what its subset does, shaped or not: the same names the same way.
        with ttLib.TTFont(files()[UNSHAPED if family == TEXT else family], lazy=True) as font:
            found[family] = frozenset(font.getBestCmap())
    return found


@functools.cache
def _drawn() -> frozenset[int]:
    return frozenset().union(*_covered().values())


def printable(text: str) -> str:
    """`text` with each character the fonts cannot draw replaced (line breaks kept)."""
    drawn = _drawn()
    return "".join(c if ord(c) in drawn or c == "\n" else REPLACEMENT for c in text)
