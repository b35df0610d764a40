"""The start page of a first visit, rendered once.

Thousands open the link in the same minute, and every first visit's start page is the same
but for its form token: rendered once per app, site root and language, the token put in per
visit (docs/design.md).
"""

from __future__ import annotations

from flask import current_app, g, render_template, request
from flask_wtf.csrf import generate_csrf
from markupsafe import escape

_PLACEHOLDER = "form-token-placeholder"
FIRST_VISIT_PAGES = "first_visit_pages"  # in app.extensions: (site root, language) -> page
_KEPT_PAGES = 64


def start_page() -> str:
    """The start page with this visit's form token."""
    return _rendered().replace(_PLACEHOLDER, str(escape(generate_csrf())))


def _rendered() -> str:
    pages: dict[tuple[str, str], str] = current_app.extensions.setdefault(FIRST_VISIT_PAGES, {})
    key = (request.script_root, g.lang)
    page = pages.get(key)
    if page is None:  # two threads may both render it once: the same page either way
        page = render_template(
            "steps/start.html", errors={}, who=None, notice=None, csrf_token=lambda: _PLACEHOLDER
        )
        # A trusted proxy may pass a site root (SCRIPT_NAME) along: never keep pages unbounded.
        if len(pages) < _KEPT_PAGES:
            pages[key] = page
    return page


