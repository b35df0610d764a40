"""intake.dataset.names against the official DIN 91379 schema: the same characters pass and fail."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from intake.dataset import names
from tests.helpers import official

DIN_NS = "urn:xoev-de:kosit:xoev:datentyp:din-91379_2022-08"


@pytest.fixture(scope="module")
def schema_accepts():
    """A function telling whether the official datatypeC pattern accepts a text."""
    [datatypes] = official.require().rglob("din-norm-91379-datatypes.xsd")
    probe = etree.XMLSchema(
        etree.fromstring(
            f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
                xmlns:din="{DIN_NS}" targetNamespace="urn:test" elementFormDefault="qualified">
              <xs:import namespace="{DIN_NS}" schemaLocation="{datatypes.as_uri()}"/>
              <xs:element name="value" type="din:datatypeC"/>
            </xs:schema>""".encode()
        )
    )

    def accepts(text: str) -> bool:
        element = etree.Element("{urn:test}value")
        element.text = text
        return probe.validate(element)

    return accepts


def _xml_char(char: str) -> bool:
    """Whether XML 1.0 can carry the character at all (lxml refuses the others)."""
    code = ord(char)
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


BLOCKS = {
    "C0 controls and Basic Latin": range(0x0080),
    "Latin-1 Supplement": range(0x0080, 0x0100),
    "Latin Extended-A": range(0x0100, 0x0180),
    "Latin Extended-B": range(0x0180, 0x0250),
    "IPA and spacing modifiers": range(0x0250, 0x0300),
    "combining diacritics": range(0x0300, 0x0370),
    "Greek": range(0x0370, 0x0400),
    "Cyrillic": range(0x0400, 0x0530),
    "Arabic": range(0x0600, 0x0700),
    "Latin Extended Additional": range(0x1E00, 0x1F00),
    "punctuation, currency": range(0x2000, 0x20D0),
    "specials and emoji": [0xFEFF, 0xFFFD, 0x1F600, 0x1F1FA, 0x1F44D, 0x10FFFF],
}


@pytest.mark.parametrize("block", BLOCKS)
def test_each_character_as_the_schema_decides(schema_accepts, block):
    for code in BLOCKS[block]:
        char = chr(code)
        ours = names.first_disallowed(char) is None
        if _xml_char(char):
            assert ours == schema_accepts(char), f"U+{code:04X} {unicodedata.name(char, '')}"
        else:
            assert not ours, f"U+{code:04X} is no XML character and cannot be allowed"


def _sequences() -> list[str]:
    return [base + marks for base, options in names._SEQUENCES.items() for marks in options]


def test_every_combining_sequence_as_the_schema_decides(schema_accepts):
    for sequence in _sequences():
        assert schema_accepts(sequence), ascii(sequence)
        assert names.first_disallowed(sequence) is None, ascii(sequence)
        # NFC leaves the sequences alone (none has a precomposed form), so normalize() keeps them.
        assert names.normalize(sequence) == sequence
        # The marks belong to their letter: on another base, the schema refuses them.
        stray = "Q" + sequence[1:]
        assert names.first_disallowed(stray) == sequence[1] and not schema_accepts(stray)


def test_empty_text_is_allowed_like_in_the_schema(schema_accepts):
    assert schema_accepts("") and names.first_disallowed("") is None


_SAMPLE = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x24F),
    st.characters(min_codepoint=0x300, max_codepoint=0x36F),  # combining marks
    st.characters(min_codepoint=0x370, max_codepoint=0x4FF),  # Greek, Cyrillic
    st.characters(min_codepoint=0x1E00, max_codepoint=0x1EFF),
    st.characters(min_codepoint=0x2000, max_codepoint=0x20CF),
    st.sampled_from(["\t", "\n", "\r", "\U0001f600", "\u0645"]),
    st.sampled_from(_sequences()),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_SAMPLE, max_size=12).map("".join))
def test_texts_as_the_schema_decides(schema_accepts, text):
    assert (names.first_disallowed(text) is None) == schema_accepts(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(_SAMPLE, max_size=12).map("".join))
def test_the_reported_character_is_the_first_the_schema_refuses(schema_accepts, text):
    bad = names.first_disallowed(text)
    if bad is None:
        return
    with pytest.raises(names.DisallowedCharacter) as caught:
        names.check_name(text)
    position = caught.value.position
    assert text[position] == bad
    assert schema_accepts(text[:position])
    assert not schema_accepts(text[: position + 1])


def test_error_names_the_character():
    with pytest.raises(names.DisallowedCharacter) as caught:
        names.check_name("Olena Шевченко")
    error = caught.value
    assert (error.char, error.position) == ("Ш", 6)
    assert error.codepoint == "U+0428"
    assert error.unicode_name == "CYRILLIC CAPITAL LETTER SHA"
    assert str(error) == "U+0428 CYRILLIC CAPITAL LETTER SHA at position 6"
    assert isinstance(error, ValueError)


def test_a_control_character_without_a_name_is_still_described():
    with pytest.raises(names.DisallowedCharacter) as caught:
        names.check_name("A\x07")
    assert str(caught.value) == "U+0007 at position 1"


@pytest.mark.parametrize(
    "text",
    [
        "Shevchenko",
        "Müller-Lüdenscheidt",
        "O'Neil",
        "D’Artagnan",
        "Łukasz",
        "Şahin",
        "Nguyễn",
        "Ærøskøbing",
        "ẞ",
        "Dvořák",
        "Đorđević",
        "Ğüzel",
    ],
)
def test_latin_names_pass(text):
    assert names.first_disallowed(text) is None
    names.check_name(text)


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("Олена", "О"),
        ("Ιωάννης", "Ι"),
        ("محمد", "م"),
        ("Anna 😀", "😀"),
        ("Mu\u0308ller", "\u0308"),
        ("soft\u00adhyphen", "\u00ad"),
        ("zero\u200bwidth", "\u200b"),
    ],
)
def test_other_scripts_and_invisible_characters_fail(text, bad):
    assert names.first_disallowed(text) == bad


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Anna \t Maria\n", "Anna Maria"),
        ("Mu\u0308ller", "Müller"),
        ("A\u00a0B", "A B"),
        ("", ""),
        ("Ņ", "Ņ"),
    ],
)
def test_normalize_composes_and_collapses_whitespace(raw, clean):
    assert names.normalize(raw) == clean
    assert names.normalize(clean) == clean


@pytest.mark.parametrize(("language", "earlier", "later"), [
    ("de", "Ägypten", "Deutschland"), ("de", "Österreich", "Pakistan"),
    ("uk", "Австрія", "Єгипет"), ("uk", "Єгипет", "Іран"),
    ("fa", "پاکستان", "چین"),
])
def test_country_lists_are_in_each_languages_alphabetical_order(language, earlier, later):
    """Issue #26: sorted by code point, Ägypten and Österreich came last in German, Єгипет
    first in Ukrainian."""
    from intake.dataset.territories import choices

    names = [name for _code, name in choices(language)]
    assert names.index(earlier) < names.index(later)
