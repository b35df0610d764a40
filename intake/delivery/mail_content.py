"""What a mail to an applicant says, in the registration's language: the subject, the plain
text and the HTML, and for a booked appointment its calendar file.

Each kind of mail has one template, mail/<kind>.txt (extending mail/base.txt), which says
each sentence once through the macros `m`. It is rendered twice: with the macros of
mail/_text.txt, which write plain text, and with those of mail/_html.html, which escape
what they are given and write it as HTML. So the two parts cannot drift apart.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, has_app_context, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from intake.config import Settings
from intake.dataset import domain
from intake.delivery.mail_transport import Content
from intake.store import mail_rows

_PARTS = ("mail/_text.txt", "mail/_html.html")  # the plain text first, as the mail has it
_SUBJECTS = {
    mail_rows.CONFIRMATION: _l("We have received your registration %(reference)s"),
    mail_rows.LOST_LINK: _l("Your new status link for registration %(reference)s"),
}


@dataclass(frozen=True)
class Letter:
    """A mail as its row and registration have it when it is sent."""

    kind: str
    language: str
    reference: str
    authority: domain.Authority
    carried: dict[str, Any]  # what the row carried (mail_rows.carried): the status token


def render(settings: Settings, letter: Letter) -> Content:
    """The subject, text and HTML of a mail, in the registration's language."""
    values = _values(settings, letter)
    with _app(settings).app_context(), force_locale(letter.language):
        subject = str(_SUBJECTS[letter.kind]) % {"reference": letter.reference}
        text, html = (
            render_template(f"mail/{letter.kind}.txt", m=_macros(part), subject=subject,
                            **values)
            for part in _PARTS
        )
    return Content(subject, text, html)


def _values(settings: Settings, letter: Letter) -> dict[str, Any]:
    """What the templates say, from the letter."""
    token = letter.carried.get("token")
    return {
        "reference": letter.reference,
        "link": f"{site(settings)}/s/{token}" if token else None,  # the route of public.status
    }


def _macros(template: str) -> Any:
    """The macros of one part (mail/_text.txt or mail/_html.html), as a module."""
    return current_app.jinja_env.get_template(template).module


def site(settings: Settings) -> str:
    """The base of links in mails: INTAKE_PUBLIC_URL (a worker has no request to take the
    host from); in development, the web server's own address."""
    return (settings.public_url or f"http://{settings.bind}").rstrip("/")


def _app(settings: Settings) -> Flask:
    """The app whose templates and catalogs render mails: the process's own (the worker's
    command runs in its app), else one made for rendering."""
    if has_app_context():
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        return app
    return _made_app(settings)


@functools.cache
def _made_app(settings: Settings) -> Flask:
    from intake import create_app  # the app package sits above delivery

    return create_app(settings)
