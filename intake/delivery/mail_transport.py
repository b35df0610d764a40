"""Mail out of the service: built with the standard library, handed to the configured SMTP
server (INTAKE_SMTP_URL), or written to instance/mail/ where none is configured.

Nothing here logs an address or a body, nor puts one in an exception's message.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from urllib.parse import unquote, urlsplit

from intake.config import Settings
from intake.store import models

TIMEOUT = 30.0  # seconds for each step of talking to the server
# A calendar file attached to a mail is published, not an invitation: REQUEST (RFC 5546)
# needs an ORGANIZER and ATTENDEEs, and mail programs then offer to accept or decline,
# which would answer our no-reply address. PUBLISH is imported as it is, and a later file
# with the same UID and a higher SEQUENCE moves the entry.
CALENDAR_METHOD = "PUBLISH"


class Refused(RuntimeError):
    """The server refused the recipient for good: retrying would not help."""


@dataclass(frozen=True)
class Content:
    """What a mail says: its subject, the text, the same text as HTML, and a calendar file
    to attach (made with CALENDAR_METHOD)."""

    subject: str
    text: str
    html: str
    calendar: bytes | None = None


def compose(
    settings: Settings, to: str, content: Content, mail_id: str, language: str
) -> EmailMessage:
    """A UTF-8 mail from this service (INTAKE_SENDER_NAME / _EMAIL), in `language`: the plain
    text and the HTML as alternatives (text first: mail programs show the last they can),
    and the calendar file, if any, attached beside them.

    The Message-ID is the mail row's: should a mail ever go out twice (a server's reply lost
    after it took the mail), mail programs show it once.
    """
    message = EmailMessage()
    message["From"] = formataddr((settings.sender_name, settings.sender_email))
    message["To"] = to
    message["Subject"] = content.subject
    message["Date"] = format_datetime(models.utcnow())
    domain = settings.sender_email.rpartition("@")[2] or "intake.invalid"
    message["Message-ID"] = f"<{mail_id}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to it
    message.set_content(content.text, charset="utf-8")
    message.add_alternative(content.html, subtype="html", charset="utf-8")
    if content.calendar is not None:
        # As bytes (base64): the file's CRLF line ends arrive as it was made.
        message.add_attachment(
            content.calendar, maintype="text", subtype="calendar", filename="appointment.ics",
            params={"method": CALENDAR_METHOD, "charset": "utf-8"},
        )
    # After the content, which moves every Content-* header into the parts (RFC 3282: for
    # screen readers).
    message["Content-Language"] = language
    return message


def deliver(settings: Settings, message: EmailMessage, name: str) -> None:
    """Hand a mail to the SMTP server, or write it to instance/mail/<name>.eml (0600).

    Returns once the server has taken the mail; raises Refused when it refused the recipient
    for good, and smtplib's or the socket's error when it may take it later.
    """
    if settings.smtp_url is None:
        _write(settings.instance_dir / "mail", message, name)
        return
    url = urlsplit(settings.smtp_url)
    host = url.hostname or "localhost"
    context = ssl.create_default_context(
        cafile=str(settings.smtp_ca_file) if settings.smtp_ca_file else None
    )
    server: smtplib.SMTP
    if url.scheme == "smtps":
        server = smtplib.SMTP_SSL(host, url.port or 465, timeout=TIMEOUT, context=context)
    else:
        server = smtplib.SMTP(host, url.port or 587, timeout=TIMEOUT)
    try:
        if url.scheme != "smtps":
            server.starttls(context=context)  # never in the clear: it would carry the address
        if url.username:
            server.login(unquote(url.username), unquote(url.password or ""))
        try:
            server.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _text in error.recipients.values()]
            if all(500 <= code < 600 for code in codes):
                raise Refused(f"recipient refused ({', '.join(map(str, codes))})") from None
            raise
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):  # the mail is taken already
            server.quit()


def _write(folder: Path, message: EmailMessage, name: str) -> None:
    """Write a mail whole (aside, then renamed), readable by this user only."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.eml"
    aside = folder / f".{name}.eml.part"
    descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(message.as_bytes())
        file.flush()
        os.fsync(file.fileno())
    aside.replace(target)
