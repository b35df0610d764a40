"""Languages: the allow-list, the choice for a request, and the text direction."""

from __future__ import annotations

from flask import g, request

LANGUAGES = ("de", "en", "uk", "ru", "ar", "fa")
DEFAULT_LANGUAGE = "en"
RIGHT_TO_LEFT = frozenset({"ar", "fa"})


def select_locale() -> str:
    """The language from the URL, then the cookie, then the browser's preference."""
    from_url = g.get("lang") or (request.view_args or {}).get("lang")
    if from_url in LANGUAGES:
        return str(from_url)
    from_cookie = request.cookies.get("lang")
    if from_cookie in LANGUAGES:
        return str(from_cookie)
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


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
