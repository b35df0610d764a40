"""Names in the characters XÖV allows: DIN 91379 `datatypeC`, checked before anything is stored.

XAusländer types almost all text as `din91379:datatypeC` (norm DIN 91379, schema version
2022-08). The tables below state that type's `xs:pattern` in Python: single characters (code
point ranges) plus letters that exist only as a base letter followed by combining marks. The
official schema stays the reference; tests/dataset/test_names.py compares this module with it
character by character, so a table that drifts from the schema fails the suite.

Functions here return or raise data (the character, its code point, its position), never prose:
the schema layer turns that into a message in the user's language.
"""

from __future__ import annotations

import re
import unicodedata

# Single characters of datatypeC, as inclusive code point ranges.
_RANGES: tuple[tuple[int, int], ...] = (
    (0x0009, 0x000A),  # tab, line feed
    (0x000D, 0x000D),  # carriage return
    (0x0020, 0x007E),  # printable ASCII
    (0x00A0, 0x00AC),  # Latin-1 punctuation and signs up to the soft hyphen (excluded)
    (0x00AE, 0x017E),  # rest of Latin-1, Latin Extended-A
    (0x0187, 0x0188),  # Latin Extended-B, as far as DIN 91379 takes it
    (0x018F, 0x018F),
    (0x0197, 0x0197),
    (0x01A0, 0x01A1),
    (0x01AF, 0x01B0),
    (0x01B7, 0x01B7),
    (0x01CD, 0x01DC),
    (0x01DE, 0x01DF),
    (0x01E2, 0x01F0),
    (0x01F4, 0x01F5),
    (0x01F8, 0x01FF),
    (0x0212, 0x0213),
    (0x0218, 0x021B),
    (0x021E, 0x021F),
    (0x0227, 0x0233),
    (0x0259, 0x0259),  # IPA: schwa, i with stroke, ezh
    (0x0268, 0x0268),
    (0x0292, 0x0292),
    (0x02B9, 0x02BA),  # modifier letters: primes, half rings, stress marks
    (0x02BE, 0x02BF),
    (0x02C8, 0x02C8),
    (0x02CC, 0x02CC),
    (0x1E02, 0x1E03),  # Latin Extended Additional, as far as DIN 91379 takes it
    (0x1E06, 0x1E07),
    (0x1E0A, 0x1E11),
    (0x1E17, 0x1E17),
    (0x1E1C, 0x1E2B),
    (0x1E2F, 0x1E37),
    (0x1E3A, 0x1E3B),
    (0x1E40, 0x1E49),
    (0x1E52, 0x1E5B),
    (0x1E5E, 0x1E63),
    (0x1E6A, 0x1E6F),
    (0x1E80, 0x1E87),
    (0x1E8C, 0x1E97),
    (0x1E9E, 0x1E9E),  # capital sharp s
    (0x1EA0, 0x1EF9),
    (0x2019, 0x2019),  # right single quotation mark (typographic apostrophe)
    (0x2021, 0x2021),  # double dagger
    (0x20AC, 0x20AC),  # euro sign
)

# Letters that Unicode has no precomposed form for: base letter -> the combining marks it may
# carry. Upper and lower case differ (H has a macron below, h has not), so both are listed.
_SEQUENCES: dict[str, tuple[str, ...]] = {
    "A": ("\u030b",),
    "C": ("\u0300", "\u0304", "\u0306", "\u0308", "\u0315", "\u0323", "\u0326", "\u0328\u0306"),
    "D": ("\u0302",),
    "F": ("\u0300", "\u0304"),
    "G": ("\u0300",),
    "H": ("\u0304", "\u0326", "\u0331"),
    "J": ("\u0301", "\u030c"),
    "K": (
        "\u0300",
        "\u0302",
        "\u0304",
        "\u0307",
        "\u0315",
        "\u031b",
        "\u0326",
        "\u035fH",
        "\u035fh",
    ),
    "L": ("\u0302", "\u0325", "\u0325\u0304", "\u0326"),
    "M": ("\u0300", "\u0302", "\u0306", "\u0310"),
    "N": ("\u0302", "\u0304", "\u0306", "\u0326"),
    "P": ("\u0300", "\u0304", "\u0315", "\u0323"),
    "R": ("\u0306", "\u0325", "\u0325\u0304"),
    "S": ("\u0300", "\u0304", "\u031b\u0304", "\u0331"),
    "T": ("\u0300", "\u0304", "\u0308", "\u0315", "\u031b"),
    "U": ("\u0307",),
    "Z": ("\u0300", "\u0304", "\u0306", "\u0308", "\u0327"),
    "a": ("\u030b",),
    "c": ("\u0300", "\u0304", "\u0306", "\u0308", "\u0315", "\u0323", "\u0326", "\u0328\u0306"),
    "d": ("\u0302",),
    "f": ("\u0300", "\u0304"),
    "g": ("\u0300",),
    "h": ("\u0304", "\u0326"),
    "j": ("\u0301",),
    "k": ("\u0300", "\u0302", "\u0304", "\u0307", "\u0315", "\u031b", "\u0326", "\u035fh"),
    "l": ("\u0302", "\u0325", "\u0325\u0304", "\u0326"),
    "m": ("\u0300", "\u0302", "\u0306", "\u0310"),
    "n": ("\u0302", "\u0304", "\u0306", "\u0326"),
    "p": ("\u0300", "\u0304", "\u0315", "\u0323"),
    "r": ("\u0306", "\u0325", "\u0325\u0304"),
    "s": ("\u0300", "\u0304", "\u031b\u0304", "\u0331"),
    "t": ("\u0300", "\u0304", "\u0315", "\u031b"),
    "u": ("\u0307",),
    "z": ("\u0300", "\u0304", "\u0306", "\u0308", "\u0327"),
    "\u00c7": ("\u0306",),  # Ç
    "\u00db": ("\u0304",),  # Û
    "\u00e7": ("\u0306",),  # ç
    "\u00fb": ("\u0304",),  # û
    "\u00ff": ("\u0301",),  # ÿ
    "\u010c": ("\u0315", "\u0323"),  # Č
    "\u010d": ("\u0315", "\u0323"),  # č
    "\u0113": ("\u030d",),  # ē
    "\u012a": ("\u0301",),  # Ī
    "\u012b": ("\u0301",),  # ī
    "\u014d": ("\u030d",),  # ō
    "\u017d": ("\u0326", "\u0327"),  # Ž
    "\u017e": ("\u0326", "\u0327"),  # ž
    "\u1e32": ("\u0304",),  # Ḳ
    "\u1e33": ("\u0304",),  # ḳ
    "\u1e62": ("\u0304",),  # Ṣ
    "\u1e63": ("\u0304",),  # ṣ
    "\u1e6c": ("\u0304",),  # Ṭ
    "\u1e6d": ("\u0304",),  # ṭ
    "\u1ea0": ("\u0308",),  # Ạ
    "\u1ea1": ("\u0308",),  # ạ
    "\u1ecc": ("\u0308",),  # Ọ
    "\u1ecd": ("\u0308",),  # ọ
    "\u1ee4": ("\u0304", "\u0308"),  # Ụ
    "\u1ee5": ("\u0304", "\u0308"),  # ụ
}


