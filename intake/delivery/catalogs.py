"""The Flask app whose templates and catalogs a worker's texts are said through (mails, the
application summary): the process's own, else one made for it once."""

from __future__ import annotations

import functools

from flask import Flask, current_app, has_app_context

from intake.config import Settings


def app_for(settings: Settings) -> Flask:
    """The app to render with: the process's own (the worker's command runs in its app),
    else one made for rendering."""
    if has_app_context():
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        return app
    return _made_app(settings)


@functools.cache
def _made_app(settings: Settings) -> Flask:
    from intake import create_app  # the app package sits above delivery

    return create_app(settings)
