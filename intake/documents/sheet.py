"""A printed form on A4 with fpdf2: labelled fields in three columns under shaded section
bands, in one language or two (the applicant's and German), a QR code, a footer on every
page. PDF/A-2b, with no metadata but the title, the language and the date given.

Knows nothing of registrations: `summary` says what the fields are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast
from xml.sax.saxutils import escape

from fpdf import FPDF

from intake.dataset.languages import RIGHT_TO_LEFT
from intake.documents import fonts

MARGIN = 15.0  # mm
COLUMNS, COLUMN_GAP = 3, 5.0
FOOTER = 8.0  # the footer's band above the bottom margin
QR_SIDE = 32.0
# (size in pt, grey level) of the first language's text and of German's beside or beneath
# it: what is read first is black and larger.
TITLE = ((16.0, 0), (11.0, 90))
BAND = ((10.5, 0), (10.5, 60))
LABEL = ((7.5, 70), (7.0, 110))
VALUE = ((10.0, 0), (8.5, 90))
BAND_SHADE = 232
LINE = 0.42  # a line's height per pt of type, in mm
PAIR_GAP = 3.0  # between two languages on one line

Style = tuple[tuple[float, int], tuple[float, int]]


@dataclass(frozen=True)
class Field:
    """A label and its value, each as said in every language of the sheet (the applicant's
    first); a value said alike in all (a name, a number) is given once."""

    labels: tuple[str, ...]
    values: tuple[str, ...]
    wide: bool = False  # across all columns


@dataclass(frozen=True)
class Section:
    titles: tuple[str, ...]
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Page:
    """What a sheet shows: its language (its first texts'), titles, the fields at its head
    (beside the QR code, if any), sections, and the footer of every page."""

    language: str
    titles: tuple[str, ...]
    head: tuple[Field, ...]
    sections: tuple[Section, ...]
    footer: str
    created: dt.datetime
    qr_runs: tuple[int, Sequence[tuple[int, int, int]]] | None = None


class _Pdf(FPDF):
    """fpdf2's document, remembering the width of each text at each size: a field is
    measured for the page break and its pair of languages before it is drawn."""

    def __init__(self) -> None:
        super().__init__(format="A4", unit="mm", enforce_compliance="PDFA_2B")
        self.widths: dict[tuple[str, float], float] = {}

    def width_of(self, text: str) -> float:
        key = (text, self.font_size_pt)
        if key not in self.widths:
            self.widths[key] = self.get_string_width(text)
        return self.widths[key]


def render(page: Page, metadata_title: str) -> bytes:
    """The sheet as PDF/A-2b bytes; the same page gives the same bytes."""
    pdf = _Pdf()
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.c_margin = 0  # texts start at their column, not 1 mm in
    pdf.set_auto_page_break(False)  # rows are kept whole: `_fits` breaks pages itself
    pdf.set_lang(page.language)
    pdf.set_title(metadata_title)
    pdf.set_creation_date(page.created)  # fpdf2 makes the file's /ID of it and the content
    pdf.set_xmp_metadata(_xmp(metadata_title, page.language, page.created))
    fonts.use(pdf, _texts(page))
    try:
        _draw(pdf, page)
        return bytes(pdf.output())
    finally:
        fonts.release(pdf)


def _draw(pdf: _Pdf, page: Page) -> None:
    pdf.add_page()
    rtl = page.language in RIGHT_TO_LEFT
    top, width = pdf.y, pdf.epw
    if page.qr_runs:
        width -= QR_SIDE + COLUMN_GAP
        _qr(pdf, pdf.w - pdf.r_margin - QR_SIDE, top, *page.qr_runs)
    pdf.set_y(top + _stacked(pdf, rtl, pdf.l_margin, top, width, page.titles, TITLE) + 3)
    _fields(pdf, rtl, page.head, width, columns=2)
    pdf.set_y(max(pdf.y, top + (QR_SIDE if page.qr_runs else 0)) + 2)
    for section in page.sections:
        _band(pdf, rtl, section)
        _fields(pdf, rtl, section.fields, pdf.epw, COLUMNS)
    _footers(pdf, page.footer)


def _texts(page: Page) -> list[str]:
    fields = (*page.head, *(field for section in page.sections for field in section.fields))
    return [*page.titles, page.footer, *(title for s in page.sections for title in s.titles),
            *(text for field in fields for text in (*field.labels, *field.values))]


def _band(pdf: _Pdf, rtl: bool, section: Section) -> None:
    """A shaded band with the section's title, on the page of the section's first row; on a
    new page when the section would end on the next one anyway (a person on one page)."""
    height = BAND[0][0] * LINE + 3 + 2
    rows = [_row_height(pdf, rtl, row, pdf.epw, COLUMNS) + 2
            for row in _rows(section.fields, COLUMNS)]
    whole = height + sum(rows)
    _fits(pdf, whole if whole <= _page_room(pdf) else height + rows[0])
    top = pdf.y
    pdf.set_fill_color(BAND_SHADE)
    pdf.rect(pdf.l_margin, top, pdf.epw, height - 2, style="F")
    _paired(pdf, rtl, pdf.l_margin + 2, top + 1.5, pdf.epw - 4, section.titles, BAND)
    pdf.set_y(top + height)


def _rows(fields: tuple[Field, ...], columns: int) -> list[tuple[Field, ...]]:
    """Fields `columns` by `columns`; a wide one alone."""
    rows: list[tuple[Field, ...]] = []
    for field in fields:
        if rows and len(rows[-1]) < columns and not rows[-1][0].wide and not field.wide:
            rows[-1] = (*rows[-1], field)
        else:
            rows.append((field,))
    return rows


def _fields(pdf: _Pdf, rtl: bool, fields: tuple[Field, ...], width: float,
            columns: int) -> None:
    column = (width - (columns - 1) * COLUMN_GAP) / columns
    for row in _rows(fields, columns):
        _fits(pdf, _row_height(pdf, rtl, row, width, columns))
        top, height = pdf.y, 0.0
        for i, field in enumerate(row):
            x = pdf.l_margin + i * (column + COLUMN_GAP)
            height = max(height, _field(pdf, rtl, x, top, width if field.wide else column,
                                        field))
        pdf.set_y(top + height + 2)


def _row_height(pdf: _Pdf, rtl: bool, row: tuple[Field, ...], width: float,
                columns: int) -> float:
    column = (width - (columns - 1) * COLUMN_GAP) / columns
    return max(_field(pdf, rtl, 0, 0, width if f.wide else column, f, dry=True) for f in row)


def _field(pdf: _Pdf, rtl: bool, x: float, y: float, width: float, field: Field,
           dry: bool = False) -> float:
    height = _paired(pdf, rtl, x, y, width, field.labels, LABEL, dry)
    return height + _paired(pdf, rtl, x, y + height, width, field.values, VALUE, dry)


def _paired(pdf: _Pdf, rtl: bool, x: float, y: float, width: float, texts: tuple[str, ...],
            style: Style, dry: bool = False) -> float:
    """One text, or the applicant's and the German one on one line, each at its end (the
    applicant's where their reading starts); stacked when both do not fit."""
    if len(texts) < 2 or not all(texts):
        return _stacked(pdf, rtl, x, y, width, texts, style, dry)
    first, german = texts
    _font(pdf, style[0])
    wanted = pdf.width_of(fonts.printable(first))
    _font(pdf, style[1])
    wanted += pdf.width_of(fonts.printable(german)) + PAIR_GAP
    if wanted > width:
        return _stacked(pdf, rtl, x, y, width, texts, style, dry)
    _text(pdf, x, y, width, first, style[0], "R" if rtl else "L", dry)
    # German on the same baseline as the larger first text.
    _text(pdf, x, y + (style[0][0] - style[1][0]) * LINE * 0.8, width, german, style[1],
          "L" if rtl else "R", dry)
    return style[0][0] * LINE


def _stacked(pdf: _Pdf, rtl: bool, x: float, y: float, width: float, texts: tuple[str, ...],
             style: Style, dry: bool = False) -> float:
    """The first text in the first style, the German beneath in the second."""
    height = 0.0
    for i, text in enumerate(t for t in texts if t):
        # Only the applicant's own words run from the right; German, and what is said
        # alike in both (a name, a number), keeps to the left as on the German form.
        align = "R" if rtl and i == 0 and len(texts) > 1 else "L"
        height += _text(pdf, x, y + height, width, text, style[min(i, 1)], align, dry)
    return height


def _text(pdf: _Pdf, x: float, y: float, width: float, text: str, style: tuple[float, int],
          align: str, dry: bool = False) -> float:
    _font(pdf, style)
    shown, line = fonts.printable(text), style[0] * LINE
    if not dry:  # measuring leaves the cursor where it is
        pdf.set_xy(x, y)
    # Most texts fit on a line: a cell shapes them once, where multi_cell's line breaking
    # measures them again at each character.
    if "\n" not in shown and pdf.width_of(shown) <= width:
        if not dry:
            pdf.cell(width, line, shown, align=align)
        return line
    lines = pdf.multi_cell(width, line, shown, align=align, dry_run=dry, output="LINES",
                           new_x="LEFT", new_y="NEXT", padding=0)
    return len(cast(list[str], lines)) * line  # what output="LINES" returns


def _font(pdf: _Pdf, style: tuple[float, int]) -> None:
    size, grey = style
    pdf.set_font(fonts.TEXT, size=size)
    pdf.set_text_color(grey)
    # fpdf2 2.8.9 takes a font chosen inside the last text (the Arabic fallback, then back)
    # for the page's own, and writes the next text with none (py-pdf/fpdf2#1772): viewers
    # then show nothing. This makes it choose the font again before each text.
    pdf.current_font_is_set_on_page = False


def _fits(pdf: _Pdf, height: float) -> None:
    if pdf.y + height > pdf.h - MARGIN - FOOTER:
        pdf.add_page()


def _page_room(pdf: _Pdf) -> float:
    """The height a new page has for sections."""
    return pdf.h - 2 * MARGIN - FOOTER


def _qr(pdf: _Pdf, x: float, y: float, side: int, runs: Sequence[tuple[int, int, int]]) -> None:
    """The code as filled rectangles, one per run of dark modules: sharp at any zoom."""
    module = QR_SIDE / side
    pdf.set_fill_color(0)
    for column, row, length in runs:
        pdf.rect(x + column * module, y + row * module, length * module, module, style="F")


def _footers(pdf: _Pdf, footer: str) -> None:
    # Drawn last, to know the number of pages: fpdf2's alias for it does not work with text
    # shaping.
    pages = pdf.page
    style = (8.0, 90)
    for number in range(1, pages + 1):
        pdf.page = number
        y = pdf.h - MARGIN - FOOTER / 2
        _text(pdf, pdf.l_margin, y, pdf.epw, footer, style, "L")
        _text(pdf, pdf.l_margin, y, pdf.epw, f"{number} / {pages}", style, "R")


def _xmp(title: str, language: str, created: dt.datetime) -> str:
    """The metadata PDF/A asks for, written here rather than by fpdf2, whose own stamps the
    time of output: the same summary must give the same bytes."""
    date = f"<xmp:CreateDate>{created.isoformat(timespec='seconds')}</xmp:CreateDate>"
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">'
        "<pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>"
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt>'
        f"</dc:title><dc:language><rdf:Bag><rdf:li>{escape(language)}</rdf:li></rdf:Bag>"
        f"</dc:language>{date}</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