def _compile() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The whole datatypeC pattern, and its single characters alone."""
    sequences = sorted(
        (base + marks for base, options in _SEQUENCES.items() for marks in options),
        key=len,
        reverse=True,  # the longest sequence first, so "L̥̄" is not read as "L̥" + a stray mark
    )
    singles = "".join(
        re.escape(chr(low)) if low == high else f"{re.escape(chr(low))}-{re.escape(chr(high))}"
        for low, high in _RANGES
    )
    units = "|".join([*map(re.escape, sequences), f"[{singles}]"])
    # Greedy is exact here: a combining mark is never allowed on its own, so taking the longest
    # sequence at each step can only ever reach further into the text than a shorter choice.
    return re.compile(f"(?:{units})*"), re.compile(f"[{singles}]*")


# A text of single characters only (no combining mark: an NFC text, as a rule) is matched by
# one character class, far faster than trying every sequence at every position; the whole
# pattern finds the rest.
_ALLOWED_PREFIX, _ALLOWED_SINGLES = _compile()


class DisallowedCharacter(ValueError):
    """A text holds a character that DIN 91379 datatypeC does not allow."""

    def __init__(self, char: str, position: int) -> None:
        super().__init__(char, position)
        self.char = char
        self.position = position

    @property
    def codepoint(self) -> str:
        """The code point in Unicode notation, e.g. "U+041E"."""
        return f"U+{ord(self.char):04X}"

    @property
    def unicode_name(self) -> str:
        """The Unicode character name, e.g. "CYRILLIC CAPITAL LETTER O" ("" if it has none)."""
        return unicodedata.name(self.char, "")

    def __str__(self) -> str:
        described = " ".join(filter(None, (self.codepoint, self.unicode_name)))
        return f"{described} at position {self.position}"


def _first_disallowed_position(text: str) -> int | None:
    # Printable ASCII (U+0020-U+007E) is all in datatypeC, and most names and addresses are
    # nothing else: a string test is cheaper than the pattern.
    if (text.isascii() and text.isprintable()) or _ALLOWED_SINGLES.fullmatch(text):
        return None
    end = _ALLOWED_PREFIX.match(text)
    position = end.end() if end else 0
    return None if position == len(text) else position


def first_disallowed(text: str) -> str | None:
    """The first character of `text` that datatypeC does not allow, or None if all are allowed.

    Pass normalize()d text: datatypeC wants composed letters, so a decomposed "a" + U+0308
    reports the combining diaeresis where the composed "ä" passes.
    """
    position = _first_disallowed_position(text)
    return None if position is None else text[position]


def check_name(text: str) -> None:
    """Raise DisallowedCharacter for the first character of `text` that datatypeC does not allow."""
    position = _first_disallowed_position(text)
    if position is not None:
        raise DisallowedCharacter(text[position], position)


def normalize(text: str) -> str:
    """NFC-compose `text`, trim it and collapse every run of whitespace to one space."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def ascii_digits(text: str) -> str:
    """`text` with the decimal digits of every script (Arabic-Indic "١٢", Persian "۱۲", ...)
    written as 0-9, as the standard's numeric fields need them; other characters unchanged."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(char)) if char.isdecimal() else char for char in text)


# Categories no text may hold: controls, format characters (invisible; bidi overrides),
# lone surrogates (not encodable), private use and unassigned code points. The zero-width
# (non-)joiners are kept: Persian and Arabic spellings need them.
_UNUSABLE = frozenset(("Cc", "Cf", "Cs", "Co", "Cn"))
_JOINERS = frozenset("\u200c\u200d")


def first_unusable(text: str) -> str | None:
    """The first character no stored text may hold (see _UNUSABLE), or None."""
    if text.isascii() and text.isprintable():
        return None
    return next(
        (c for c in text if unicodedata.category(c) in _UNUSABLE and c not in _JOINERS), None
    )


def shown(char: str) -> str:
    """A character as an error message can show it: itself, or its code point if invisible."""
    return char if char.isprintable() and not char.isspace() else f"U+{ord(char):04X}"
