"""What a mail to an applicant says, in the registration's language: the subject, the plain
text and the HTML, and for a booked appointment its calendar file.

Each kind of mail has one template, mail/<kind>.txt (extending mail/base.txt), which says
each sentence once through the macros `m`. It is rendered twice: with the macros of
mail/_text.txt, which write plain text, and with those of mail/_html.html, which escape
what they are given and write it as HTML. So the two parts cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from intake.config import Settings
from intake.dataset import domain
from intake.delivery import invitation
from intake.delivery.catalogs import app_for
from intake.delivery.mail_transport import CALENDAR_METHOD, Content
from intake.store import mail_rows

_PARTS = ("mail/_text.txt", "mail/_html.html")  # the plain text first, as the mail has it
_SUBJECTS = {
    mail_rows.CONFIRMATION: _l("We have received your registration %(reference)s"),
    mail_rows.LOST_LINK: _l("Your new status link for registration %(reference)s"),
    mail_rows.BOOKING: _l("Your appointment for registration %(reference)s"),
    mail_rows.REBOOKING: _l("Your new appointment for registration %(reference)s"),
    mail_rows.CANCELLATION: _l("Your appointment for registration %(reference)s is cancelled"),
}
_WITH_CALENDAR = (mail_rows.BOOKING, mail_rows.REBOOKING)


@dataclass(frozen=True)
class Letter:
    """A mail as its row and registration have it when it is sent."""

    kind: str
    language: str
    reference: str
    authority: domain.Authority
    # What the row carried (mail_rows.carried): the status token, if any; an appointment's
    # times (ISO 8601) and seats.
    carried: dict[str, Any]
    # Whether its authority has opening hours, so that appointments are booked here (else
    # the authority contacts the household: the mail must not send it looking for slots).
    books_online: bool


def render(settings: Settings, letter: Letter, now: dt.datetime) -> Content:
    """The subject, text and HTML of a mail, in the registration's language; for a booked
    appointment, its calendar file too (stamped `now`)."""
    values = _values(settings, letter)
    with app_for(settings).app_context(), force_locale(letter.language):
        subject = str(_SUBJECTS[letter.kind]) % {"reference": letter.reference}
        text, html = (
            render_template(f"mail/{letter.kind}.txt", m=_macros(part), subject=subject,
                            **values)
            for part in _PARTS
        )
        calendar = None
        if letter.kind in _WITH_CALENDAR:
            calendar = invitation.appointment_file(
                letter.reference, letter.authority, values["starts_at"], values["ends_at"],
                stamp=now, booked_at=values["booked_at"], method=CALENDAR_METHOD,
            )
    return Content(subject, text, html, calendar)


def _values(settings: Settings, letter: Letter) -> dict[str, Any]:
    """What the templates say, from the letter."""
    carried, base = letter.carried, site(settings)
    token = carried.get("token")
    values: dict[str, Any] = {
        "reference": letter.reference,
        "link": f"{base}/s/{token}" if token else None,  # the route of public.status
        "lost_link": f"{base}/{letter.language}/lost-link",  # the route of lost_link.ask
        "place": invitation.place(letter.authority),
        "authority": letter.authority,
        "books_online": letter.books_online,
    }
    if "starts_at" in carried:
        values.update(
            starts_at=dt.datetime.fromisoformat(carried["starts_at"]),
            ends_at=dt.datetime.fromisoformat(carried["ends_at"]),
            booked_at=_moment(carried.get("booked_at")),
            seats=carried["seats"],
        )
    return values


def _moment(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _macros(template: str) -> Any:
    """The macros of one part (mail/_text.txt or mail/_html.html), as a module."""
    return current_app.jinja_env.get_template(template).module


def site(settings: Settings) -> str:
    """The base of links in mails: INTAKE_PUBLIC_URL (a worker has no request to take the
    host from); in development, the web server's own address."""
    return (settings.public_url or f"http://{settings.bind}").rstrip("/")
