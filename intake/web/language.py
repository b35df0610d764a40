"""The language in the URL (`/uk/...`): checked against the allow-list, remembered in a cookie."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, request
from werkzeug.wrappers import Response

from intake.dataset.languages import DEFAULT_LANGUAGE, LANGUAGES

COOKIE_AGE = 365 * 24 * 3600


def bind_language_to(bp: Blueprint) -> None:
    """Routes of `bp` take the language from their `<lang>` part and pass it on in links."""

    @bp.url_value_preprocessor
    def pull(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        lang = (values or {}).pop("lang", None)
        if lang not in LANGUAGES:
            abort(404)
        g.lang = lang

    @bp.url_defaults
    def push(endpoint: str, values: dict[str, Any]) -> None:
        if "lang" not in values and "lang" in g:
            values["lang"] = g.lang

    @bp.after_request
    def remember(response: Response) -> Response:
        lang = g.get("lang")
        if lang and request.cookies.get("lang") != lang:
            response.set_cookie(
                "lang", lang, max_age=COOKIE_AGE, samesite="Lax", httponly=True,
                secure=request.is_secure,
            )
        return response


def select_locale() -> str:
    """The language from the URL, then the cookie, then the browser's preference."""
    from_url = g.get("lang") or (request.view_args or {}).get("lang")
    if from_url in LANGUAGES:
        return str(from_url)
    from_cookie = request.cookies.get("lang")
    if from_cookie in LANGUAGES:
        return str(from_cookie)
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE
