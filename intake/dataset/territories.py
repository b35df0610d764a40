"""Countries: which ISO 3166-1 alpha-2 codes the service accepts, and their localized names."""

from __future__ import annotations

from functools import cache

from babel import Locale

from intake.xaus.codes import NATIONALITY_KEYS


def is_country(code: object) -> bool:
    """A country the authorities' code lists know (Destatis nationality keys)."""
    return isinstance(code, str) and code in NATIONALITY_KEYS


@cache
def choices(language: str) -> tuple[tuple[str, str], ...]:
    """(code, name) pairs sorted by their name in `language`, names from CLDR."""
    names = Locale.parse(language).territories
    pairs = ((code, names.get(code, code)) for code in NATIONALITY_KEYS)
    return tuple(sorted(pairs, key=lambda pair: pair[1]))
