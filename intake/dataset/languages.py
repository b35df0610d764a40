"""Languages: the allow-list, their names in themselves, and the text direction."""

from __future__ import annotations

LANGUAGES = ("de", "en", "uk", "ru", "ar", "fa")
DEFAULT_LANGUAGE = "en"
RIGHT_TO_LEFT = frozenset({"ar", "fa"})


def direction(language: str) -> str:
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"


# Each language's name in itself, for the language menu.
NATIVE_NAMES = {
    "de": "Deutsch",
    "en": "English",
    "uk": "Українська",
    "ru": "Русский",
    "ar": "العربية",
    "fa": "فارسی",
}
