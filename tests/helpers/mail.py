"""Mails as the loopback server received them: settings that send there, and their parts."""

from __future__ import annotations

import dataclasses
import re
import zlib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from flask_babel import force_locale, gettext

from intake.config import Settings

STATUS_LINK = re.compile(r"http://\S+/s/[A-Za-z0-9_-]+")


def sending_to(settings: Settings, smtp_server: Any) -> Settings:
    """`settings` with mail going to the loopback server (tests/helpers/smtp.py)."""
    return dataclasses.replace(settings, smtp_url=smtp_server.url,
                               smtp_ca_file=smtp_server.ca_file)


def in_language(app: Any, language: str, text: str, **values: Any) -> str:
    """A text as the catalog of `language` has it (whether translated yet or not)."""
    with app.app_context(), force_locale(language):
        return str(gettext(text, **values))


def translated(app: Any, language: str, text: str) -> str:
    """A text as the catalog of `language` has it, and it has it: not the English."""
    found = in_language(app, language, text)
    assert found != text
    return found


@dataclass(frozen=True)
class Parts:
    """A mail's plain text, its HTML and its calendar file (None when it has none)."""

    text: str
    html: str
    calendar: EmailMessage | None


def parts(message: EmailMessage) -> Parts:
    """The parts of a mail, checked to be laid out as mail programs expect: text and HTML as
    alternatives, the plain text first (the last is the one preferred), then an attachment."""
    alternative = message
    calendar = None
    if message.get_content_type() == "multipart/mixed":
        alternative, calendar = message.iter_parts()  # type: ignore[assignment]
    assert alternative.get_content_type() == "multipart/alternative"
    text, html = alternative.iter_parts()
    assert text.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    return Parts(text.get_content(), html.get_content(), calendar)  # type: ignore[attr-defined,arg-type]


def redis_bytes(runtime: Any) -> bytes:
    """Every string and hash value in Redis, rq's compressed job data opened."""
    found = []
    for key in runtime.redis.scan_iter():
        kind = runtime.redis.type(key)
        values = (runtime.redis.hvals(key) if kind == b"hash"
                  else [runtime.redis.get(key)] if kind == b"string" else [])
        for value in values:
            try:
                found.append(zlib.decompress(value))
            except zlib.error:
                found.append(value)
    return b"\n".join(found)
