"""Latin spellings proposed from Cyrillic names, for the person to confirm against the passport.

Ukrainian follows the national table of Cabinet of Ministers resolution No. 55 of 27 January
2010 (word-initial Ye, Yi, Y, Yu, Ya; "зг" as "zgh"; apostrophe and soft sign dropped). Russian
and Belarusian follow the Cyrillic table of ICAO Doc 9303 Part 3, which is what their passports
print. The tables and the engine come from `translitua`, which implements the 2010 resolution
and ICAO's Russian column; ICAO's Belarusian column is that Russian column with the exceptions
ICAO lists for Belarusian, stated below. This module adds what a name needs on top: one word at
a time, so that a word written in capitals stays in capitals ("ЩЕРБАК Олена" gives
"SHCHERBAK Olena", where the library alone would give "ShchERBAK").

A proposal is only a proposal: passports may spell a name differently (an older table, a
spelling the holder asked for), which is why the person confirms it.
"""

from __future__ import annotations

import re

from translitua import RussianICAO, TransliterationTable, UkrainianKMU, translit

from intake.dataset import names

LANGUAGES = ("uk", "ru", "be")

# The letters of each alphabet (lower case); they decide which languages can spell a name.
_ALPHABETS = {
    "uk": frozenset("абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"),
    "ru": frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюя"),
    "be": frozenset("абвгдеёжзійклмнопрстуўфхцчшыьэюя"),
}

# ICAO Doc 9303 Part 3 gives Belarusian its own values for these letters (Г as H, Ё as IO) and
# adds the letters Russian lacks.
_BELARUSIAN_EXCEPTIONS = {"г": "h", "ё": "io", "і": "i", "ў": "u"}
_APOSTROPHES = "'\u2019\u02bc"


class _BelarusianICAO:
    """ICAO Doc 9303 Part 3, Belarusian, as a translitua table."""

    # Plain class attributes, as translitua's TransliterationTable protocol declares them.
    MAIN_TRANSLIT_TABLE: dict[int, str] = {
        **RussianICAO.MAIN_TRANSLIT_TABLE,
        **{ord(cyr): lat for cyr, lat in _BELARUSIAN_EXCEPTIONS.items()},
        **{ord(cyr.upper()): lat.capitalize() for cyr, lat in _BELARUSIAN_EXCEPTIONS.items()},
    }
    # The Belarusian apostrophe only separates sounds; ICAO has no Latin letter for it.
    DELETE_PATTERN: re.Pattern[str] = re.compile(f"[{_APOSTROPHES}]")


_TABLES: dict[str, type[TransliterationTable]] = {
    "uk": UkrainianKMU,
    "ru": RussianICAO,
    "be": _BelarusianICAO,
}

# A word: letters, possibly joined by apostrophes ("Мар'їне"). Hyphens and spaces end a word,
# so each part of "Анна-Юлія" gets its word-initial forms.
_WORD = re.compile(f"[^\\W\\d_]+(?:[{_APOSTROPHES}][^\\W\\d_]+)*")


def guess_language(text: str, preferred: str | None = None) -> str | None:
    """The language whose alphabet spells the Cyrillic letters of `text`, or None if none does.

    Where several alphabets can ("Олена"), `preferred` wins if it is one of them, then Ukrainian,
    Russian, Belarusian in that order: most people registering here with a Cyrillic name hold
    a Ukrainian passport. Better than any letter test is the issuing country of the passport,
    so callers that know it pass its language as `preferred`.
    """
    letters = {char for char in text.lower() if "\u0400" <= char <= "\u04ff"}
    if not letters:
        return None
    order = ([preferred] if preferred in LANGUAGES else []) + list(LANGUAGES)
    return next((lang for lang in order if letters <= _ALPHABETS[lang]), None)


def propose_latin(text: str, language: str | None = None) -> str | None:
    """A Latin spelling of `text` that passes the DIN 91379 check, or None if there is none.

    `language` is "uk", "ru" or "be"; None guesses it with guess_language(). The result keeps
    the capitalisation of each word, including words written in capitals.
    """
    if language is None:
        language = guess_language(text)
        if language is None:
            return None
    if language not in _TABLES:
        raise ValueError(f"no transliteration for language {language!r}")
    table = _TABLES[language]

    def word(match: re.Match[str]) -> str:
        source = match.group()
        latin = translit(source, table, preserve_case=False)
        # One capital alone is an initial ("Ю." is "Yu."), two or more are a word in capitals.
        capitals = sum(char.isupper() for char in source)
        return latin.upper() if capitals > 1 and source.isupper() else latin

    proposal = _WORD.sub(word, names.normalize(text))
    return proposal if names.first_disallowed(proposal) is None else None
