"""The application summary: what the clerk and the applicant read in it, that it is a valid
PDF/A, and that Cyrillic and Arabic names come out drawn and in their order."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import uharfbuzz as hb
import zxingcpp
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from fontTools import ttLib
from fpdf import FPDF
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ContentStream

from intake import create_app
from intake.config import Settings
from intake.dataset.domain import Document, Eligibility, Household
from intake.documents import fonts
from intake.documents.summary import summary_pdf
from tests.helpers.xaus import ENVELOPE, FAMILY, household, person

# An app only for its catalogs, as the batch and the pages have one.
APP = create_app(Settings(env="test", secret_key="x", data_keys=(("k", b"k" * 32),),
                          index_key=b"i" * 32))
REFERENCE = "K7M4Q-9XPD2"
REGISTERED = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.UTC)
APPOINTMENT = dt.datetime(2026, 12, 7, 8, 15, tzinfo=dt.UTC)  # 09:15 in Potsdam
LINK = "https://intake.example.org/s/Qm9yc2h0c2NoLUtpZXc_YQ"
NATIVE = {"Olena": ("Шевченко", "Олена"), "Taras": ("Шевченко", "Тарас"),
          "Andrii": ("Шевченко", "Андрій"), "Sofiia": ("Шевченко", "Софія")}

UKRAINIAN = dataclasses.replace(FAMILY, persons=tuple(
    dataclasses.replace(p, family_name_native=NATIVE[p.given_names or ""][0],
                        given_names_native=NATIVE[p.given_names or ""][1])
    for p in FAMILY.persons))
ARABIC_NAME = ("الحسن", "محمد علي")
SYRIAN = household(
    person(family_name="Al-Hassan", given_names="Mohammed Ali", sex="male",
           family_name_native=ARABIC_NAME[0], given_names_native=ARABIC_NAME[1],
           place_of_birth="Aleppo", country_of_birth="SY", nationalities=("SY",),
           eligibility=Eligibility(lived_in_ukraine=True,
                                   status_in_ukraine="international_protection"),
           document=Document("travel_document", "N0012345", "UA", dt.date(2030, 1, 31))),
    language="ar",
)


def summary(household: Household, language: str, **changes: object) -> bytes:
    arguments: dict[str, object] = {
        "reference": REFERENCE, "language": language, "authority": ENVELOPE.reader,
        "registered": REGISTERED, "appointment": APPOINTMENT,
        "documents": ("Reisepass, Seite mit Lichtbild", _l("Passport")),
    }
    if language != "de":
        arguments |= {"status_link": LINK, "qr": True}
    with APP.app_context():
        return summary_pdf(household, **(arguments | changes))  # type: ignore[arg-type]


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def german(msgid: str) -> str:
    with APP.app_context(), force_locale("de"):
        return _(msgid)


def needs(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed (Debian: qpdf, poppler-utils)")
    return path


def test_the_clerks_copy_names_everyone_in_both_spellings_in_german():
    text = text_of(summary(UKRAINIAN, "de"))

    for p in UKRAINIAN.persons:
        assert p.family_name and p.given_names and p.given_names in text
        assert f"{p.family_name_native}, {p.given_names_native}" in text  # Cyrillic as typed
    assert text.count("Shevchenko") == 4
    for label in ("Date of birth", "Nationality", "Marital status", "Document number",
                  "Lived in Ukraine on 24 February 2022", "Name in the native script"):
        assert german(label) in text and german(label) != label
    assert "Geburtsdatum" in text and "Date of birth" not in text
    assert REFERENCE in text and "STV Potsdam, Friedrich-Ebert-Straße 79" in text
    assert "Montag, 7. Dezember 2026, 09:15" in text  # at the authority, in Potsdam's time
    assert "FE123456" in text and "Reisepass" in text and "1. Mai 1990" in text
    assert "Andrii braucht eine Brille" in text and "olena@example.org" in text
    assert "• Reisepass, Seite mit Lichtbild" in text
    assert "https://" not in text  # no status link: it opens the registration


def test_the_applicants_copy_says_everything_in_their_language_and_in_german():
    text = text_of(summary(UKRAINIAN, "uk"))

    assert "Дата народження" in text and "Geburtsdatum" in text
    assert "жіноча" in text and "weiblich" in text  # a coded value, said twice
    assert "Паспорт" in text and "Reisepass" in text  # a lazy enclosure, said twice too
    assert "понеділок, 7 грудня 2026" in text and "Montag, 7. Dezember 2026, 09:15" in text
    assert LINK in text and "Шевченко, Софія" in text


def test_the_applicants_copy_carries_the_status_links_qr_code(tmp_path: Path):
    pdftoppm = needs("pdftoppm")
    pdf = tmp_path / "summary.pdf"
    pdf.write_bytes(summary(SYRIAN, "ar"))
    subprocess.run([pdftoppm, "-png", "-r", "150", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "page")], check=True)

    codes = zxingcpp.read_barcodes(Image.open(tmp_path / "page-1.png"))
    assert [code.text for code in codes] == [LINK]


@pytest.mark.parametrize("language", ["de", "uk", "ar"])
def test_it_is_pdf_a_2b_with_its_language_and_no_personal_data_in_its_metadata(language: str):
    pdf = summary(SYRIAN if language == "ar" else UKRAINIAN, language)
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]

    assert root["/Lang"] == language
    assert reader.metadata is None  # no /Info: PDF/A keeps it all in the XMP
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>" in xmp
    with APP.app_context(), force_locale(language):
        title = f"{_('Application summary')} {REFERENCE}"
    assert re.findall(r'<rdf:li xml:lang="x-default">([^<]*)</rdf:li>', xmp) == [title]
    assert "2026-11-21T09:30:00+00:00" in xmp  # the registration's, not the clock's
    assert not re.search("Shevchenko|Hassan|Olena|Aleppo|14467", xmp)
    [intent] = root["/OutputIntents"]
    assert intent.get_object()["/S"] == "/GTS_PDFA1"
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            [descendant] = font.get_object()["/DescendantFonts"]
            assert "/FontFile2" in descendant.get_object()["/FontDescriptor"]  # embedded


def test_the_same_household_gives_the_same_bytes():
    assert summary(UKRAINIAN, "uk") == summary(UKRAINIAN, "uk")


@pytest.mark.parametrize("language", ["de", "uk", "ar"])
def test_qpdf_finds_the_file_sound(language: str, tmp_path: Path):
    qpdf = needs("qpdf")
    pdf = tmp_path / "summary.pdf"
    pdf.write_bytes(summary(SYRIAN if language == "ar" else UKRAINIAN, language))

    checked = subprocess.run([qpdf, "--check", str(pdf)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No syntax or stream encoding errors found" in checked.stdout


@pytest.mark.parametrize("language", ["de", "ar"])
def test_every_text_is_shown_in_a_font(language: str):
    """fpdf2 2.8.9 wrote texts after one in the fallback font with none (py-pdf/fpdf2#1772):
    viewers showed nothing there. Each text shown must have a font chosen in its state."""
    reader = PdfReader(io.BytesIO(summary(SYRIAN if language == "ar" else UKRAINIAN, language)))
    for page in reader.pages:
        fonts_in_state, font = [], None
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"q":
                fonts_in_state.append(font)
            elif operator == b"Q":
                font = fonts_in_state.pop()
            elif operator == b"Tf":
                font = operands[0]
            elif operator in (b"Tj", b"TJ", b"'", b'"'):
                assert font is not None


def test_the_renderer_draws_every_page_without_complaint(tmp_path: Path):
    pdftoppm = needs("pdftoppm")
    pdf = tmp_path / "summary.pdf"
    pdf.write_bytes(summary(UKRAINIAN, "uk"))

    drawn = subprocess.run([pdftoppm, "-png", "-r", "50", str(pdf), str(tmp_path / "page")],
                           capture_output=True, text=True, check=True)
    assert drawn.stderr == ""  # poppler names a text without a font, a broken stream...
    assert len(list(tmp_path.glob("page-*.png"))) == len(PdfReader(pdf).pages)


def test_an_arabic_name_reads_right_to_left(tmp_path: Path):
    """pdftotext gives each word's place on the page: the name's first letter is rightmost."""
    pdftotext = needs("pdftotext")
    pdf = tmp_path / "summary.pdf"
    pdf.write_bytes(summary(SYRIAN, "de"))

    boxes = subprocess.run([pdftotext, "-bbox", str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout
    words = [(float(x), float(y), word) for x, y, word in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>', boxes)]
    arabic = [(x, y) for x, y, word in words if re.search("[\u0600-\u06ff]", word)]
    top = min(y for _x, y in arabic)
    assert all(y - top < 5 for _x, y in arabic)  # the copy's only Arabic: the name
    left, right = min(x for x, _y in arabic), max(x for x, _y in arabic)
    # Its pieces and its comma, left to right as drawn; not the other columns' words.
    shown = "".join(word for x, y, word in sorted(words)
                    if y - top < 5 and top - y < 5 and left <= x <= right)
    logical = f"{ARABIC_NAME[0]},{ARABIC_NAME[1]}".replace(" ", "")
    assert shown[::-1] == logical


def test_a_document_takes_the_arabic_font_only_for_arabic_script():
    def loaded(*texts: str) -> list[str]:
        pdf = FPDF()
        fonts.use(pdf, texts)
        fonts.release(pdf)
        return list(pdf.fonts)

    assert loaded("Шевченко, Олена\n• Паспорт", "Straße") == ["notosans"]
    assert loaded("Al-Hassan", ARABIC_NAME[0]) == ["notosans", "notosansarabic"]


def test_the_arabic_font_joins_the_letters_of_a_name():
    """HarfBuzz, as fpdf2 calls it, gives contextual forms: not the letters' own glyphs."""
    path = fonts.files()[fonts.ARABIC]
    buffer = hb.Buffer()
    buffer.add_str(ARABIC_NAME[1])
    buffer.guess_segment_properties()
    hb.shape(hb.Font(hb.Face(hb.Blob.from_file_path(path))), buffer)
    with ttLib.TTFont(path, lazy=True) as font:
        isolated = {font.getGlyphID(font.getBestCmap()[ord(c)]) for c in ARABIC_NAME[1]}
        names = [font.getGlyphName(info.codepoint) for info in buffer.glyph_infos]

    assert buffer.direction == "rtl"
    assert len({info.codepoint for info in buffer.glyph_infos} - isolated) >= 4
    assert any(name.endswith((".init", ".medi", ".fina")) for name in names), names


def test_a_script_the_fonts_lack_is_replaced_and_never_logged(caplog: pytest.LogCaptureFixture):
    georgian = dataclasses.replace(SYRIAN, persons=(dataclasses.replace(
        SYRIAN.persons[0], family_name_native="ბერიძე", given_names_native="ნინო"),))
    with caplog.at_level(logging.DEBUG):
        text = text_of(summary(georgian, "de"))

    assert fonts.REPLACEMENT * 6 in text and "ბ" not in text
    assert not [r for r in caplog.records if "ბ" in r.getMessage() or r.levelno >= logging.WARNING]


def test_a_large_family_keeps_each_person_on_one_page_and_numbers_the_pages():
    twelve = dataclasses.replace(UKRAINIAN, persons=UKRAINIAN.persons * 3)
    reader = PdfReader(io.BytesIO(summary(twelve, "uk")))
    pages = [page.extract_text() for page in reader.pages]

    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert text.rstrip().endswith(f"{number} / {len(pages)}")
        assert REFERENCE in text
    bands = [re.findall(r"(\d+)\. (?:Antragsteller|Ehe-|Kind)", text) for text in pages]
    assert sorted(int(n) for found in bands for n in found) == list(range(1, 13))
    for found, text in zip(bands, pages, strict=True):  # each person's first and last rows
        assert text.count("Familienname") == text.count("Staatsangehörigkeit") == len(found)


def test_times_must_say_their_zone_and_languages_be_the_services():
    with pytest.raises(ValueError):
        summary(UKRAINIAN, "de", appointment=dt.datetime(2026, 12, 7, 9, 15))
    with pytest.raises(ValueError):
        summary(UKRAINIAN, "pl")


def test_a_documents_dates_of_issue_and_validity_are_shown():
    issued = dataclasses.replace(SYRIAN, persons=(dataclasses.replace(
        SYRIAN.persons[0], document=Document("travel_document", "N0012345", "UA",
                                             dt.date(2030, 1, 31), dt.date(2020, 2, 1))),))

    text = text_of(summary(issued, "de"))

    assert "Ausstellungsdatum" in text and "1. Februar 2020" in text
    assert "31. Januar 2030" in text
