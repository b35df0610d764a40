"""Countries: which ISO 3166-1 alpha-2 codes the service accepts, and their localized names."""

from __future__ import annotations

from functools import cache

from babel import Locale
from pyuca import Collator

from intake.xaus.codes import NATIONALITY_KEYS


def is_country(code: object) -> bool:
    """A country the authorities' code lists know (Destatis nationality keys)."""
    return isinstance(code, str) and code in NATIONALITY_KEYS


@cache
def _collator() -> Collator:
    """The Unicode Collation Algorithm with its default table (0.1 s to load, once)."""
    return Collator()


@cache
def choices(language: str) -> tuple[tuple[str, str], ...]:
    """(code, name) pairs in the order a reader of `language` expects, names from CLDR.

    Sorted by the Unicode Collation Algorithm, not by code point, which put Ägypten and
    Österreich after Zypern and Єгипет before Австрія. Its default order is each of our six
    languages' alphabetical order for these names, so no tailoring (and no ICU) is needed.
    """
    names = Locale.parse(language).territories
    pairs = ((code, names.get(code, code)) for code in NATIONALITY_KEYS)
    return tuple(sorted(pairs, key=lambda pair: _collator().sort_key(pair[1])))
