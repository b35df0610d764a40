"""Every error answer: JSON under /api/, a page in the visitor's language everywhere else.

A page says what happened in plain words and offers a way on (the start page, the desk for
staff), with the site's header and its language links, instead of Werkzeug's English text.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, InternalServerError

# What an API client is told, by status.
_API_ERRORS = {
    400: _l("The request could not be read."),
    404: _l("Not found."),
    405: _l("This method is not allowed here."),
    413: _l("The request is too large."),
    415: _l("Send JSON, with the header Content-Type: application/json."),
    500: _l("Something went wrong on our side; nothing was stored. Please try again."),
}

# What a person is told, by status: a heading and what to do now.
_PAGES = {
    400: (_l("This request could not be read"),
          _l("Something in what the browser sent was not right. Go back and try again.")),
    403: (_l("You cannot open this page"),
          _l("Staff: sign in with an account that may open it.")),
    404: (_l("Page not found"),
          _l("If you typed the address, check it. If you followed your status link, it may "
             "have been deleted with your data.")),
    405: (_l("This page cannot be opened this way"),
          _l("Go back to the previous page, or start from the beginning. Nothing you sent "
             "before is lost.")),
    410: (_l("This page is no longer available"),
          _l("What it showed has been deleted.")),
    413: (_l("What you sent is too large"),
          _l("Go back and send less, for example a smaller photo.")),
    429: (_l("Too many attempts"),
          _l("Please wait a minute, then try again.")),
    500: (_l("Sorry, something went wrong on our side"),
          _l("Please try again in a few minutes. If you were registering, check your status "
             "link or ask at a reception centre before you send it again.")),
}


def _page(code: int) -> tuple[Any, Any]:
    return _PAGES.get(code) or (_PAGES[500] if code >= 500 else _PAGES[400])


def http_error(error: HTTPException) -> Any:
    code = error.code or 500
    response: Response | str
    if request.path.startswith("/api/"):
        message = _API_ERRORS.get(code)
        response = jsonify({"error": str(message) if message else error.name})
    else:
        title, advice = _page(code)
        # A status link that opens nothing may be an old one: a new one is a click away.
        response = render_template("error.html", title=title, advice=advice,
                                   staff=g.get("staff"), lost_link=code == 404)
    headers = [(name, value) for name, value in error.get_headers()
               if name.lower() != "content-type"]  # Allow on a 405, Retry-After on a 429
    return response, code, headers


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_error)
    # An unhandled exception reaches Flask as InternalServerError (its cause logged by Flask).
    app.register_error_handler(InternalServerError, http_error)
