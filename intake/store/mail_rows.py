"""Mails owed to applicants as rows: what each needs, encrypted; the e-mail blind index.

A mail row is written in the transaction that makes the mail owed (a registration, a new
status link), so a crash can neither lose it nor send it without the change it reports.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from intake.security.crypto import FieldCipher
from intake.store import models

CONFIRMATION = "confirmation"  # a registration was received: its reference and status link
LOST_LINK = "lost-link"  # a fresh status link, asked for on the lost-link page

# RFC 5321: a path holds at most 256 octets, an address (without the brackets) 254.
_LONGEST_ADDRESS = 254


def email_index(cipher: FieldCipher, address: str | None) -> str | None:
    """The blind index of an e-mail address as people type it (case, spaces, Unicode forms
    aside); None for a text that cannot be an address, so nothing is looked up for it."""
    if not address:
        return None
    normalized = unicodedata.normalize("NFKC", address).strip().lower()
    local, at, domain = normalized.rpartition("@")
    if not (local and at and domain) or len(normalized) > _LONGEST_ADDRESS:
        return None
    try:
        normalized.encode()
    except UnicodeEncodeError:  # a lone surrogate, as a crafted form can send
        return None
    return cipher.blind_index(f"email|{normalized}")


def owed(cipher: FieldCipher, registration_id: str, kind: str, status_token: str) -> dict[str, Any]:
    """A mail row carrying the status token, which the registration keeps only as a hash."""
    mail_id = models.new_id()
    return {
        "id": mail_id,
        "registration_id": registration_id,
        "kind": kind,
        "data": cipher.encrypt(json.dumps({"token": status_token}), context(mail_id)),
        "created_at": models.utcnow(),
    }


def carried(cipher: FieldCipher, mail_id: str, data: str) -> dict[str, Any]:
    """What a mail row carries: {"token": the status token}."""
    found: dict[str, Any] = json.loads(cipher.decrypt(data, context(mail_id)))
    return found


def context(mail_id: str) -> str:
    """Associated data of a mail row's `data`: a value copied to another row does not open."""
    return f"mail:{mail_id}:data"
